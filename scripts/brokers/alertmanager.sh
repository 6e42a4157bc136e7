#!/usr/bin/env bash
# A real Prometheus Alertmanager (Debian's package, not its system service) on a free loopback port, for the
# alert-sink tests.
#   alertmanager.sh start <stateDir>  -> prints http://127.0.0.1:<port> as its last line (idempotent)
#   alertmanager.sh stop  <stateDir>  -> stops it by process id (no-op when not running)
#   alertmanager.sh url   <stateDir>  -> prints the URL of the running server
# One route to a receiver that sends nothing, grouped after 1 s so alerts show up in /api/v2/alerts/groups at once;
# clustering is off (no gossip port). Alerts and silences live in <stateDir>/data. The port is kept in <stateDir>/port.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
source "$here/common.sh"

usage() { echo "usage: alertmanager.sh start|stop|url <stateDir>" >&2; exit 2; }
[ $# -ge 2 ] || usage
action=$1
mkdir -p "$2"
state=$(cd "$2" && pwd)
pidfile="$state/alertmanager.pid"
portfile="$state/port"

ensure_installed() {
  command -v prometheus-alertmanager >/dev/null 2>&1 && return 0
  echo "prometheus-alertmanager not found: installing Debian's prometheus-alertmanager" >&2
  bash "$here/../apt-install" prometheus-alertmanager
  command -v prometheus-alertmanager >/dev/null 2>&1 ||
    { echo "alertmanager.sh: installing Debian's prometheus-alertmanager did not give a prometheus-alertmanager command" >&2; exit 1; }
}

ready() {
  [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/-/ready" 2>/dev/null || true)" = 200 ]
}

write_config() {
  mkdir -p "$state/data"
  cat > "$state/alertmanager.yml" <<'EOF'
# Written by scripts/brokers/alertmanager.sh on every start.
global:
  resolve_timeout: 5m
route:
  receiver: discard
  group_by: ['...']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: discard
EOF
}

start() {
  ensure_installed
  if pid=$(running_pid); then
    echo "alertmanager already running (pid $pid)" >&2
    echo "http://127.0.0.1:$(cat "$portfile")"
    return 0
  fi
  local port
  if [ -s "$portfile" ]; then port=$(cat "$portfile"); else port=$(free_port); echo "$port" > "$portfile"; fi
  write_config
  rm -f "$pidfile"
  local t0=$SECONDS
  # An empty --cluster.listen-address turns clustering off; setsid + closed stdio let it outlive this script.
  setsid prometheus-alertmanager --config.file="$state/alertmanager.yml" --storage.path="$state/data" \
    --web.listen-address="127.0.0.1:$port" --web.external-url="http://127.0.0.1:$port" --cluster.listen-address= \
    > "$state/alertmanager.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  local pid
  pid=$(cat "$pidfile")
  for _ in $(seq 1 300); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "alertmanager exited during start-up. Last lines of $state/alertmanager.log:" >&2
      tail -n 20 "$state/alertmanager.log" >&2 || true
      rm -f "$pidfile"
      exit 1
    fi
    if ready "$port"; then
      echo "alertmanager $(prometheus-alertmanager --version 2>&1 | sed -n 's/^alertmanager, version \([^ ]*\).*/\1/p') started in $((SECONDS - t0)) s on port $port (pid $pid)" >&2
      echo "http://127.0.0.1:$port"
      return 0
    fi
    sleep 0.1
  done
  echo "alertmanager did not report ready on 127.0.0.1:$port within 30 s; stopping it. See $state/alertmanager.log" >&2
  stop_pid "$pid" 10
  rm -f "$pidfile"
  exit 1
}

stop() {
  stop_running alertmanager 15
}

url() {
  if running_pid >/dev/null; then echo "http://127.0.0.1:$(cat "$portfile")"; else echo "alertmanager is not running" >&2; exit 1; fi
}

case "$action" in
  start) start ;;
  stop) stop ;;
  url) url ;;
  *) usage ;;
esac
