#!/usr/bin/env bash
# A real Prometheus (Debian's package, not its system service) on a free loopback port, for the metrics tests.
#   prometheus.sh start <stateDir>  -> prints http://127.0.0.1:<port> as its last line (idempotent)
#   prometheus.sh stop  <stateDir>  -> stops it by process id (no-op when not running)
#   prometheus.sh url   <stateDir>  -> prints the URL of the running server
# It scrapes and evaluates every second. Its one job, clean-agent, takes its targets from <stateDir>/targets/*.json
# (file_sd, re-read every second): a test adds the agent it started by writing a file there, for example
#   [{"targets": ["127.0.0.1:9464"], "labels": {"test": "t-1234"}}]
# and removes the file afterwards. --web.enable-lifecycle allows POST /-/reload. The port is kept in <stateDir>/port.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
source "$here/common.sh"

usage() { echo "usage: prometheus.sh start|stop|url <stateDir>" >&2; exit 2; }
[ $# -ge 2 ] || usage
action=$1
mkdir -p "$2"
state=$(cd "$2" && pwd)
pidfile="$state/prometheus.pid"
portfile="$state/port"

ensure_installed() {
  command -v prometheus >/dev/null 2>&1 && return 0
  echo "prometheus not found: installing Debian's prometheus" >&2
  bash "$here/../apt-install" prometheus
  command -v prometheus >/dev/null 2>&1 || { echo "prometheus.sh: installing Debian's prometheus did not give a prometheus command" >&2; exit 1; }
}

ready() {
  [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/-/ready" 2>/dev/null || true)" = 200 ]
}

write_config() {
  mkdir -p "$state/targets" "$state/data"
  cat > "$state/prometheus.yml" <<EOF
# Written by scripts/brokers/prometheus.sh on every start.
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: clean-agent
    file_sd_configs:
      - files: ['$state/targets/*.json']
        refresh_interval: 1s
EOF
}

start() {
  ensure_installed
  if pid=$(running_pid); then
    echo "prometheus already running (pid $pid)" >&2
    echo "http://127.0.0.1:$(cat "$portfile")"
    return 0
  fi
  local port
  if [ -s "$portfile" ]; then port=$(cat "$portfile"); else port=$(free_port); echo "$port" > "$portfile"; fi
  write_config
  rm -f "$pidfile"
  local t0=$SECONDS
  # setsid + closed stdio: the server outlives this script and does not hold the caller's pipes open.
  setsid prometheus --config.file="$state/prometheus.yml" --web.listen-address="127.0.0.1:$port" \
    --storage.tsdb.path="$state/data" --storage.tsdb.retention.time=1d --web.enable-lifecycle \
    > "$state/prometheus.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  local pid
  pid=$(cat "$pidfile")
  for _ in $(seq 1 300); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "prometheus exited during start-up. Last lines of $state/prometheus.log:" >&2
      tail -n 20 "$state/prometheus.log" >&2 || true
      rm -f "$pidfile"
      exit 1
    fi
    if ready "$port"; then
      echo "prometheus $(prometheus --version 2>&1 | sed -n 's/^prometheus, version \([^ ]*\).*/\1/p') started in $((SECONDS - t0)) s on port $port (pid $pid), targets in $state/targets" >&2
      echo "http://127.0.0.1:$port"
      return 0
    fi
    sleep 0.1
  done
  echo "prometheus did not report ready on 127.0.0.1:$port within 30 s; stopping it. See $state/prometheus.log" >&2
  stop_pid "$pid" 10
  rm -f "$pidfile"
  exit 1
}

stop() {
  stop_running prometheus 15
}

url() {
  if running_pid >/dev/null; then echo "http://127.0.0.1:$(cat "$portfile")"; else echo "prometheus is not running" >&2; exit 1; fi
}

case "$action" in
  start) start ;;
  stop) stop ;;
  url) url ;;
  *) usage ;;
esac
