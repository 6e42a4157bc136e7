# Sourced by the broker scripts: free_port prints a TCP port free on 127.0.0.1 right now.
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
# wait_pid_gone PID SECONDS: waits for a process to exit, then kills it hard.
stop_pid() {
  local pid=$1 secs=${2:-15}
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 $((secs * 10))); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
