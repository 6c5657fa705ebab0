# Shell helpers the scripts share; sourced, not run.

# A TCP port on loopback that nothing listens on.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits up to $3 tenths of a second for process $2 to listen on port $1.
# Fails when the process exits first or the time runs out.
wait_for_port() {
  local port=$1 pid=$2 tenths=$3
  for _ in $(seq 1 "$tenths"); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
