"""CI-sized run of the hostile-client scenario (ctest loadtest_hostile).

Starts the real server on a free loopback port and runs
loadtest/scenarios/hostile.json with `--scale 0.5`: one echo session
beside one attacker of each kind per phase, every attack at its full size
(the scale divides sessions, not floods). Asserts that the runner completes
with every phase passed (the server's documented refusals are not errors),
that each attack ran all its rounds and was answered as documented, and
that the server is still up and serving afterwards. Never timings: the
round trips are in the report, and whether they kept within the bounds is
not checked here.

Usage: hostile_test.py SERVER_BIN LOAD_BIN SCENARIO_DIR
Every wait is bounded; a broken server fails the test, it never hangs it.
"""

import json
import os
import sys
import tempfile
import urllib.request

# The smoke test's server and runner helpers, without a __pycache__ in the
# source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smoke_test import conclude, run_case, run_load, serving  # noqa: E402

SCALE = "0.5"


def planned_rounds(scenario_dir):
    """Rounds each attacker of a template plans, by phase and attack."""
    with open(os.path.join(scenario_dir, "hostile.json")) as f:
        doc = json.load(f)
    plans = {}
    for phase in doc["phases"]:
        for tmpl in phase.get("mix", [phase.get("session")]):
            attack = tmpl.get("attack")
            if attack:
                plans[(phase["name"], attack["type"])] = attack.get("rounds", 1)
    return plans


def check_attacks(report, plans):
    failures = []
    for phase in report["phases"]:
        where = phase["name"]
        if not phase["passed"] or phase["errors"]["total"] != 0:
            failures.append("%s: passed %r, errors %r" % (
                where, phase["passed"], phase["errors"]))
        s = phase["sessions"]
        if s["completed"] != s["planned"]:
            failures.append("%s: sessions %r" % (where, s))
        for name, a in phase.get("attacks", {}).items():
            # Every attacker ran all its rounds.
            want = plans.get((where, name))
            if not want or a["rounds"] == 0 or a["rounds"] % want != 0:
                failures.append("%s/%s: %d rounds, want a multiple of %r" % (
                    where, name, a["rounds"], want))
            if name in ("input_flood", "reply_flood", "frame_flood") and \
                    a["answered"] != a["sent"]:
                failures.append("%s/%s: %d of %d answered" % (
                    where, name, a["answered"], a["sent"]))
            if name == "reply_flood" and \
                    a["refused_by_rpc_code"].get("-32029", 0) == 0:
                failures.append("%s/reply_flood: no -32029 among %d" % (
                    where, a["sent"]))
            if name == "ping_flood" and \
                    a["closed_by_code"].get("1008") != a["rounds"]:
                failures.append("%s/ping_flood: closes %r in %d rounds" % (
                    where, a["closed_by_code"], a["rounds"]))
    missing = {p for (p, _) in plans} - {
        p["name"] for p in report["phases"] if p.get("attacks")}
    if missing:
        failures.append("phases without attacks: %r" % sorted(missing))
    if "round_trip" not in report or not report["round_trip"]["phases"]:
        failures.append("no round_trip in the report")
    return failures


def check_still_serving(load_bin, scenario_dir, port, proc, tmp):
    failures = []
    if proc.poll() is not None:
        return ["the server exited (status %r)" % proc.returncode]
    url = "http://127.0.0.1:%d/healthz" % port
    with urllib.request.urlopen(url, timeout=10) as res:
        if res.status != 200:
            failures.append("/healthz: HTTP %d" % res.status)
    failures += run_case(load_bin, scenario_dir, port,
                         ("echo_latency", "0.05", len("hello\n"), False), tmp)
    return failures


def main():
    server_bin, load_bin, scenario_dir = sys.argv[1:4]
    failures = []
    with tempfile.TemporaryDirectory() as tmp, \
            serving(server_bin) as (proc, port):
        report_path = os.path.join(tmp, "hostile.json")
        rc, report = run_load(load_bin, scenario_dir, port, "hostile",
                              SCALE, report_path,
                              ["--server-pid", str(proc.pid)])
        if rc != 0:
            failures.append("hostile: exit status %d" % rc)
        failures += check_attacks(report, planned_rounds(scenario_dir))
        failures += check_still_serving(load_bin, scenario_dir, port,
                                        proc, tmp)
    return conclude("hostile", failures)


if __name__ == "__main__":
    sys.exit(main())
