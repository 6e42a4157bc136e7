# Sourced by the broker scripts: free_port (a TCP port free on 127.0.0.1 right now), stop_pid and running_pid.
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
# stop_pid PID [SECONDS]: asks a process to stop, waits up to SECONDS (15) for it to exit, then kills it hard.
stop_pid() {
  local pid=$1 secs=${2:-15}
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 $((secs * 10))); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
# running_pid: prints the process id in $pidfile (set by the sourcing script) when that process is alive.
running_pid() {
  local pid
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile" 2>/dev/null || true)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}
# stop_running NAME [SECONDS]: stops the process in $pidfile, if alive (stop_pid), and removes the pid file.
stop_running() {
  local pid
  if pid=$(running_pid); then
    stop_pid "$pid" "${2:-15}"
    echo "$1 stopped (pid $pid)" >&2
  fi
  rm -f "$pidfile"
}
