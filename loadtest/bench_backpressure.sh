#!/usr/bin/env bash
# The backpressure benchmarks of issue 4, in one run, on 127.0.0.1, with a
# fresh server per workload and run (so VmHWM is that workload's own peak):
#
#   chunks    one stream of `yes LINE | head -n 2000000` (202 MB) in `chunks`
#             framing against actorexec, and the same byte volume in 64 KiB
#             text messages from actorexec-beast-sink (a minimal Beast server:
#             no process, no actors): MB/s of each and their ratio (target:
#             actorexec at least half of the sink); then the child alone:
#             into /dev/null (its own CPU time) and into `cat` (what a reader
#             that does nothing can take from it), no server
#   slow      1, 10 and 100 sessions of 50,000 lines of 100 bytes (5 MB, far
#             above the 1 MiB retention bound) whose clients stall 5 s after
#             100 kB (on_overflow block, every byte verified): server VmHWM
#             over its idle value, one fresh server per count
#   fairness  200 sequential `echo hi` in one session, alone (baseline) and
#             while 10 other sessions flood (`yes LINE`, canceled after 60 s,
#             so they outlast the echos whatever the server's speed): echo
#             latency p50/p99/max, execute to process.completed, to first
#             output and to process.started; and the echos alone again while
#             2 busy loops (no floods) keep both cores busy: the delay that
#             CPU contention alone causes
#
# Usage: loadtest/bench_backpressure.sh [--runs N] [--scale F] [--out DIR]
#          [--server BIN] [--load BIN] [--sink BIN] [--only WORKLOAD]
#   --runs N     runs per workload; the table shows medians (default 3)
#   --scale F    multiplies the byte volumes, the stall, the flood time and
#                the echo count (never the session counts, which are what
#                slow and fairness measure); 0.05 gives a smoke run of a few
#                minutes (default 1)
#   --only W     chunks, slow or fairness
# Writes every scenario, JSON report and server log to DIR, and the table to
# DIR/summary.md (also printed). Prints every command it runs. Every client
# runs under `timeout`, and every scenario has a duration cap.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
runs=3
scale=1
out=/tmp/actorexec-bench-backpressure
server=${ACTOREXEC_BIN:-$here/../build/app/actorexec}
load=${ACTOREXEC_LOAD_BIN:-$here/../build/loadtest/actorexec-load}
sink=${ACTOREXEC_SINK_BIN:-$here/../build/loadtest/actorexec-beast-sink}
only=""
while (($#)); do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --server) server=$2; shift 2 ;;
    --load) load=$2; shift 2 ;;
    --sink) sink=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
for bin in "$server" "$load" "$sink"; do
  [[ -x $bin ]] || { echo "not executable: $bin" >&2; exit 2; }
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "--runs: not a positive integer" >&2; exit 2; }
[[ -z $only || $only =~ ^(chunks|slow|fairness)$ ]] ||
  { echo "--only: chunks, slow or fairness" >&2; exit 2; }
mkdir -p "$out"

client_timeout=700 # seconds, above every duration cap below
cap_ms=600000

# scaled N MIN: N times --scale, rounded, at least MIN.
scaled() {
  awk -v n="$1" -v f="$scale" -v min="$2" \
    'BEGIN { x = int(n * f + 0.5); if (x < min) x = min; print x }'
}

line=$(printf 'x%.0s' $(seq 1 100))
# Acks in chunks framing every 4 frames (256 KiB at most, the replay window):
# a client acking every 100 frames of up to 64 KiB stalled this server's
# stream after 181 frames (10 MB), while acking every 4 or 16, or never,
# did not.
chunks_ack_every=4

# Prints a command, then runs it: the log shows exactly what ran.
run() {
  echo "+ $(printf '%q ' "$@")" >&2
  "$@"
}

# shellcheck source=bench_servers.sh
source "$here/bench_servers.sh"
install_cleanup

# Starts the Beast sink; sets server_pid and port.
start_sink() {
  local log=$1 messages=$2
  echo "+ $sink --port 0 --messages $messages --size 65536 > $log 2>&1 &" >&2
  "$sink" --port 0 --messages "$messages" --size 65536 > "$log" 2>&1 &
  server_pid=$!
  wait_port "$log"
}

# status_kb FIELD: VmRSS or VmHWM of the running server, in kB.
status_kb() {
  awk -v f="$1:" '$1 == f { print $2 }' "/proc/$server_pid/status" \
    2> /dev/null || echo 0
}

# Runs actorexec-load SCENARIO against the running actorexec, sampling it;
# writes REPORT and REPORT.mem (idle and final VmRSS/VmHWM from /proc).
load_actorexec() {
  local scen=$1 report=$2
  sleep 0.5 # let the server settle: its idle value is the baseline
  local idle_rss idle_hwm
  idle_rss=$(status_kb VmRSS)
  idle_hwm=$(status_kb VmHWM)
  run timeout "$client_timeout" "$load" "$scen" \
    --url "ws://127.0.0.1:$port/ws/mcp" --server-pid "$server_pid" \
    --sample-ms 50 --quiet --report "$report" ||
    echo "   (expectations failed)" >&2
  printf '{"idle_rss_kb": %s, "idle_hwm_kb": %s, "final_hwm_kb": %s}\n' \
    "$idle_rss" "$idle_hwm" "$(status_kb VmHWM)" > "$report.mem"
}

# -- chunks: actorexec vs the Beast sink, same byte volume ---------------------
bench_chunks() {
  local lines bytes messages scen
  lines=$(scaled 2000000 1000)
  bytes=$((lines * 101))
  messages=$(((bytes + 65535) / 65536))
  scen="$out/chunks.scenario.json"
  cat > "$scen" << JSON
{"name": "chunks",
 "phases": [{"name": "chunks", "sessions": 1, "duration_cap_ms": $cap_ms,
   "session": {"command": "yes $line | head -n $lines", "framing": "chunks",
               "ack_every": $chunks_ack_every,
               "verify": {"line": "$line", "count": $lines},
               "expected_exit_code": 0, "timeout_ms": $((cap_ms - 10000))}}]}
JSON
  for r in $(seq 1 "$runs"); do
    echo "== chunks run $r: actorexec ($bytes bytes)" >&2
    start_actorexec "$out/chunks.actorexec.$r.log"
    load_actorexec "$scen" "$out/chunks.actorexec.$r.json"
    stop_server
    echo "== chunks run $r: beast sink ($messages x 65536 bytes)" >&2
    start_sink "$out/chunks.sink.$r.log" "$messages"
    run timeout "$client_timeout" "$load" --raw "ws://127.0.0.1:$port/" \
      --sessions 1 --expected-messages "$messages" --duration-cap-ms "$cap_ms" \
      --server-pid "$server_pid" --sample-ms 50 --quiet \
      --report "$out/chunks.sink.$r.json" || echo "   (expectations failed)" >&2
    stop_server
    echo "== chunks run $r: the child alone, into /dev/null and into cat" >&2
    time_child "$out/chunks.child.$r.json" "yes $line | head -n $lines > /dev/null"
    time_child "$out/chunks.childcat.$r.json" "yes $line | head -n $lines | cat > /dev/null"
  done
}

# time_child REPORT COMMAND: wall and CPU time of a shell command (its
# children included), as JSON.
time_child() {
  echo "+ time sh -c $(printf '%q' "$2")" >&2
  local TIMEFORMAT='{"wall_s": %R, "user_s": %U, "sys_s": %S}'
  { time timeout "$client_timeout" sh -c "$2" 2> /dev/null; } 2> "$1"
}

# -- slow: 1, 10, 100 stalled sessions, a fresh server each ---------------------
bench_slow() {
  local lines stall_ms n scen
  lines=$(scaled 50000 2000)
  stall_ms=$(scaled 5000 1000)
  for n in 1 10 100; do
    scen="$out/slow$n.scenario.json"
    cat > "$scen" << JSON
{"name": "slow$n",
 "phases": [{"name": "stalled_$n", "sessions": $n, "concurrency": $n,
   "duration_cap_ms": $cap_ms,
   "session": {"command": "yes $line | head -n $lines",
               "stall_after_bytes": 100000, "stall_ms": $stall_ms,
               "ack_every": 100, "verify": {"line": "$line", "count": $lines},
               "expected_exit_code": 0,
               "timeout_ms": $((cap_ms - 10000))}}]}
JSON
    for r in $(seq 1 "$runs"); do
      echo "== slow, $n stalled, run $r" >&2
      start_actorexec "$out/slow$n.$r.log"
      load_actorexec "$scen" "$out/slow$n.$r.json"
      stop_server
    done
  done
}

# -- fairness: echo alone, then echo among 10 floods, a fresh server each -------
bench_fairness() {
  local echos flood_ms
  echos=$(scaled 200 20)
  flood_ms=$(scaled 60000 10000)
  local echo_session='"name": "echo", "command": "echo hi", "repeat": '$echos',
    "verify": {"text": "hi\n"}, "expected_exit_code": 0,
    "timeout_ms": '$((cap_ms - 10000))
  cat > "$out/echo_alone.scenario.json" << JSON
{"name": "echo_alone",
 "phases": [{"name": "echo_alone", "sessions": 1, "duration_cap_ms": $cap_ms,
   "session": {$echo_session}}]}
JSON
  # The floods come first in the mix and start within ramp_up_ms, so the
  # echo session (the 11th) starts while they stream; they stream until
  # canceled, long after the echos are done.
  cat > "$out/echo_floods.scenario.json" << JSON
{"name": "echo_floods",
 "phases": [{"name": "echo_under_10_floods", "sessions": 11, "concurrency": 11,
   "ramp_up_ms": 500, "duration_cap_ms": $cap_ms,
   "mix": [{"name": "flood", "weight": 10, "command": "yes $line",
            "ack_every": 100, "cancel_after_ms": $flood_ms,
            "timeout_ms": $((cap_ms - 10000))},
           {"weight": 1, $echo_session}]}]}
JSON
  local w
  for r in $(seq 1 "$runs"); do
    for w in echo_alone echo_floods; do
      echo "== fairness $w run $r" >&2
      start_actorexec "$out/$w.$r.log"
      load_actorexec "$out/$w.scenario.json" "$out/$w.$r.json"
      stop_server
    done
    echo "== fairness echo_busy run $r (2 busy loops, no floods)" >&2
    start_actorexec "$out/echo_busy.$r.log"
    start_busy_loops 2
    load_actorexec "$out/echo_alone.scenario.json" "$out/echo_busy.$r.json"
    stop_busy_loops
    stop_server
  done
}

# Busy loops that keep N cores busy, each ended by `timeout` at the latest.
busy_pids=()
start_busy_loops() {
  local i
  for i in $(seq 1 "$1"); do
    echo "+ timeout $client_timeout sh -c 'while :; do :; done' &" >&2
    timeout "$client_timeout" sh -c 'while :; do :; done' &
    busy_pids+=($!)
  done
}
stop_busy_loops() {
  kill "${busy_pids[@]}" 2> /dev/null || true
  wait "${busy_pids[@]}" 2> /dev/null || true
  busy_pids=()
}
trap 'stop_busy_loops; stop_server' EXIT

[[ -n $only && $only != chunks ]] || bench_chunks
[[ -n $only && $only != slow ]] || bench_slow
[[ -n $only && $only != fairness ]] || bench_fairness

# Medians over the runs, as one markdown table.
echo "+ summary of $out" >&2
/usr/bin/python3 - "$out" "$runs" "$scale" << 'PY' | tee "$out/summary.md"
import json, os, statistics, sys
out, runs, scale = sys.argv[1], int(sys.argv[2]), sys.argv[3]
nan = float("nan")

def docs(name, suffix=".json"):
    found = []
    for r in range(1, runs + 1):
        p = os.path.join(out, "%s.%d%s" % (name, r, suffix))
        if os.path.exists(p):
            with open(p) as f:
                found.append(json.load(f))
    return found

def med(ds, f):
    vals = []
    for d in ds:
        try:
            v = f(d)
        except (KeyError, IndexError, TypeError):
            v = None
        if v is not None:
            vals.append(v)
    return statistics.median(vals) if vals else nan

def phase(d):
    return d["phases"][0]

def errors(name):
    return "%d" % sum(phase(d)["errors"]["total"] + phase(d)["expectation_failures"]
                      for d in docs(name))

rows = []
def row(*cells):
    rows.append("| " + " | ".join(cells) + " |")

def mib(kb):
    return kb / 1024.0

print("Backpressure benchmarks (issue 4), median of %d run(s), --scale %s\n"
      % (runs, scale))

# chunks
a, s = docs("chunks.actorexec"), docs("chunks.sink")
if a or s:
    mb_a = med(a, lambda d: phase(d)["mb_per_s"])
    mb_s = med(s, lambda d: phase(d)["mb_per_s"])
    print("| chunks, one stream | actorexec | Beast sink | ratio |")
    print("| --- | ---: | ---: | ---: |")
    print("| MB/s (child bytes; sink: message bytes) | %.1f | %.1f | %.2f |"
          % (mb_a, mb_s, mb_a / mb_s if mb_s else nan))
    print("| bytes | %.0f | %.0f | |" % (med(a, lambda d: phase(d)["bytes"]),
                                        med(s, lambda d: phase(d)["bytes"])))
    print("| wall (s) | %.2f | %.2f | |" % (med(a, lambda d: phase(d)["wall_s"]),
                                           med(s, lambda d: phase(d)["wall_s"])))
    print("| client CPU (s) | %.2f | %.2f | |"
          % (med(a, lambda d: phase(d)["client_cpu_s"]),
             med(s, lambda d: phase(d)["client_cpu_s"])))
    print("| server CPU (s) | %.2f | %.2f | |"
          % (med(a, lambda d: d["server"]["cpu_s"]),
             med(s, lambda d: d["server"]["cpu_s"])))
    print("| server peak RSS (MiB) | %.1f | %.1f | |"
          % (med(a, lambda d: mib(d["server"]["peak_rss_kb"])),
             med(s, lambda d: mib(d["server"]["peak_rss_kb"]))))
    print("| errors + failed expectations (all runs) | %s | %s | |\n"
          % (errors("chunks.actorexec"), errors("chunks.sink")))
    print("Target: ratio >= 0.50. The client parses and verifies every "
          "actorexec frame but only counts the sink's; compare the client "
          "CPU with the wall time to see whether it was the limit.\n")
    child, cat = docs("chunks.child"), docs("chunks.childcat")
    if child and cat:
        cpu = lambda d: d["user_s"] + d["sys_s"]
        child_cpu = med(child, cpu)
        cat_wall = med(cat, lambda d: d["wall_s"])
        nbytes = med(a, lambda d: phase(d)["bytes"])
        client_cpu = med(a, lambda d: phase(d)["client_cpu_s"])
        cores = os.cpu_count() or 1
        target_wall = nbytes / 1e6 / (mb_s / 2) if mb_s else nan
        left = cores * target_wall - child_cpu - client_cpu
        print("| the child alone (no server) | value |")
        print("| --- | ---: |")
        print("| CPU (s), into /dev/null | %.2f |" % child_cpu)
        print("| MB/s into `cat` | %.1f |" % (nbytes / 1e6 / cat_wall))
        print("| CPU-seconds at the target rate (%d cores x %.3f s) | %.2f |"
              % (cores, target_wall, cores * target_wall))
        print("| of which the child and the client used | %.2f |"
              % (child_cpu + client_cpu))
        print("| left for the server (it used %.2f) | %.2f |\n"
              % (med(a, lambda d: d["server"]["cpu_s"]), left))

# slow
if any(docs("slow%d" % n) for n in (1, 10, 100)):
    print("| stalled sessions | idle VmHWM (MiB) | VmHWM (MiB) | growth (MiB) "
          "| sampled peak RSS (MiB) | bytes verified | errors |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in (1, 10, 100):
        ds, mem = docs("slow%d" % n), docs("slow%d" % n, ".json.mem")
        if not ds:
            continue
        idle = med(mem, lambda m: mib(m["idle_hwm_kb"]))
        final = med(mem, lambda m: mib(m["final_hwm_kb"]))
        growth = med(mem, lambda m: mib(m["final_hwm_kb"] - m["idle_hwm_kb"]))
        print("| %d | %.1f | %.1f | %.1f | %.1f | %.0f | %s |" % (
            n, idle, final, growth,
            med(ds, lambda d: mib(d["server"]["peak_rss_kb"])),
            med(ds, lambda d: phase(d)["verify"]["bytes"]), errors("slow%d" % n)))
    print("\nTarget (issue 4's test): growth below 64 MiB for one stalled "
          "200 MB flood; here VmHWM is read from /proc before and after.\n")

# fairness
alone, floods = docs("echo_alone"), docs("echo_floods")
busy = docs("echo_busy")
if alone or floods:
    def echo_alone(metric, q):
        return lambda d: phase(d)["latency_ms"][metric][q]
    def echo_flooded(metric, q):
        return lambda d: phase(d)["latency_ms_by_template"]["echo"][metric][q]
    print("| echo latency (ms) | alone | with 10 floods | difference "
          "| with 2 busy loops | difference |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for metric, label in (("execute_to_completed", "execute to process.completed"),
                          ("execute_to_first_output", "execute to first output"),
                          ("execute_to_started", "execute to process.started")):
        for q in ("p50", "p99", "max"):
            x = med(alone, echo_alone(metric, q))
            y = med(floods, echo_flooded(metric, q))
            z = med(busy, echo_alone(metric, q))
            print("| %s %s | %.3f | %.3f | %+.3f | %.3f | %+.3f |"
                  % (label, q, x, y, y - x, z, z - x))
    print("| echos (count per run) | %.0f | %.0f | | %.0f | |" % (
        med(alone, echo_alone("execute_to_completed", "count")),
        med(floods, echo_flooded("execute_to_completed", "count")),
        med(busy, echo_alone("execute_to_completed", "count"))))
    print("| flood MB/s (all 10) | | %.1f | | | |"
          % med(floods, lambda d: phase(d)["mb_per_s"]))
    print("| errors + failed expectations (all runs) | %s | %s | | %s | |\n"
          % (errors("echo_alone"), errors("echo_floods"), errors("echo_busy")))
    print("Target: the floods delay an echo by no more than a few ms. The "
          "busy loops run no session: their column is what CPU contention "
          "alone costs an echo on this machine.")
PY
