#!/usr/bin/env bash
# Runs the same workloads against actorexec and websocketd (Debian package)
# on 127.0.0.1 and prints the medians side by side (markdown), RUNS times
# each, with a fresh server per run so that peak memory is per workload.
#
# Workloads (where websocketd can do them: it runs one command per
# connection and sends each stdout line as a message):
#   latency  200 sequential sessions of `echo hello`: actorexec
#            execute-to-process.started and connect-to-first-line; websocketd
#            connect-to-first-line
#   seq1m    one stream of `seq 1 1000000`: messages (frames) per second
#   lines100 one stream of 500,000 lines of 100 bytes: messages per second
#   fanout   500 sessions at once, each `seq 1 20000`: wall time, peak RSS
#
# Usage: loadtest/compare_websocketd.sh [--runs N] [--out DIR]
#          [--server BIN] [--load BIN] [--only WORKLOAD] [--ack-every N]
# --ack-every N: actorexec sessions ack every N frames (explicit-ack mode);
# 0, the default, never acks, like a client of the replaced service (and
# like websocketd's clients, which have nothing to ack).
# Needs websocketd and /usr/bin/python3. Every run is bounded: the runner's
# duration caps, and `timeout` around each client.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
runs=3
out=/tmp/actorexec-compare
server=${ACTOREXEC_BIN:-$here/../build/app/actorexec}
load=${ACTOREXEC_LOAD_BIN:-$here/../build/loadtest/actorexec-load}
only=""
ack_every=0
while (($#)); do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --server) server=$2; shift 2 ;;
    --load) load=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --ack-every) ack_every=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
for bin in "$server" "$load"; do
  [[ -x $bin ]] || { echo "not executable: $bin" >&2; exit 2; }
done
command -v websocketd > /dev/null || { echo "websocketd not installed" >&2; exit 2; }
mkdir -p "$out"

line99=$(printf 'x%.0s' $(seq 1 99))
client_timeout=400 # seconds, above every duration cap below

# shellcheck source=bench_servers.sh
source "$here/bench_servers.sh"
install_cleanup

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Starts websocketd running "sh -c CMD" per connection; sets server_pid, port.
start_websocketd() {
  local log=$1 cmd=$2
  port=$(free_port)
  websocketd --port="$port" --address=127.0.0.1 --loglevel=error \
    sh -c "$cmd" > "$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 200); do
    (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && return 0
    sleep 0.1
  done
  echo "websocketd did not start; see $log" >&2
  exit 1
}


# run_workload NAME SESSIONS CONCURRENCY CMD VERIFY MESSAGES_PER_SESSION
run_workload() {
  local name=$1 sessions=$2 concurrency=$3 cmd=$4 verify=$5 msgs=$6
  [[ -z $only || $only == "$name" ]] || return 0
  local scen="$out/$name.scenario.json"
  cat > "$scen" << JSON
{"name": "$name",
 "phases": [{"name": "$name", "sessions": $sessions, "concurrency": $concurrency,
   "duration_cap_ms": 300000,
   "session": {"command": "$cmd", "verify": $verify, "ack_every": $ack_every,
               "expected_exit_code": 0, "timeout_ms": 290000}}]}
JSON
  for run in $(seq 1 "$runs"); do
    echo "== $name run $run: actorexec" >&2
    start_actorexec "$out/$name.actorexec.$run.log"
    echo "   $load $scen --url ws://127.0.0.1:$port/ws/mcp --server-pid $server_pid --report $out/$name.actorexec.$run.json" >&2
    timeout "$client_timeout" "$load" "$scen" --url "ws://127.0.0.1:$port/ws/mcp" \
      --server-pid "$server_pid" --sample-ms 50 --quiet \
      --report "$out/$name.actorexec.$run.json" || echo "   (expectations failed)" >&2
    stop_server
    echo "== $name run $run: websocketd" >&2
    start_websocketd "$out/$name.websocketd.$run.log" "$cmd"
    echo "   $load --raw ws://127.0.0.1:$port/ --sessions $sessions --concurrency $concurrency --expected-messages $msgs --server-pid $server_pid --report $out/$name.websocketd.$run.json" >&2
    timeout "$client_timeout" "$load" --raw "ws://127.0.0.1:$port/" \
      --sessions "$sessions" --concurrency "$concurrency" \
      --expected-messages "$msgs" --duration-cap-ms 300000 \
      --server-pid "$server_pid" --sample-ms 50 --quiet \
      --report "$out/$name.websocketd.$run.json" || echo "   (expectations failed)" >&2
    stop_server
  done
}

run_workload latency 200 1 "echo hello" '{"text": "hello\n"}' 1
run_workload seq1m 1 1 "seq 1 1000000" '{"seq": [1, 1000000]}' 1000000
run_workload lines100 1 1 "yes $line99 | head -n 500000" \
  "{\"line\": \"$line99\", \"count\": 500000}" 500000
run_workload fanout 500 500 "seq 1 20000" '{"seq": [1, 20000]}' 20000

# Medians over the runs, side by side.
/usr/bin/python3 - "$out" "$runs" << 'PY' | tee "$out/summary.md"
import json, math, os, statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])

def reports(name, peer):
    docs = []
    for r in range(1, runs + 1):
        p = os.path.join(out, "%s.%s.%d.json" % (name, peer, r))
        if os.path.exists(p):
            docs.append(json.load(open(p)))
    return docs

def med(docs, f):
    vals = [f(d) for d in docs]
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else float("nan")

ph = lambda d: d["phases"][0]
lat = lambda m, q: (lambda d: ph(d)["latency_ms"][m][q] if ph(d)["latency_ms"][m]["count"] else None)
rows = []
def row(label, name, f, fmt):
    a, w = med(reports(name, "actorexec"), f), med(reports(name, "websocketd"), f)
    if math.isnan(a) and math.isnan(w):
        return  # a workload left out with --only
    ratio = a / w if w else float("nan")
    rows.append("| %s | %s | %s | %.2f |" % (label, fmt % a, fmt % w, ratio))

row("latency: execute to process.started p50 (ms) vs websocketd connect to first line p50", "latency",
    lambda d: ph(d)["latency_ms"]["execute_to_started"]["p50"] if ph(d)["latency_ms"]["execute_to_started"]["count"] else ph(d)["latency_ms"]["connect_to_first_output"]["p50"], "%.3f")
row("latency: execute to process.started p99 (ms) vs websocketd connect to first line p99", "latency",
    lambda d: ph(d)["latency_ms"]["execute_to_started"]["p99"] if ph(d)["latency_ms"]["execute_to_started"]["count"] else ph(d)["latency_ms"]["connect_to_first_output"]["p99"], "%.3f")
row("latency: connect to first line p50 (ms)", "latency", lat("connect_to_first_output", "p50"), "%.3f")
row("latency: connect to first line p99 (ms)", "latency", lat("connect_to_first_output", "p99"), "%.3f")
row("seq 1 1000000: messages/s", "seq1m", lambda d: ph(d)["frames_per_s"], "%.0f")
row("500,000 x 100-byte lines: messages/s", "lines100", lambda d: ph(d)["frames_per_s"], "%.0f")
row("500,000 x 100-byte lines: MB/s of output", "lines100", lambda d: ph(d)["mb_per_s"], "%.2f")
row("500 x seq 1 20000 at once: wall time (s)", "fanout", lambda d: ph(d)["wall_s"], "%.2f")
row("500 x seq 1 20000 at once: server peak RSS (MiB)", "fanout", lambda d: d["server"]["peak_rss_kb"] / 1024, "%.1f")
row("500 x seq 1 20000 at once: server CPU (s)", "fanout", lambda d: d["server"]["cpu_s"], "%.2f")
row("500 x seq 1 20000 at once: errors", "fanout", lambda d: ph(d)["errors"]["total"], "%d")
print("| metric (median of %d runs) | actorexec | websocketd | ratio |" % runs)
print("| --- | ---: | ---: | ---: |")
print("\n".join(rows))
PY
