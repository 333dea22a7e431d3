# Server handling shared by the benchmark scripts (compare_websocketd.sh,
# bench_backpressure.sh); sourced, not run. One server at a time: the
# caller's globals `server` (the actorexec binary), `server_pid` and `port`.
# Call install_cleanup after sourcing.

server_pid=""

# Ends the running server: SIGTERM, up to 10 s for its drain, then SIGKILL.
stop_server() {
  if [[ -n $server_pid ]]; then
    kill -TERM "$server_pid" 2> /dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$server_pid" 2> /dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2> /dev/null || true
    wait "$server_pid" 2> /dev/null || true
    server_pid=""
  fi
}

# Stops the server however the script ends: INT and TERM exit through the
# EXIT trap too.
install_cleanup() {
  trap stop_server EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# wait_port LOG: sets port from the first "listening" line in LOG (written
# by actorexec and actorexec-beast-sink alike); exits when none comes.
wait_port() {
  local log=$1
  port=""
  for _ in $(seq 1 200); do
    port=$(sed -n 's/.*"event":"listening".*"port":\([0-9]*\).*/\1/p' "$log" | head -n1)
    [[ -n $port ]] && return 0
    kill -0 "$server_pid" 2> /dev/null || break
    sleep 0.1
  done
  echo "server did not start; see $log" >&2
  exit 1
}

# start_actorexec LOG: actorexec on a free port, its log in LOG; prints the
# command and sets server_pid and port.
start_actorexec() {
  local log=$1
  echo "+ $server --port 0 --max-sessions 2000 2> $log &" >&2
  "$server" --port 0 --max-sessions 2000 2> "$log" &
  server_pid=$!
  wait_port "$log"
}
