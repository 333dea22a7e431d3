"""Harness of actorexec's integration tests.

Each test file is a standalone unittest program run with Debian's Python
(/usr/bin/python3, which has python3-websockets 10.4). ctest passes two paths
in the environment:

  ACTOREXEC_BIN  the server binary
  FAKE_CHILD     tests/fake_child's program

What is here:
  Server          starts the binary on a free loopback port (`--port 0`), learns
                  the port from the "listening" log line on stderr, keeps
                  draining stderr (one JSON object per line) into `events`, and
                  stops it with SIGTERM (SIGKILL after a bound).
  Client          a JSON-RPC client over the `websockets` library: every read
                  has a timeout, notifications that arrive while waiting for
                  something else are kept in a backlog, and every frame is
                  checked against the protocol's invariants (jsonrpc "2.0", one
                  gap-free `seq` counter over process.* and stream.gap).
  ProcessRun      the events of one process, with output reassembled (base64
                  pieces decoded, chunked lines joined).
  RawWebSocket    a minimal hand-rolled client for what a library will not do
                  (invalid UTF-8 text frames, not answering pings, half-open).
  ServerTestCase  an IsolatedAsyncioTestCase that starts a server per test with
                  the class's `server_args`, and cleans up servers, clients and
                  any process group a test left behind.
  /proc helpers   processes of a process group, liveness, a child blocked in
                  write(2), waiting with a deadline (`wait_until`,
                  `async_wait_until`, `async_poll` for a condition that asks
                  the server: polling a condition is fine; fixed sleeps are
                  not, unless the time passing is what a test checks).

Nothing here waits without a bound: a broken server fails a test, it never
hangs it.

Running one file or one test by hand, from a build directory `build`:

  ACTOREXEC_BIN=build/app/actorexec FAKE_CHILD=build/tests/fake_child/fake_child \
      /usr/bin/python3 tests/integration/test_control.py [CancelTest.test_x]

ACTOREXEC_TEST_LOGS=1 prints each server's stderr tail when it is stopped
(it is printed anyway when the server crashed or would not stop).
"""

import asyncio
import base64
import collections
import hashlib
import json
import os
import re
import shlex
import signal
import subprocess
import threading
import time
import unittest
import urllib.error
import urllib.request

import websockets

# Bounds of every wait, in seconds.
START_TIMEOUT = 20.0  # until the server announces "listening"
FRAME_TIMEOUT = 30.0  # for one awaited frame
STOP_TIMEOUT = 15.0  # from SIGTERM to exit, then SIGKILL
CLOSE_TIMEOUT = 10.0  # for a WebSocket close handshake

UUID4_RE = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

# Set by deploy/test.sh's sanitizer job. Under AddressSanitizer the server's
# resident size says nothing about its own buffering (ASan keeps up to 256 MiB
# of freed memory in quarantine and pads every block), so memory bounds are
# checked by the normal run only; everything else is checked in both.
SANITIZED = os.environ.get("ACTOREXEC_TEST_SANITIZERS") == "1"

# Settings a developer's environment might hold that would change the server
# under test (spec section 11: ACTOREXEC_* plus the seed's names).
_SERVER_ENV_NAMES = {
    "DEFAULT_PORT", "MAX_SESSIONS", "ALLOWED_COMMANDS", "CC_EXECUTOR_SHELL",
    "LOG_LEVEL", "WEBSOCKET_HEARTBEAT_INTERVAL", "MAX_OUTPUT_BUFFER",
    "OUTPUT_LINE_LIMIT",
}

# The capabilities announced in `connected` (spec section 3).
CAPABILITIES = ["execute", "control", "stream", "input", "resume", "ack",
                "status"]


class ConfigError(AssertionError):
    """The test environment is incomplete (a path is missing)."""


def _required_path(name):
    path = os.environ.get(name)
    if not path:
        raise ConfigError(
            f"{name} is not set: run the tests through ctest, or export "
            f"{name}=/path/to/binary")
    if not os.access(path, os.X_OK):
        raise ConfigError(f"{name}={path} is not an executable file")
    return path


def server_binary():
    return _required_path("ACTOREXEC_BIN")


def fake_child_path():
    return _required_path("FAKE_CHILD")


# --------------------------------------------------------------------------
# The fake child: command builders and the exact bytes it prints.
# --------------------------------------------------------------------------

def fake_argv(*args):
    """argv running fake_child with `args` (no shell)."""
    return [fake_child_path()] + [str(a) for a in args]


def fake_cmd(*args):
    """A shell command that execs fake_child with `args`: the shell replaces
    itself, so the process the server spawned is fake_child itself."""
    return "exec " + " ".join(shlex.quote(a) for a in fake_argv(*args))


def numbered_line(i, width=100, tag=""):
    """Line `i` of fake_child's --lines/--flood output."""
    line = f"{tag}line {i:06d} "
    if len(line) < width - 1:
        line += "x" * (width - 1 - len(line))
    return (line + "\n").encode()


def numbered_lines(n, width=100, tag=""):
    return [numbered_line(i, width, tag) for i in range(1, n + 1)]


def stderr_lines(n, tag=""):
    """fake_child --stderr-lines N."""
    return [f"{tag}err {i:06d}\n".encode() for i in range(1, n + 1)]


def flood_bytes(n):
    """fake_child --flood N: the numbered-line stream (width 100) cut at N."""
    count = n // 100 + 2
    return b"".join(numbered_line(i) for i in range(1, count + 1))[:n]


def long_line(n):
    """fake_child --long-line N."""
    return bytes(ord("a") + i % 26 for i in range(n)) + b"\n"


# fake_child --invalid-utf8: an invalid line, then a valid one whose 4-byte
# character (U+1F600) fake_child writes in two pieces 50 ms apart.
INVALID_UTF8_LINE = b"\xff\xfe ok \xc3\x28 \xed\xa0\x80\n"
SPLIT_CHAR_LINE = "emoji \U0001F600 done\n".encode()
INVALID_UTF8_OUTPUT = INVALID_UTF8_LINE + SPLIT_CHAR_LINE

# fake_child --all-bytes.
ALL_BYTES = bytes(range(256)) + b"\n"


# --------------------------------------------------------------------------
# /proc helpers.
# --------------------------------------------------------------------------

def proc_stat(pid):
    """{"pid","comm","state","ppid","pgrp"} of a process, or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    open_paren, close_paren = raw.find("("), raw.rfind(")")
    fields = raw[close_paren + 2:].split()
    return {"pid": int(pid), "comm": raw[open_paren + 1:close_paren],
            "state": fields[0], "ppid": int(fields[1]),
            "pgrp": int(fields[2])}


def all_processes():
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = proc_stat(name)
            if st is not None:
                yield st


def is_live(st):
    # A zombie has ended; it only waits to be reaped (by init, for orphaned
    # grandchildren, which may take a moment).
    return st is not None and st["state"] not in ("Z", "X", "x")


def pid_alive(pid):
    return is_live(proc_stat(pid))


def processes_in_group(pgid, include_zombies=False):
    return [st for st in all_processes()
            if st["pgrp"] == pgid and (include_zombies or is_live(st))]


def children_of(pid):
    return [st for st in all_processes() if st["ppid"] == pid]


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except FileNotFoundError:
        return None


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return None


def wchan(pid):
    """The kernel function process `pid` sleeps in ("0" when running), or
    None if it is gone."""
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return f.read().strip()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def blocked_in_write(pid):
    """True while `pid` sleeps in write(2) on a full pipe: its reader (the
    server) reads no more."""
    w = wchan(pid) or ""
    # pipe_wait before Linux 5.5, pipe_write after, anon_pipe_write since 6.x.
    return w == "pipe_wait" or w.endswith("pipe_write")


def wait_until(condition, timeout, interval=0.02):
    """Polls `condition` until it holds or `timeout` seconds passed; returns
    its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


async def async_wait_until(condition, timeout, interval=0.02):
    """wait_until that lets the event loop run meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        await asyncio.sleep(interval)


async def async_poll(condition, timeout, interval=0.02):
    """async_wait_until for a condition that must itself be awaited (one
    that asks the server, such as a `status` call)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await condition()
        if value or time.monotonic() >= deadline:
            return value
        await asyncio.sleep(interval)


async def wait_group_gone(pgid, timeout=5.0):
    """Waits until no live process is in group `pgid`; returns what is left
    (an empty list on success)."""
    await async_wait_until(lambda: not processes_in_group(pgid), timeout)
    return processes_in_group(pgid)


def kill_group(pgid):
    """SIGKILL to a process group a test left behind, never to ours."""
    if not isinstance(pgid, int) or pgid <= 1 or pgid == os.getpgrp():
        return
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# --------------------------------------------------------------------------
# The server process.
# --------------------------------------------------------------------------

class Server:
    """The actorexec binary on a free loopback port."""

    def __init__(self, args=(), env=None, host="127.0.0.1"):
        self.args = [str(a) for a in args]
        self.host = host
        self.extra_env = dict(env or {})
        self.proc = None
        self.port = None
        self.events = []  # parsed stderr log lines (dicts), in order
        self.stderr_lines = []  # every stderr line, raw
        self.stdout_lines = []
        self.exit_expected = False  # set by tests that make it exit
        self.signaled = False
        self._cond = threading.Condition()
        self._threads = []
        self._stderr_eof = False

    @property
    def pid(self):
        return self.proc.pid

    def command(self):
        return [server_binary(), "--host", self.host, "--port", "0", *self.args]

    def environment(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("ACTOREXEC_") and k not in _SERVER_ENV_NAMES}
        env.update(self.extra_env)
        return env

    def spawn(self):
        self.proc = subprocess.Popen(
            self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=self.environment(),
            start_new_session=True)
        for stream, fn in ((self.proc.stderr, self._drain_stderr),
                           (self.proc.stdout, self._drain_stdout)):
            t = threading.Thread(target=fn, args=(stream,), daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def start(self, timeout=START_TIMEOUT):
        """Spawns the server and waits for its "listening" line."""
        self.spawn()
        with self._cond:
            self._cond.wait_for(
                lambda: self.port is not None or self._stderr_eof,
                timeout)
        if self.port is None:
            rc = self.proc.poll()
            self.exit_expected = True  # reported here, not again at cleanup
            self.stop()
            with self._cond:
                stdout = "".join(self.stdout_lines[-20:])
            raise AssertionError(
                f"server did not announce 'listening' within {timeout:.0f} s "
                f"(exit status {rc}); command: {shlex.join(self.command())}\n"
                f"stderr tail:\n{self.tail()}\nstdout tail:\n{stdout}")
        return self

    def _drain_stderr(self, stream):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            try:
                event = json.loads(line)
            except ValueError:
                event = None
            with self._cond:
                self.stderr_lines.append(line)
                if isinstance(event, dict):
                    self.events.append(event)
                    if (event.get("event") == "listening"
                            and self.port is None and "port" in event):
                        self.port = int(event["port"])
                self._cond.notify_all()
        with self._cond:
            self._stderr_eof = True
            self._cond.notify_all()

    def _drain_stdout(self, stream):
        for raw in iter(stream.readline, b""):
            with self._cond:
                self.stdout_lines.append(raw.decode("utf-8", "replace"))

    def tail(self, n=40):
        with self._cond:
            return "\n".join(self.stderr_lines[-n:])

    def logs(self):
        with self._cond:
            return list(self.events)

    def wait_log(self, predicate, timeout=FRAME_TIMEOUT):
        """Waits for a log event (a dict) matching `predicate`."""
        def find():
            for e in self.events:
                try:
                    if predicate(e):
                        return e
                except (KeyError, TypeError, AttributeError):
                    pass
            return None
        with self._cond:
            found = self._cond.wait_for(find, timeout)
        if not found:
            raise AssertionError(
                f"no matching log event within {timeout} s; tail:\n{self.tail()}")
        return found

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def url(self, path="/ws/mcp"):
        return f"ws://{self.host}:{self.port}{path}"

    def http_get(self, path, headers=None, timeout=10):
        """(status, headers, body bytes) of a plain HTTP GET."""
        req = urllib.request.Request(
            f"http://{self.host}:{self.port}{path}", headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def http_json(self, path):
        status, headers, body = self.http_get(path)
        return status, json.loads(body)

    def terminate(self):
        """SIGTERM (graceful shutdown) without waiting."""
        self.signaled = True
        if self.running():
            self.proc.send_signal(signal.SIGTERM)

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, wait up to `timeout`, then SIGKILL. Returns a list of
        problems: an exit nobody asked for, a shutdown that needed SIGKILL."""
        problems = []
        if self.proc is None:
            return problems
        rc = self.proc.poll()
        if rc is not None and not self.signaled and not self.exit_expected:
            problems.append(f"server exited on its own with status {rc}")
        if rc is None:
            self.terminate()
            if self.wait_exit(timeout) is None:
                problems.append(f"server still running {timeout:.0f} s after "
                                f"SIGTERM; killed")
                self.proc.kill()
                self.proc.wait()
        for t in self._threads:
            t.join(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()
        # A sanitizer build: UBSan reports on stderr (GCC's runtime ignores
        # UBSAN_OPTIONS' log_path when the check is not recoverable), and a
        # report while shutting down would otherwise fail no test.
        with self._cond:
            ubsan = [l for l in self.stderr_lines if ": runtime error: " in l]
        if ubsan:
            problems.append(f"UndefinedBehaviorSanitizer: {ubsan[0][:300]}")
        if problems or os.environ.get("ACTOREXEC_TEST_LOGS"):
            problems_text = "; ".join(problems) or "(no problem)"
            print(f"\n--- server {self.proc.pid} ({problems_text}), stderr "
                  f"tail:\n{self.tail(80)}\n---", flush=True)
        return problems


# --------------------------------------------------------------------------
# Output of one process.
# --------------------------------------------------------------------------

def piece_bytes(params):
    """The child's bytes carried by one process.output frame."""
    enc = params.get("encoding", "utf8")
    if enc == "base64":
        return base64.b64decode(params["data"], validate=True)
    if enc in ("utf8", "utf-8"):
        return params["data"].encode("utf-8")
    raise AssertionError(f"unknown output encoding {enc!r}: {params}")


def is_process_event(frame):
    m = frame.get("method")
    return isinstance(m, str) and (m.startswith("process.") or m == "stream.gap")


class ProcessRun:
    """The response to one execute and the events of its process."""

    def __init__(self, response=None):
        self.response = response
        self.events = []  # frames: process.*, stream.gap
        self.t_start = time.monotonic()
        self.t_completed = None

    def add(self, frame):
        self.events.append(frame)
        if frame.get("method") == "process.completed":
            self.t_completed = time.monotonic()

    def methods(self):
        return [f["method"] for f in self.events]

    def first(self, method):
        for f in self.events:
            if f.get("method") == method:
                return f["params"]
        return None

    @property
    def started(self):
        return self.first("process.started")

    @property
    def completed(self):
        return self.first("process.completed")

    @property
    def elapsed(self):
        return (self.t_completed or time.monotonic()) - self.t_start

    def outputs(self, stream=None):
        return [f["params"] for f in self.events
                if f.get("method") == "process.output"
                and (stream is None or f["params"].get("type") == stream)]

    def gaps(self, stream=None):
        return [f["params"] for f in self.events
                if f.get("method") == "stream.gap"
                and (stream is None or f["params"].get("type") == stream)]

    def output(self, stream="stdout"):
        return b"".join(piece_bytes(p) for p in self.outputs(stream))

    def text(self, stream="stdout"):
        return self.output(stream).decode("utf-8")

    def lines(self, stream="stdout"):
        """Logical lines, chunked pieces joined (by chunk_index/total_chunks)."""
        out, cur = [], None
        for p in self.outputs(stream):
            b = piece_bytes(p)
            ci, tc = p.get("chunk_index", 0), p.get("total_chunks", 1)
            cur = bytearray(b) if ci == 0 or cur is None else cur + b
            if ci >= tc - 1:
                out.append(bytes(cur))
                cur = None
        if cur is not None:
            out.append(bytes(cur))
        return out

    def chunk_errors(self):
        """Violations of the chunk fields: indices run 0..total-1 in order on
        each stream, total_chunks constant within a line, truncated set on
        every piece but the last."""
        errors = []
        for stream in ("stdout", "stderr"):
            expect = 0
            total = None
            for p in self.outputs(stream):
                ci, tc, tr = (p.get("chunk_index"), p.get("total_chunks"),
                              p.get("truncated"))
                if not (isinstance(ci, int) and isinstance(tc, int)
                        and isinstance(tr, bool)):
                    errors.append(f"missing or mistyped chunk fields: {p}")
                    continue
                if ci != expect or (total is not None and tc != total):
                    errors.append(f"{stream}: chunk {ci}/{tc} where "
                                  f"{expect}/{total} was due")
                if tc < 1 or ci >= tc:
                    errors.append(f"{stream}: chunk {ci} of {tc}")
                if tr != (ci < tc - 1):
                    errors.append(f"{stream}: truncated={tr} on chunk {ci}/{tc}")
                if ci >= tc - 1:
                    expect, total = 0, None
                else:
                    expect, total = ci + 1, tc
            if expect != 0:
                errors.append(f"{stream}: line left unfinished at chunk {expect}")
        return errors


# --------------------------------------------------------------------------
# The WebSocket client.
# --------------------------------------------------------------------------

AUTO = object()  # request(): pick the next integer id
NO_ID = object()  # request(): send no id at all


class NoFrame(AssertionError):
    """No frame arrived within the time allowed."""


class ServerClosed(AssertionError):
    """The server closed the connection while a frame was awaited."""

    def __init__(self, message, code=None, reason=None):
        super().__init__(message)
        self.code = code
        self.reason = reason


def _brief(frame, limit=300):
    text = json.dumps(frame) if not isinstance(frame, str) else frame
    return text if len(text) <= limit else text[:limit] + "..."


class Client:
    """One WebSocket connection speaking JSON-RPC to the server."""

    def __init__(self, ws):
        self.ws = ws
        self.backlog = collections.deque()  # received, not yet consumed
        self.frames = []  # every frame received, in order
        self.problems = []  # protocol violations seen on this connection
        self.last_seq = 0  # seq of the last process.*/stream.gap frame
        self.connected = None  # params of the `connected` frame
        self.pgids = set()  # process groups this connection was told of
        self._next_id = 1

    @classmethod
    async def open(cls, url, read_connected=True, **kwargs):
        """Connects; with `read_connected`, reads and checks the first frame."""
        opts = dict(max_size=None, ping_interval=None, open_timeout=10,
                    close_timeout=5)
        opts.update(kwargs)
        ws = await asyncio.wait_for(websockets.connect(url, **opts), 15)
        client = cls(ws)
        if read_connected:
            frame = await client.next()
            if frame.get("method") != "connected":
                raise AssertionError(f"first frame is not 'connected': "
                                     f"{_brief(frame)}")
            client.connected = frame.get("params")
        return client

    @property
    def session_id(self):
        return self.connected["session_id"]

    # -- receiving ---------------------------------------------------------

    async def _recv(self, timeout):
        try:
            msg = await asyncio.wait_for(self.ws.recv(), timeout)
        except asyncio.TimeoutError:
            raise NoFrame(
                f"no frame within {timeout:.1f} s; last frames: "
                f"{[_brief(f, 150) for f in self.frames[-5:]]}") from None
        except websockets.ConnectionClosed as e:
            raise ServerClosed(
                f"connection closed (code {self.ws.close_code}, reason "
                f"{self.ws.close_reason!r}) while a frame was awaited; last "
                f"frames: {[_brief(f, 150) for f in self.frames[-5:]]}",
                self.ws.close_code, self.ws.close_reason) from e
        if isinstance(msg, bytes):
            self.problems.append("server sent a binary frame")
            msg = msg.decode("utf-8", errors="replace")
        try:
            frame = json.loads(msg)
        except ValueError:
            self.problems.append(f"server sent invalid JSON: {msg[:200]!r}")
            raise AssertionError(f"server sent invalid JSON: {msg[:200]!r}")
        if not isinstance(frame, dict):
            self.problems.append(f"server sent a non-object: {msg[:200]!r}")
            raise AssertionError(f"server sent a non-object: {msg[:200]!r}")
        self._track(frame)
        self.frames.append(frame)
        return frame

    def _track(self, frame):
        if frame.get("jsonrpc") != "2.0":
            self.problems.append(f"frame without jsonrpc 2.0: {_brief(frame)}")
        method = frame.get("method")
        params = frame.get("params")
        if is_process_event(frame):
            seq = params.get("seq") if isinstance(params, dict) else None
            if not isinstance(seq, int) or isinstance(seq, bool):
                self.problems.append(f"{method} without integer seq: "
                                     f"{_brief(frame)}")
            else:
                # A resume gap stands for every event the client missed and
                # carries the seq of the last of them: it may skip ahead.
                skips = method == "stream.gap" and seq > self.last_seq
                if seq != self.last_seq + 1 and not skips:
                    self.problems.append(
                        f"seq {seq} ({method}) after seq {self.last_seq}")
                self.last_seq = seq
        if method == "process.started" and isinstance(params, dict):
            self.pgids.add(params.get("pgid"))
        result = frame.get("result")
        if isinstance(result, dict) and result.get("status") == "started":
            self.pgids.add(result.get("pgid"))

    async def next(self, timeout=FRAME_TIMEOUT):
        """The next frame not yet consumed."""
        if self.backlog:
            return self.backlog.popleft()
        return await self._recv(timeout)

    async def wait_for(self, predicate, timeout=FRAME_TIMEOUT, what=None):
        """The first unconsumed frame matching `predicate`; frames that do
        not match stay in the backlog, in order."""
        def matches(f):
            try:
                return bool(predicate(f))
            except (KeyError, TypeError, AttributeError, IndexError):
                return False
        for i, f in enumerate(self.backlog):
            if matches(f):
                del self.backlog[i]
                return f
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                if left <= 0:
                    raise NoFrame()
                f = await self._recv(left)
            except NoFrame:
                raise NoFrame(
                    f"timed out after {timeout:.1f} s waiting for "
                    f"{what or 'a matching frame'}; last frames: "
                    f"{[_brief(f, 150) for f in self.frames[-8:]]}") from None
            if matches(f):
                return f
            self.backlog.append(f)

    async def wait_method(self, method, predicate=None, timeout=FRAME_TIMEOUT):
        return await self.wait_for(
            lambda f: f.get("method") == method
            and (predicate is None or predicate(f["params"])),
            timeout, what=method)

    async def frames_during(self, seconds):
        """Every frame that arrives within `seconds` (kept in the backlog
        too). For asserting that something does NOT happen in a window."""
        seen = []
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return seen
            try:
                frame = await self._recv(left)
            except NoFrame:  # nothing more within the window
                return seen
            self.backlog.append(frame)
            seen.append(frame)

    async def wait_closed(self, timeout=CLOSE_TIMEOUT):
        """Reads until the server closes; returns (code, reason) and the
        frames that came before the close."""
        frames = list(self.backlog)
        self.backlog.clear()
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                if left <= 0:
                    raise NoFrame()
                frames.append(await self._recv(left))
            except NoFrame:
                raise AssertionError(
                    f"connection still open after {timeout:.1f} s; frames: "
                    f"{[_brief(f, 150) for f in frames[-5:]]}") from None
            except ServerClosed:
                await asyncio.wait_for(self.ws.wait_closed(), left + 5)
                return (self.ws.close_code, self.ws.close_reason), frames

    # -- sending -----------------------------------------------------------

    async def send(self, obj):
        await self.send_raw(json.dumps(obj))

    async def send_raw(self, text):
        await self.ws.send(text)

    def new_id(self):
        i = self._next_id
        self._next_id += 1
        return i

    def message(self, method, params=None, id=AUTO):
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        if id is AUTO:
            id = self.new_id()
        if id is not NO_ID:
            msg["id"] = id
        return msg

    async def request(self, method, params=None, id=AUTO,
                      timeout=FRAME_TIMEOUT):
        """Sends a request and returns its response frame (result or error)."""
        msg = self.message(method, params, id)
        await self.send(msg)
        return await self.response(msg.get("id", NO_ID), timeout)

    async def response(self, id=NO_ID, timeout=FRAME_TIMEOUT):
        """The response with this id (NO_ID: a response without id key)."""
        def is_response(f):
            if "method" in f or not ("result" in f or "error" in f):
                return False
            if id is NO_ID:
                return "id" not in f
            return ("id" in f and f["id"] == id
                    and type(f["id"]) is type(id))
        what = "the response without id" if id is NO_ID else f"response {id!r}"
        return await self.wait_for(is_response, timeout, what)

    async def call(self, method, params=None, **kwargs):
        """request() that must succeed; returns the result."""
        resp = await self.request(method, params, **kwargs)
        if "error" in resp or "result" not in resp:
            raise AssertionError(f"{method} {params} failed: {_brief(resp)}")
        return resp["result"]

    async def call_error(self, method, params=None, code=None, **kwargs):
        """request() that must fail (with `code`); returns the error."""
        resp = await self.request(method, params, **kwargs)
        if "error" not in resp:
            raise AssertionError(f"{method} {params} should have failed: "
                                 f"{_brief(resp)}")
        err = resp["error"]
        if code is not None and err.get("code") != code:
            raise AssertionError(f"{method} {params}: error code "
                                 f"{err.get('code')} instead of {code}: {err}")
        return err

    # -- processes ---------------------------------------------------------

    async def start(self, params, id=AUTO):
        """execute that must succeed; returns a ProcessRun holding the
        response and the process.started event."""
        resp = await self.request("execute", params, id=id)
        if resp.get("result", {}).get("status") != "started":
            raise AssertionError(f"execute {params} did not start: "
                                 f"{_brief(resp)}")
        run = ProcessRun(resp)
        run.add(await self.wait_method("process.started"))
        return run

    async def collect(self, run, timeout=FRAME_TIMEOUT, until=None):
        """Adds process events to `run` until process.completed (or until
        `until(frame)` holds); `timeout` bounds the wait for each event."""
        while True:
            f = await self.wait_for(is_process_event, timeout,
                                    "a process event")
            run.add(f)
            if f["method"] == "process.completed" or (until and until(f)):
                return run

    async def collect_until(self, run, method, predicate=None,
                            timeout=FRAME_TIMEOUT):
        """Adds process events to `run` up to the first `method` event whose
        params match `predicate`, and returns that frame. Fails if the
        process completes first."""
        while True:
            f = await self.wait_for(is_process_event, timeout,
                                    f"a process event before {method}")
            run.add(f)
            if f["method"] == method and (predicate is None
                                          or predicate(f["params"])):
                return f
            if f["method"] == "process.completed":
                raise AssertionError(
                    f"process completed before the awaited {method}: "
                    f"{_brief(f)}")

    async def run(self, params, timeout=FRAME_TIMEOUT):
        """execute, then every event up to process.completed."""
        return await self.collect(await self.start(params), timeout)

    async def close(self, code=1000):
        try:
            await asyncio.wait_for(self.ws.close(code), CLOSE_TIMEOUT)
        except (asyncio.TimeoutError, websockets.WebSocketException, OSError):
            self.ws.transport.abort()

    def abort(self):
        """Drops the TCP connection without a Close frame (connection loss)."""
        self.ws.transport.abort()


# --------------------------------------------------------------------------
# A hand-rolled WebSocket client (RFC 6455) for what a library will not do.
# --------------------------------------------------------------------------

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10
_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class RawWebSocket:
    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer
        self.status = None
        self.headers = {}

    @classmethod
    async def connect(cls, host, port):
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port), 10)
        return cls(reader, writer)

    @classmethod
    async def open(cls, host, port, path="/ws/mcp", headers=None):
        ws = await cls.connect(host, port)
        await ws.handshake(host, port, path, headers)
        if ws.status != 101:
            raise AssertionError(f"handshake refused: HTTP {ws.status}")
        return ws

    async def handshake(self, host, port, path="/ws/mcp", headers=None):
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}",
                 "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self.writer.drain()
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 10)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1])
        for h in header_lines:
            if ":" in h:
                k, v = h.split(":", 1)
                self.headers[k.strip().lower()] = v.strip()
        if self.status == 101:
            accept = base64.b64encode(
                hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
            if self.headers.get("sec-websocket-accept") != accept:
                raise AssertionError("bad Sec-WebSocket-Accept")
        return self.status

    def send_frame(self, opcode, payload=b"", fin=True):
        if isinstance(payload, str):
            payload = payload.encode()
        head = bytearray([(0x80 if fin else 0) | opcode])
        n = len(payload)
        if n < 126:
            head.append(0x80 | n)
        elif n < 1 << 16:
            head.append(0x80 | 126)
            head += n.to_bytes(2, "big")
        else:
            head.append(0x80 | 127)
            head += n.to_bytes(8, "big")
        mask = os.urandom(4)
        head += mask
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(bytes(head) + masked)

    async def recv_frame(self, timeout=FRAME_TIMEOUT):
        """(fin, opcode, payload), or None when the server closed TCP."""
        try:
            head = await asyncio.wait_for(self.reader.readexactly(2), timeout)
            n = head[1] & 0x7F
            if n == 126:
                n = int.from_bytes(await self.reader.readexactly(2), "big")
            elif n == 127:
                n = int.from_bytes(await self.reader.readexactly(8), "big")
            mask = (await self.reader.readexactly(4)) if head[1] & 0x80 else None
            payload = await self.reader.readexactly(n)
        except (asyncio.IncompleteReadError, ConnectionResetError):
            return None
        except asyncio.TimeoutError:
            raise NoFrame(f"raw client: no frame within {timeout:.1f} s") \
                from None
        if mask:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return bool(head[0] & 0x80), head[0] & 0x0F, payload

    async def recv_until(self, predicate, timeout=FRAME_TIMEOUT):
        """Frames until one matches (returned) or TCP closes (None)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching frame within {timeout} s")
            frame = await self.recv_frame(left)
            if frame is None or predicate(frame):
                return frame

    async def close_code(self, timeout=CLOSE_TIMEOUT):
        """Reads until a Close frame (returns its code, or None if it had
        none) or the end of the TCP stream (returns "eof")."""
        frame = await self.recv_until(lambda f: f[1] == OP_CLOSE, timeout)
        if frame is None:
            return "eof"
        payload = frame[2]
        return int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None

    async def wait_eof(self, timeout):
        """True once the server closed the TCP connection."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                data = await asyncio.wait_for(self.reader.read(65536), left)
            except asyncio.TimeoutError:
                return False
            except ConnectionResetError:
                return True
            if not data:
                return True

    def abort(self):
        self.writer.transport.abort()


# --------------------------------------------------------------------------
# The test case base class.
# --------------------------------------------------------------------------

class ServerTestCase(unittest.IsolatedAsyncioTestCase):
    """Starts a server per test with `server_args` (extra flags after
    `--host 127.0.0.1 --port 0`) and `server_env`; cleans up afterwards:
    clients closed, servers stopped, leftover process groups killed, and the
    test fails if any connection saw a protocol violation."""

    server_args = []
    server_env = {}
    start_server_in_setup = True

    async def asyncSetUp(self):
        # IsolatedAsyncioTestCase runs its loop in debug mode, which slows
        # the throughput tests and warns about the (deliberately) blocking
        # server start and HTTP calls.
        asyncio.get_running_loop().set_debug(False)
        await asyncio.sleep(0)  # the next step runs without debug checks
        self.clients = []
        self.servers = []
        self.extra_pgids = set()
        self.addCleanup(self._kill_leftover_groups)
        self.server = None
        if self.start_server_in_setup:
            self.server = self.start_server(*self.server_args,
                                            env=self.server_env)

    def start_server(self, *args, env=None, host="127.0.0.1"):
        server = Server(args, env=env, host=host)
        self.servers.append(server)
        self.addCleanup(self._stop_server, server)
        return server.start()

    def _stop_server(self, server):
        problems = server.stop()
        if problems:
            raise AssertionError("; ".join(problems))

    async def connect(self, server=None, path="/ws/mcp", read_connected=True,
                      **kwargs):
        server = server or self.server
        client = await Client.open(server.url(path), read_connected, **kwargs)
        self.clients.append(client)
        self.addAsyncCleanup(client.close)
        return client

    async def asyncTearDown(self):
        problems = [p for c in self.clients for p in c.problems]
        if problems:
            self.fail("protocol violations:\n  " + "\n  ".join(problems[:20]))

    def _kill_leftover_groups(self):
        server_groups = {s.proc.pid for s in self.servers if s.proc}
        pgids = set(self.extra_pgids)
        for c in self.clients:
            pgids |= c.pgids
        for pgid in pgids:
            if pgid in server_groups:
                continue
            if isinstance(pgid, int) and processes_in_group(pgid):
                kill_group(pgid)

    # -- assertions ----------------------------------------------------------

    def assertMemoryGrowth(self, growth_kib, bound_kib):
        """The server's memory grew by less than `bound_kib` (not checked
        under sanitizers, see SANITIZED)."""
        if not SANITIZED:
            self.assertLess(growth_kib, bound_kib,
                            f"server peak memory grew by {growth_kib} KiB")

    def assertNoGroup(self, left, pgid):
        self.assertEqual(
            left, [], f"processes of group {pgid} still alive: "
            f"{[(p['pid'], p['comm'], p['state']) for p in left]}")

    def assertCompleted(self, run, status="completed", exit_code=0):
        c = run.completed
        self.assertIsNotNone(c, f"no process.completed: {run.methods()}")
        self.assertEqual(c.get("status"), status, c)
        if exit_code is not None:
            self.assertEqual(c.get("exit_code"), exit_code, c)

    def assertEventShape(self, params, status, pid=None, pgid=None):
        """process.started|paused|resumed|canceled params (spec section 5)."""
        self.assertEqual(params.get("status"), status, params)
        for key in ("pid", "pgid"):
            self.assertIsInstance(params.get(key), int, params)
        if pid is not None:
            self.assertEqual(params["pid"], pid, params)
        if pgid is not None:
            self.assertEqual(params["pgid"], pgid, params)
        self.assertIn("exit_code", params)
        self.assertIsNone(params["exit_code"], params)
        self.assertIn("error", params)
        self.assertIsNone(params["error"], params)
        self.assertIsInstance(params.get("seq"), int, params)


def main():
    unittest.main(verbosity=2)
