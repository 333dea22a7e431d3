"""Smoke run of actorexec-load against a real server (ctest loadtest_smoke).

Starts the server on a free loopback port (`--port 0`, the port comes from
the "listening" line of its JSON log on stderr), runs three bundled
scenarios in reduced size with `--scale`, and asserts the report's counts:
sessions completed, executes completed, bytes verified. Never timings: the
machine running the tests may be slow or busy. The first one also samples
the server's /metrics (`--metrics`) and asserts that samples with a nonzero
RSS were taken. Then SIGTERM to the server.

A second server wants a token (`--auth-token-file`): without `--token-file`
every session must fail with the plain "HTTP 401 Unauthorized (check
--token-file)"; with it, the sessions and the /metrics samples must succeed.

Usage: smoke_test.py SERVER_BIN LOAD_BIN SCENARIO_DIR
Every wait is bounded; a broken server fails the test, it never hangs it.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading

START_TIMEOUT = 20.0
RUN_TIMEOUT = 120.0
STOP_TIMEOUT = 15.0


def seq_bytes(first, last):
    return sum(len(str(n)) + 1 for n in range(first, last + 1))


# scenario, --scale, per-session stdout bytes verified (None: not verified),
# sample the server's /metrics
CASES = [
    ("echo_latency", "0.1", len("hello\n"), True),
    ("concurrent_100", "0.1", seq_bytes(1, 2000), False),
    ("churn", "0.05", None, False),
]


def start_server(server_bin, extra_args=()):
    proc = subprocess.Popen(
        [server_bin, "--port", "0", "--max-sessions", "200"] + list(extra_args),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    found = {}
    ready = threading.Event()

    def drain():
        # Keep reading stderr for the whole run so the server never blocks
        # on a full pipe.
        for line in proc.stderr:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "listening" and "port" not in found:
                found["port"] = event["port"]
                ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    if not ready.wait(START_TIMEOUT) or "port" not in found:
        proc.kill()
        raise AssertionError("server did not announce its port")
    return proc, found["port"]


@contextlib.contextmanager
def serving(server_bin, extra_args=()):
    """A fresh server for the block: (process, port); stopped after it."""
    proc, port = start_server(server_bin, extra_args)
    try:
        yield proc, port
    finally:
        stop_server(proc)


def stop_server(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError("server ignored SIGTERM")


def check_metrics_samples(name, report):
    server = report.get("server")
    if server is None or server["source"] != "metrics":
        return ["%s: no /metrics samples in the report" % name]
    failures = []
    if not server["samples"]:
        failures.append("%s: no /metrics sample taken" % name)
    if server["peak_rss_kb"] <= 0:
        failures.append("%s: /metrics RSS %r" % (name, server["peak_rss_kb"]))
    if server["sample_errors"] != 0:
        failures.append("%s: %d /metrics samples failed" % (
            name, server["sample_errors"]))
    return failures


def run_load(load_bin, scenario_dir, port, name, scale, report_path,
             extra_args=()):
    """Runs a bundled scenario; returns the exit status and the report."""
    cmd = [load_bin, os.path.join(scenario_dir, name + ".json"),
           "--url", "ws://127.0.0.1:%d/ws/mcp" % port, "--scale", scale,
           "--report", report_path, "--quiet"] + list(extra_args)
    print("running:", " ".join(cmd), flush=True)
    rc = subprocess.run(cmd, timeout=RUN_TIMEOUT).returncode
    with open(report_path) as f:
        return rc, json.load(f)


def run_case(load_bin, scenario_dir, port, case, tmp, extra_args=()):
    name, scale, verify_bytes, metrics = case
    extra = list(extra_args)
    if metrics:
        extra += ["--metrics", "http://127.0.0.1:%d/metrics" % port,
                  "--sample-ms", "20"]
    rc, report = run_load(load_bin, scenario_dir, port, name, scale,
                          os.path.join(tmp, name + ".json"), extra)
    failures = []
    for phase in report["phases"]:
        s = phase["sessions"]
        where = "%s/%s" % (name, phase["name"])
        if s["completed"] != s["planned"] or s["failed"] != 0:
            failures.append("%s: sessions %r" % (where, s))
        if phase["errors"]["total"] != 0:
            failures.append("%s: errors %r" % (where, phase["errors"]))
        if phase["expectation_failures"] != 0:
            failures.append("%s: %r" % (where, phase["failure_messages"]))
        if phase["executes_completed"] != s["planned"]:
            failures.append("%s: executes_completed %d != %d" % (
                where, phase["executes_completed"], s["planned"]))
        if verify_bytes is not None:
            v = phase["verify"]
            want = {"sessions": s["planned"],
                    "bytes": s["planned"] * verify_bytes}
            if v != want:
                failures.append("%s: verify %r != %r" % (where, v, want))
    if metrics:
        failures += check_metrics_samples(name, report)
    if rc != 0:
        failures.append("%s: exit status %d" % (name, rc))
    return failures


def check_token(server_bin, load_bin, scenario_dir, tmp):
    """A server with a token: refused plainly without it, served with it."""
    token_file = os.path.join(tmp, "token")
    with open(token_file, "w") as f:
        f.write("smoke-%s\n" % os.urandom(8).hex())
    failures = []
    with serving(server_bin, ["--auth-token-file", token_file]) as (_, port):
        rc, report = run_load(load_bin, scenario_dir, port, "echo_latency",
                              "0.05", os.path.join(tmp, "no_token.json"))
        phase = report["phases"][0]
        planned = phase["sessions"]["planned"]
        want = {"handshake: HTTP 401 Unauthorized (check --token-file)":
                planned}
        if rc != 1 or phase["errors"]["other"] != want:
            failures.append("no token: exit %d, errors %r, want %r" % (
                rc, phase["errors"]["other"], want))
        failures += run_case(load_bin, scenario_dir, port,
                             ("echo_latency", "0.05", len("hello\n"), True),
                             tmp, ["--token-file", token_file])
    return failures


def conclude(name, failures):
    """Prints the failures; the exit status of the test."""
    for f in failures:
        print("FAIL:", f)
    print("%s: %d failure(s)" % (name, len(failures)))
    return 1 if failures else 0


def main():
    server_bin, load_bin, scenario_dir = sys.argv[1:4]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        with serving(server_bin) as (_, port):
            for case in CASES:
                failures += run_case(load_bin, scenario_dir, port, case, tmp)
        failures += check_token(server_bin, load_bin, scenario_dir, tmp)
    return conclude("smoke", failures)


if __name__ == "__main__":
    sys.exit(main())
