#!/usr/bin/env bash
# A real redis-server (Debian's package) on a free loopback port, without persistence.
#   redis.sh start <stateDir>  -> prints redis://127.0.0.1:<port> as its last line (idempotent)
#   redis.sh stop  <stateDir>  -> stops it by process id (no-op when not running)
#   redis.sh url   <stateDir>  -> prints the URL of the running server
# The port is kept in <stateDir>/port so that a restart after `stop` comes back on the same address.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
source "$here/common.sh"

usage() { echo "usage: redis.sh start|stop|url <stateDir>" >&2; exit 2; }
[ $# -ge 2 ] || usage
action=$1
mkdir -p "$2"
state=$(cd "$2" && pwd)
pidfile="$state/redis.pid"
portfile="$state/port"

ensure_installed() {
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    echo "redis-server not found: installing Debian's redis-server and redis-tools" >&2
    bash "$here/../apt-install" redis-server redis-tools
  fi
  # The Redis integration tests make a throwaway TLS certificate with it.
  if ! command -v openssl >/dev/null 2>&1; then
    bash "$here/../apt-install" openssl
  fi
}

ping_ok() {
  [ "$(redis-cli -h 127.0.0.1 -p "$1" --no-auth-warning PING 2>/dev/null || true)" = "PONG" ]
}

start() {
  ensure_installed
  if pid=$(running_pid); then
    echo "redis already running (pid $pid)" >&2
    echo "redis://127.0.0.1:$(cat "$portfile")"
    return 0
  fi
  local port
  if [ -s "$portfile" ]; then port=$(cat "$portfile"); else port=$(free_port); echo "$port" > "$portfile"; fi
  mkdir -p "$state/data"
  rm -f "$pidfile"
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
    --daemonize yes --pidfile "$pidfile" --logfile "$state/redis.log" --dir "$state/data" >&2
  for _ in $(seq 1 100); do
    if ping_ok "$port"; then
      echo "redis started on port $port (pid $(cat "$pidfile" 2>/dev/null || echo '?'))" >&2
      echo "redis://127.0.0.1:$port"
      return 0
    fi
    sleep 0.1
  done
  echo "redis-server did not answer PING on 127.0.0.1:$port within 10 s. See $state/redis.log:" >&2
  tail -n 20 "$state/redis.log" >&2 || true
  exit 1
}

stop() {
  stop_running redis 15
}

url() {
  if running_pid >/dev/null; then echo "redis://127.0.0.1:$(cat "$portfile")"; else echo "redis is not running" >&2; exit 1; fi
}

case "$action" in
  start) start ;;
  stop) stop ;;
  url) url ;;
  *) usage ;;
esac
