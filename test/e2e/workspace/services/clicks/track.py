"""The clicks service: every page view goes to a Redis stream."""
import json

import redis

r = redis.Redis.from_url("redis://localhost:6379")


def track(page, user):
    r.xadd("clicks.e2e", {"data": json.dumps({"page": page, "user": user})})
