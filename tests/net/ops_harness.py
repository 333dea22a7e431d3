"""Small harness of the tests in tests/net: the real server binary on a free
loopback port, plain HTTP over http.client, WebSocket clients over Debian's
`websockets` (10.4), raw sockets for what a library will not do, and a
parser of the Prometheus text format.

ctest passes ACTOREXEC_BIN (the server); promtool is found on PATH.
Every wait is bounded: a broken server fails a test, never hangs it.
"""

import asyncio
import http.client
import json
import os
import shutil
import re
import resource
import signal
import socket
import subprocess
import threading
import time
import unittest

import websockets

START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0
FRAME_TIMEOUT = 20.0


def server_binary():
    path = os.environ.get("ACTOREXEC_BIN")
    if not path or not os.access(path, os.X_OK):
        raise AssertionError("ACTOREXEC_BIN must name the server binary "
                             "(run through ctest)")
    return path


def clean_env(extra=None):
    """The environment without settings that would change the server."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("ACTOREXEC_")
           and k not in ("MAX_SESSIONS", "ALLOWED_COMMANDS", "LOG_LEVEL",
                         "DEFAULT_PORT")}
    env.update(extra or {})
    return env


def wait_until(cond, timeout=10.0, step=0.02):
    deadline = time.monotonic() + timeout
    while True:
        if cond():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(step)


async def async_wait_until(cond, timeout=10.0, step=0.02):
    deadline = time.monotonic() + timeout
    while True:
        if cond():
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(step)


class Server:
    """The binary started with `--port 0`; its stderr kept line by line."""

    def __init__(self, args=(), env=None, host="127.0.0.1", nofile=None):
        self.cmd = [server_binary(), "--host", host, "--port", "0",
                    *[str(a) for a in args]]
        self.env = clean_env(env)
        # (soft, hard) RLIMIT_NOFILE of the server, or None: ours.
        self.nofile = nofile
        self.port = None
        self.lines = []
        self._cond = threading.Condition()
        self._eof = False
        self.proc = None

    def spawn(self):
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=self.env,
                                     start_new_session=True,
                                     preexec_fn=self._limit_fds)
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _limit_fds(self):
        if self.nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, self.nofile)

    def cpu_seconds(self):
        """utime + stime of the server so far (/proc/PID/stat)."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def start(self):
        self.spawn()
        with self._cond:
            self._cond.wait_for(lambda: self.port is not None or self._eof,
                                START_TIMEOUT)
        if self.port is None:
            self.stop()
            raise AssertionError("server did not listen:\n" + self.log())
        return self

    def _drain(self):
        for raw in iter(self.proc.stderr.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._cond:
                self.lines.append(line)
                try:
                    ev = json.loads(line)
                except ValueError:
                    ev = None
                if (isinstance(ev, dict) and ev.get("event") == "listening"
                        and self.port is None):
                    self.port = int(ev["port"])
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def log(self):
        with self._cond:
            return "\n".join(self.lines)

    def events(self, name):
        out = []
        for line in self.log().splitlines():
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if isinstance(ev, dict) and ev.get("event") == name:
                out.append(ev)
        return out

    def wait_exit(self, timeout):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        with self._cond:
            self._cond.wait_for(lambda: self._eof, 5.0)
            if self._eof:
                self.proc.stderr.close()
        return rc

    def stop(self):
        """SIGTERM, then SIGKILL to the group after a bound. Fails on a
        UBSan report on stderr (a sanitizer build): one printed while
        shutting down would otherwise fail no test."""
        if self.proc is None or self.proc.poll() is not None:
            if self.proc is not None:
                self.wait_exit(5.0)
        else:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait_exit(STOP_TIMEOUT) is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.wait_exit(5.0)
        ubsan = [l for l in self.log().splitlines() if ": runtime error: " in l]
        if ubsan:
            raise AssertionError(f"UndefinedBehaviorSanitizer: {ubsan[0]}")

    # ---- HTTP --------------------------------------------------------------

    def http(self, path, headers=None, method="GET"):
        """(status, headers dict, body bytes) of one request."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, headers=headers or {})
            res = conn.getresponse()
            return res.status, dict(res.getheaders()), res.read()
        finally:
            conn.close()

    def metrics(self, headers=None):
        status, hdrs, body = self.http("/metrics", headers)
        if status != 200:
            raise AssertionError(f"/metrics answered {status}")
        return body.decode()

    def url(self, path="/ws/mcp"):
        return f"ws://127.0.0.1:{self.port}{path}"


def parse_metrics(text):
    """{(name, frozenset(labels.items())): value} of every sample."""
    samples = {}
    pat = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = pat.match(line)
        if not m:
            raise AssertionError(f"not a sample line: {line!r}")
        labels = {}
        if m.group(3):
            for part in re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3)):
                labels[part[0]] = part[1]
        samples[(m.group(1), frozenset(labels.items()))] = float(m.group(4))
    return samples


def sample(samples, name, **labels):
    key = (name, frozenset(labels.items()))
    if key not in samples:
        raise AssertionError(f"no sample {name}{labels}")
    return samples[key]


def promtool():
    """promtool's path, looked up when the test runs (it may have been
    installed after CMake configured); a missing one fails in one line."""
    tool = shutil.which("promtool")
    if tool is None:
        raise AssertionError("promtool not found: install the Debian package "
                             "'prometheus' (deploy/install-deps.sh does)")
    return tool


def promtool_check(text):
    """Runs `promtool check metrics`; (ok, output)."""
    p = subprocess.run([promtool(), "check", "metrics"], input=text.encode(),
                       capture_output=True, timeout=30)
    return p.returncode == 0, (p.stdout + p.stderr).decode()


# ---- WebSocket ---------------------------------------------------------------

class Client:
    """A JSON-RPC client over one WebSocket; keeps unrelated frames."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 1
        self.backlog = []
        self.connected = None

    @classmethod
    async def open(cls, url, **kwargs):
        kwargs.setdefault("open_timeout", 10)
        kwargs.setdefault("close_timeout", 5)
        kwargs.setdefault("max_size", 16 * 1024 * 1024)
        ws = await websockets.connect(url, **kwargs)
        c = cls(ws)
        c.connected = await c.wait_for(
            lambda m: m.get("method") == "connected")
        return c

    async def recv(self):
        return json.loads(await asyncio.wait_for(self.ws.recv(),
                                                 FRAME_TIMEOUT))

    async def wait_for(self, pred):
        for i, m in enumerate(self.backlog):
            if pred(m):
                return self.backlog.pop(i)
        while True:
            m = await self.recv()
            if pred(m):
                return m
            self.backlog.append(m)

    async def request(self, method, params=None):
        rid = self.next_id
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        await self.ws.send(json.dumps(msg))
        return await self.wait_for(lambda m: m.get("id") == rid
                                   and "method" not in m)

    async def run(self, params):
        """Executes and returns (response, completed params)."""
        res = await self.request("execute", params)
        if "error" in res:
            return res, None
        done = await self.wait_for(
            lambda m: m.get("method") == "process.completed")
        return res, done["params"]

    async def close(self):
        await self.ws.close()


class ServerTest(unittest.IsolatedAsyncioTestCase):
    """A server per test, started with the class's `server_args`."""

    server_args = []
    server_env = None
    server_nofile = None

    async def asyncSetUp(self):
        self.server = Server(self.server_args, self.server_env,
                             nofile=self.server_nofile).start()
        self.addCleanup(self.server.stop)
        self.clients = []

    async def asyncTearDown(self):
        for c in self.clients:
            try:
                await asyncio.wait_for(c.ws.close(), 5)
            except Exception:
                pass

    async def connect(self, path="/ws/mcp", **kwargs):
        c = await Client.open(self.server.url(path), **kwargs)
        self.clients.append(c)
        return c


def raw_connect(port, source="127.0.0.1"):
    s = socket.create_connection(("127.0.0.1", port), timeout=10,
                                 source_address=(source, 0))
    return s


def raw_upgrade(port, path="/ws/mcp", headers=None, source="127.0.0.1"):
    """Sends a hand-made upgrade request; returns (socket, status, head).
    `headers`: a dict, or a list of (name, value) to repeat a name."""
    s = raw_connect(port, source)
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}",
             "Upgrade: websocket", "Connection: Upgrade",
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
             "Sec-WebSocket-Version: 13"]
    if isinstance(headers, dict):
        headers = headers.items()
    for k, v in headers or ():
        lines.append(f"{k}: {v}")
    s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            break
        head += chunk
    status = int(head.split(b" ", 2)[1]) if head else 0
    return s, status, head.decode("latin-1")


def main():
    unittest.main(verbosity=2)
