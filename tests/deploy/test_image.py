#!/usr/bin/python3
"""The container image, built and run (issue 23): deploy/Dockerfile is built
with podman (no Docker daemon) on a debian:bookworm-slim made here by
mmdebstrap (no image registry is reachable), run, and probed from outside
on 127.0.0.1 only: /healthz, /readyz, an `execute` of `echo` with the token
and a 401 without it, the user (10001, not root), the image's HEALTHCHECK,
and a SIGTERM that drains a running process and exits 0 well within
`podman stop`'s grace. The image's size is printed and bounded.

The steps follow docs/operations.md (Containers): chroot isolation for the
build, runc for the container (crun refuses a host with hybrid cgroups), and
resource limits no higher than the host's (raising one is refused). The base
tarball is cached in ACTOREXEC_IMAGE_CACHE (build/image-cache/base.tar) and
made at most once per build tree; everything else the test makes
(container, image, the imported base) is removed at the end, and whatever a
killed run left behind is removed at the start (all of it carries LABEL).

Every command is bounded. A step that fails prints one line naming the step
and the reason; the smoke checks go on after a failed one (a build takes
minutes), the steps they need do not. Run as root (ctest, from
deploy/test.sh); not as root the test is skipped (exit 77).
"""

import asyncio
import http.client
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "net"))
from ops_harness import Client, raw_upgrade  # noqa: E402

SRC = os.path.abspath(os.environ.get(
    "ACTOREXEC_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..",
                                         "..")))
CACHE = os.path.abspath(os.environ.get(
    "ACTOREXEC_IMAGE_CACHE", os.path.join(SRC, "build", "image-cache")))

BASE = "docker.io/library/debian:bookworm-slim"
IMAGE = "localhost/actorexec:test"
LABEL = "org.actorexec.test=deploy_image"
PODMAN = ["podman", "--runtime", "runc"]
TOOLS = ["podman", "runc", "mmdebstrap"]

# What debian:bookworm-slim is, as docs/operations.md makes it: minbase,
# /usr merged without the usrmerge package (which would bring perl), and no
# documentation, manual pages or translations in any package installed
# later either (dpkg's path-exclude, kept in the image as in the official
# one).
MMDEBSTRAP = [
    "mmdebstrap", "--variant=minbase", "--format=tar",
    "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-include=/usr/share/doc/*/copyright",
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/info/*",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
    "bookworm",
]

# Bounds (seconds), their sum below ctest's TIMEOUT (1800) so that a step
# that hangs is named. Measured on two cores: base 33 to 150, build 180 to
# 363 (501 with another build beside it).
BASE_TIMEOUT = 480
BUILD_TIMEOUT = 900
START_TIMEOUT = 30
COMMAND_TIMEOUT = 60
STOP_GRACE = 20           # podman stop -t: SIGKILL after this
MAX_IMAGE_BYTES = 120_000_000   # the base is about 78 MB; apt's caches
                                # alone would add 80 MB more
SERVER_USER = "10001"
SKIP = 77


class StepFailed(Exception):
    def __init__(self, step, why):
        super().__init__(f"{step}: {why}")
        self.step = step
        self.why = why


class Skipped(Exception):
    pass


def say(line):
    print(f"deploy_image: {line}", flush=True)


def tail(text, n=1):
    lines = [l for l in (text or "").splitlines() if l.strip()]
    return " | ".join(lines[-n:]) if lines else "(no output)"


def run(step, argv, timeout=COMMAND_TIMEOUT, check=True, log=None,
        cwd=None):
    """Runs argv with stdin closed; returns (rc, stdout, stderr). With `log`
    (a path) both outputs go there instead. Past `timeout` SIGTERM to its
    process group (a build's RUN commands are in it; podman removes its
    build containers), SIGKILL 30 s later."""
    out_file = open(log, "w") if log else None
    try:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL,
            stdout=out_file or subprocess.PIPE,
            stderr=subprocess.STDOUT if out_file else subprocess.PIPE,
            text=True, cwd=cwd, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, None)):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.communicate(timeout=wait)
                except subprocess.TimeoutExpired:
                    pass
            raise StepFailed(step, f"`{' '.join(argv[:4])} ...` did not "
                                   f"finish within {timeout} s")
    except FileNotFoundError:
        raise StepFailed(step, f"{argv[0]} not found (deploy/install-deps.sh "
                               "installs it)")
    finally:
        if out_file:
            out_file.close()
    if log:
        with open(log, errors="replace") as f:
            out, err = f.read(), ""
    if check and proc.returncode != 0:
        raise StepFailed(step, f"`{' '.join(argv[:4])} ...` exited "
                               f"{proc.returncode}: {tail(err or out)}")
    return proc.returncode, out or "", err or ""


def http_request(port, path, method="GET", headers=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        res = conn.getresponse()
        return res.status, res.getheader("Content-Type") or "", res.read()
    finally:
        conn.close()


def remove_labelled():
    """Removes the containers and images that runs of this test made (all
    carry LABEL: the imported base, the image built on it, its
    containers)."""
    for kind in ("ps", "images"):
        ids = run("cleanup", ["podman", kind, "-aq", "--filter",
                              f"label={LABEL}"])[1].split()
        if ids:
            run("cleanup", ["podman", "rm" if kind == "ps" else "rmi", "-f",
                            *ids], timeout=COMMAND_TIMEOUT * 2)


class ImageTest:
    def __init__(self):
        self.results = []      # (check, "ok" | "FAILED" | "skipped", detail)
        self.cid = None
        self.port = None
        self.token = os.urandom(24).hex()
        self.tmp = tempfile.mkdtemp(prefix="actorexec-image-")
        self.times = {}
        self.step = None
        self.cleaned = False

    # ---- steps that the checks need --------------------------------------

    def timed(self, step, fn):
        self.step = step
        t0 = time.monotonic()
        detail = fn()
        self.times[step] = time.monotonic() - t0
        say(f"step {step}: ok in {self.times[step]:.0f} s"
            + (f" ({detail})" if detail else ""))

    def step_tools(self):
        missing = [t for t in TOOLS if not shutil.which(t)]
        if missing:
            raise StepFailed("tools", f"{', '.join(missing)} not found "
                                      "(deploy/install-deps.sh installs them)")
        remove_labelled()

    def step_base(self):
        tar = os.path.join(CACHE, "base.tar")
        made = "cached"
        if not os.path.exists(tar):
            os.makedirs(CACHE, exist_ok=True)
            part = tar + ".part"
            run("base", MMDEBSTRAP + [part], timeout=BASE_TIMEOUT,
                log=os.path.join(CACHE, "mmdebstrap.log"))
            os.replace(part, tar)
            made = "made by mmdebstrap"
        # An image of that name not made by this test (a real one) is used
        # as it is and left alone.
        if run("base", ["podman", "image", "exists", BASE],
               check=False)[0] != 0:
            run("base", ["podman", "import", "--change", f"LABEL {LABEL}",
                         tar, BASE], timeout=COMMAND_TIMEOUT * 5)
            made += ", imported"
        else:
            made += ", image already present"
        size = int(run("base", ["podman", "image", "inspect", "--format",
                                "{{.Size}}", BASE])[1].strip())
        return f"{tar}, {made}, {size} bytes"

    def step_build(self):
        log = os.path.join(CACHE, "build.log")
        try:
            # As docs/operations.md has it, from the source tree. --format
            # docker keeps HEALTHCHECK; --layers=false keeps no intermediate
            # image (the build stage's is over 1 GB).
            run("build", ["podman", "build", "--isolation", "chroot",
                          "--format", "docker", "--layers=false",
                          "--label", LABEL, "-f", "deploy/Dockerfile",
                          "-t", IMAGE, "."],
                timeout=BUILD_TIMEOUT, log=log, cwd=SRC)
        except StepFailed:
            with open(log, errors="replace") as f:
                print("".join(f.readlines()[-40:]), flush=True)
            raise
        size = int(run("build", ["podman", "image", "inspect", "--format",
                                 "{{.Size}}", IMAGE])[1].strip())
        self.image_size = size
        return f"image size {size} bytes ({size / 1e6:.1f} MB), log {log}"

    def step_start(self):
        token_file = os.path.join(self.tmp, "token")
        with open(token_file, "w") as f:
            f.write(self.token + "\n")
        os.chmod(token_file, 0o644)     # read by user 10001 in the container
        nofile = limit(resource.RLIMIT_NOFILE, 65536)
        nproc = limit(resource.RLIMIT_NPROC, 32768)
        _, out, _ = run("start", PODMAN + [
            "run", "-d", "--name", f"actorexec-image-test-{os.getpid()}",
            "--label", LABEL,
            "--ulimit", f"nofile={nofile}:{nofile}",
            "--ulimit", f"nproc={nproc}:{nproc}",
            "-p", "127.0.0.1::8003",
            "-v", f"{token_file}:/run/secrets/actorexec_token:ro", IMAGE])
        self.cid = out.strip().splitlines()[-1]
        _, out, _ = run("start", ["podman", "port", self.cid, "8003/tcp"])
        self.port = int(out.strip().splitlines()[0].rsplit(":", 1)[1])
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if http_request(self.port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if not self.running():
                raise StepFailed("start", "the container exited "
                                 f"{self.exit_code()}: {tail(self.logs())}")
            if time.monotonic() > deadline:
                raise StepFailed("start", f"/healthz not 200 within "
                                          f"{START_TIMEOUT} s: "
                                          f"{tail(self.logs())}")
            time.sleep(0.1)
        return f"container {self.cid[:12]} on 127.0.0.1:{self.port}"

    # ---- container state -------------------------------------------------

    def inspect(self, fmt):
        return run("inspect", ["podman", "inspect", "--format", fmt,
                               self.cid])[1].strip()

    def running(self):
        return self.inspect("{{.State.Running}}") == "true"

    def exit_code(self):
        return int(self.inspect("{{.State.ExitCode}}"))

    def logs(self):
        """The server's log (its stderr) and podman's own messages."""
        _, out, err = run("logs", ["podman", "logs", self.cid], check=False)
        return out + "\n" + err

    def events(self):
        evs = []
        for line in self.logs().splitlines():
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if isinstance(ev, dict) and "event" in ev:
                evs.append(ev["event"])
        return evs

    # ---- smoke checks ----------------------------------------------------

    def check(self, name, fn):
        try:
            detail = fn()
        except Skipped as e:
            self.results.append((name, "skipped", str(e)))
        except Exception as e:      # any failure of a check is its result
            why = f"{type(e).__name__}: {e}".replace("\n", " ")
            self.results.append((name, "FAILED", why))
        else:
            self.results.append((name, "ok", detail or ""))
        name, status, detail = self.results[-1]
        say(f"check {name}: {status}" + (f" ({detail})" if detail else ""))

    def check_image_size(self):
        assert self.image_size < MAX_IMAGE_BYTES, \
            f"{self.image_size} bytes, over {MAX_IMAGE_BYTES}"
        return f"{self.image_size / 1e6:.1f} MB"

    def check_healthz(self):
        status, _, body = http_request(self.port, "/healthz")
        assert (status, json.loads(body)) == (200, {"status": "ok"}), \
            (status, body)
        return "200"

    def check_readyz(self):
        status, _, body = http_request(self.port, "/readyz")
        assert (status, json.loads(body)) == (200, {"status": "ready"}), \
            (status, body)
        return "200"

    def check_upgrade_without_token(self):
        sock, status, _ = raw_upgrade(self.port)
        sock.close()
        assert status == 401, f"upgrade without a token answered {status}"
        return "401"

    def check_execute_echo(self):
        async def go():
            c = await self.connect()
            try:
                res, done = await c.run({"command": "echo hello"})
                assert res.get("result", {}).get("status") == "started", res
                assert done["exit_code"] == 0, done
                out = "".join(m["params"]["data"] for m in c.backlog
                              if m.get("method") == "process.output")
                assert out == "hello\n", repr(out)
            finally:
                await asyncio.wait_for(c.close(), 10)
        asyncio.run(go())
        return "process.completed exit 0, output 'hello\\n'"

    def check_user(self):
        uid = run("user", PODMAN + ["exec", self.cid, "id", "-u"])[1].strip()
        gid = run("user", PODMAN + ["exec", self.cid, "id", "-g"])[1].strip()
        group = run("user", PODMAN + ["exec", self.cid, "id", "-gn"])[1]
        assert (uid, gid) == (SERVER_USER, SERVER_USER), (uid, gid)
        assert group.strip() == "actorexec", group
        # Every process of the container, the server's included.
        top = run("user", PODMAN + ["top", self.cid, "user", "comm"])[1]
        procs = [l.split() for l in top.splitlines()[1:] if l.strip()]
        assert any(p[1] == "actorexec" for p in procs), top
        assert all(p[0] == "actorexec" for p in procs), top
        return f"uid and gid {uid}, processes: " + \
            ", ".join(f"{p[1]} as {p[0]}" for p in procs)

    def check_healthcheck(self):
        rc, out, err = run("healthcheck", PODMAN + ["healthcheck", "run",
                                                    self.cid], check=False)
        assert rc == 0, f"podman healthcheck run exited {rc}: " \
                        f"{tail(out + err)}"
        return "podman healthcheck run: healthy"

    def check_mcp_initialize(self):
        """MCP's `initialize` over HTTP (POST /mcp), once the server
        serves it; until then (404 or 405) this check is skipped."""
        body = json.dumps({
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                       "clientInfo": {"name": "deploy_image",
                                      "version": "1"}}})
        status, ctype, raw = http_request(
            self.port, "/mcp", "POST",
            {"Authorization": f"Bearer {self.token}",
             "Content-Type": "application/json",
             "Accept": "application/json, text/event-stream"}, body)
        if status in (404, 405):
            raise Skipped(f"the server does not serve POST /mcp ({status})")
        assert status == 200, f"POST /mcp answered {status}: {raw[:200]}"
        text = raw.decode()
        if ctype.startswith("text/event-stream"):
            text = next(l[5:] for l in text.splitlines()
                        if l.startswith("data:"))
        result = json.loads(text)["result"]
        assert isinstance(result["protocolVersion"], str), result
        assert isinstance(result["serverInfo"]["name"], str), result
        return f"protocolVersion {result['protocolVersion']}"

    def check_drain(self):
        """SIGTERM (podman stop) while a process runs: the client gets
        server.shutdown, /readyz turns 503, the process finishes on its own,
        the socket closes 1001, the server exits 0, long before podman
        would SIGKILL it."""
        stop = {}

        def stopper():
            t0 = time.monotonic()
            try:
                stop["rc"] = run("drain", PODMAN + [
                    "stop", "-t", str(STOP_GRACE), self.cid],
                    timeout=STOP_GRACE + 30, check=False)[0]
            except StepFailed as e:
                stop["error"] = str(e)
            stop["elapsed"] = time.monotonic() - t0

        async def go():
            c = await self.connect()
            res = await c.request("execute",
                                  {"command": "sleep 4; echo drained"})
            assert res.get("result", {}).get("status") == "started", res
            thread = threading.Thread(target=stopper, daemon=True)
            thread.start()
            msg = await c.wait_for(
                lambda m: m.get("method") == "server.shutdown")
            status, _, body = await asyncio.to_thread(
                http_request, self.port, "/readyz")
            assert (status, json.loads(body)) == (
                503, {"status": "not_ready", "reason": "draining"}), \
                ("/readyz while draining", status, body)
            done = (await c.wait_for(
                lambda m: m.get("method") == "process.completed"))["params"]
            assert (done["status"], done["exit_code"]) == ("completed", 0), \
                done
            out = "".join(m["params"]["data"] for m in c.backlog
                          if m.get("method") == "process.output")
            assert out == "drained\n", repr(out)
            await asyncio.wait_for(c.ws.wait_closed(), 15)
            assert c.ws.close_code == 1001, c.ws.close_code
            await asyncio.to_thread(thread.join, STOP_GRACE + 40)
            return msg["params"]["grace_ms"]

        grace_ms = asyncio.run(go())
        assert "error" not in stop, stop.get("error")
        assert stop.get("rc") == 0, f"podman stop exited {stop.get('rc')}"
        assert stop["elapsed"] < STOP_GRACE, \
            f"podman stop took {stop['elapsed']:.1f} s (grace {STOP_GRACE} s)"
        code = self.exit_code()
        assert code == 0, f"the server exited {code}"
        evs = self.events()
        assert "shutdown" in evs and "stopped" in evs, evs
        assert "shutdown_deadline" not in evs, evs
        return (f"stop took {stop['elapsed']:.1f} s of {STOP_GRACE}, exit 0, "
                f"grace_ms {grace_ms}, log: shutdown, stopped")

    async def connect(self):
        return await Client.open(
            f"ws://127.0.0.1:{self.port}/ws/mcp",
            extra_headers={"Authorization": f"Bearer {self.token}"})

    # ---- the whole run ---------------------------------------------------

    def main(self):
        try:
            self.timed("tools", self.step_tools)
            self.timed("base", self.step_base)
            self.timed("build", self.step_build)
            self.timed("start", self.step_start)
            for name in ("image_size", "healthz", "readyz",
                         "upgrade_without_token", "execute_echo", "user",
                         "healthcheck", "mcp_initialize", "drain"):
                self.check(name, getattr(self, "check_" + name))
        except StepFailed as e:
            say(f"FAILED at step {e.step}: {e.why}")
            return 1
        except Exception as e:      # a bug here, or an answer not expected
            say(f"FAILED at step {self.step}: {type(e).__name__}: {e}")
            return 1
        finally:
            if self.cid and any(s == "FAILED" for _, s, _ in self.results):
                print(self.logs(), flush=True)
            try:
                remove_labelled()
                self.cleaned = True
            except StepFailed as e:
                say(f"FAILED at cleanup: {e.why}")
            for name in os.listdir(self.tmp):
                os.unlink(os.path.join(self.tmp, name))
            os.rmdir(self.tmp)
        if not self.cleaned:
            return 1
        counts = {s: sum(1 for _, st, _ in self.results if st == s)
                  for s in ("ok", "FAILED", "skipped")}
        say("times: " + ", ".join(f"{k} {v:.0f} s"
                                  for k, v in self.times.items()))
        for name, status, detail in self.results:
            if status == "FAILED":
                say(f"FAILED check {name}: {detail}")
        print(f"{counts['ok']} passed, {counts['FAILED']} failed, "
              f"{counts['skipped']} skipped", flush=True)
        return 1 if counts["FAILED"] else 0


def limit(which, most):
    """The value for `podman run --ulimit`: at most the host's hard limit
    (a container may not raise it) and at most `most`."""
    hard = resource.getrlimit(which)[1]
    return most if hard == resource.RLIM_INFINITY else min(hard, most)


if __name__ == "__main__":
    if os.geteuid() != 0:
        say("skipped: building and running the image needs root "
            "(podman with chroot isolation, mmdebstrap)")
        sys.exit(SKIP)
    sys.exit(ImageTest().main())
