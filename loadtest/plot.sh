#!/usr/bin/env bash
# Renders PNG plots from an actorexec-load JSON report (--report FILE):
#   OUTDIR/latency_<phase>.png   histograms of execute-to-started,
#                                execute-to-first-output, connect latency and
#                                drop-to-resumed (the reconnect storm's)
#   OUTDIR/server_memory.png     server VmRSS, VmHWM and open fds over time
#                                (needs a report made with --server-pid)
# Needs gnuplot (Debian: gnuplot-nox) and /usr/bin/python3.
# Usage: loadtest/plot.sh REPORT.json OUTDIR
set -euo pipefail
if (($# != 2)); then
  echo "usage: $0 REPORT.json OUTDIR" >&2
  exit 2
fi
report=$1
out=$2
mkdir -p "$out"
command -v gnuplot > /dev/null || {
  echo "plot.sh: gnuplot not found (apt-get install gnuplot-nox)" >&2
  exit 2
}

# The latency series plotted, when a phase has samples of them.
metrics="execute_to_started execute_to_first_output connect drop_to_resumed"

# gnuplot reads columns, not JSON: write one .dat file per series, and the
# list of phases that have samples.
PLOT_METRICS=$metrics /usr/bin/python3 - "$report" "$out" << 'PY'
import json, os, re, sys
report, out = sys.argv[1], sys.argv[2]
doc = json.load(open(report))
METRICS = os.environ["PLOT_METRICS"].split()
phases = []
for ph in doc["phases"]:
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", ph["name"])
    samples = ph.get("latency_samples_ms", {})
    wrote = False
    for metric in METRICS:
        values = samples.get(metric, [])
        if values:
            with open(os.path.join(out, "%s.%s.dat" % (name, metric)), "w") as f:
                f.write("\n".join(str(v) for v in values) + "\n")
            wrote = True
    if wrote:
        phases.append(name)
with open(os.path.join(out, "phases.txt"), "w") as f:
    f.write("\n".join(phases) + "\n")
server = doc.get("server")
if server and server.get("samples"):
    with open(os.path.join(out, "server.dat"), "w") as f:
        for t, rss, hwm, fds, cpu in server["samples"]:
            f.write("%s %f %f %d %s\n" % (t, rss / 1024.0, hwm / 1024.0, fds, cpu))
    with open(os.path.join(out, "phase_marks.dat"), "w") as f:
        for ph in doc["phases"]:
            f.write("%s %s %s\n" % (ph["start_s"], ph["end_s"], ph["name"]))
PY

while read -r phase; do
  [[ -n "$phase" ]] || continue
  plots=()
  for metric in $metrics; do
    f="$out/$phase.$metric.dat"
    [[ -s "$f" ]] && plots+=("'$f' using (bin(\$1)):(1.0) smooth freq with boxes title '$metric'")
  done
  ((${#plots[@]})) || continue
  # Bin width: a 50th of the p99-ish range, so one outlier does not squash
  # the histogram into a single bar.
  width=$(sort -g "$out/$phase".*.dat | awk '{v[NR]=$1} END {w=v[int(NR*0.99)]/50; if (w<=0) w=0.001; print w}')
  gnuplot << GP
set terminal pngcairo size 900,500 noenhanced
set output '$out/latency_$phase.png'
set title 'latency histogram: $phase'
set xlabel 'ms'
set ylabel 'samples'
set style fill transparent solid 0.5 noborder
width = $width
bin(x) = width * floor(x / width) + width / 2
set boxwidth width
plot $(IFS=,; echo "${plots[*]}")
GP
  echo "plot.sh: $out/latency_$phase.png"
done < "$out/phases.txt"

if [[ -s "$out/server.dat" ]]; then
  gnuplot << GP
set terminal pngcairo size 900,500 noenhanced
set output '$out/server_memory.png'
set title 'server memory over the run'
set xlabel 's'
set ylabel 'MiB'
set y2label 'open fds'
set y2tics
set ytics nomirror
set key top left
plot '$out/server.dat' using 1:2 with lines title 'VmRSS', \
     '$out/server.dat' using 1:3 with lines title 'VmHWM', \
     '$out/server.dat' using 1:4 axes x1y2 with lines title 'fds'
GP
  echo "plot.sh: $out/server_memory.png"
fi
