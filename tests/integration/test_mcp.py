#!/usr/bin/python3
"""The MCP endpoint at /mcp over Streamable HTTP, driven with plain HTTP so
that every header and status is seen (issue 17): sessions (Mcp-Session-Id
issued at initialize, 400 without it, 404 unknown or ended), the protocol
version header, Origin and Host against DNS rebinding, the token, the five
tools (exit codes, both streams, paging a large output byte-exact, stdin and
EOF, signals, listing), DELETE and cancellation leaving no process, an SSE
stream resumed with Last-Event-ID getting every event after it once, and a
block-policy process whose unread output stays bounded. The official SDK's
client runs against the same server in tests/mcp/."""

import http.client
import json
import os
import socket
import tempfile
import time
import unittest

from harness import (ServerTestCase, async_wait_until, main, pid_alive,
                     processes_in_group, rss_kib, wait_until)

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "test", "version": "1"}}}


class Mcp:
    """A minimal Streamable HTTP client on one keep-alive connection."""

    def __init__(self, port, token=None, origin=None, host=None):
        self.port = port
        self.token = token
        self.origin = origin
        self.host = host
        self.session = None
        self.next_id = 10
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def headers(self, extra=None):
        h = {"Content-Type": "application/json",
             "Accept": "application/json, text/event-stream",
             "MCP-Protocol-Version": "2025-06-18"}
        if self.session:
            h["Mcp-Session-Id"] = self.session
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        if self.origin:
            h["Origin"] = self.origin
        if self.host:
            h["Host"] = self.host
        h.update(extra or {})
        return h

    def post(self, body, headers=None):
        """(status, headers, parsed body or raw text)."""
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        self.conn.request("POST", "/mcp", body=data,
                          headers=self.headers(headers))
        res = self.conn.getresponse()
        raw = res.read().decode()
        if res.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                   timeout=30)
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw
        return res.status, {k.lower(): v for k, v in res.getheaders()}, parsed

    def initialize(self):
        status, headers, body = self.post(INIT)
        assert status == 200, (status, body)
        self.session = headers["mcp-session-id"]
        status, _, _ = self.post({"jsonrpc": "2.0",
                                  "method": "notifications/initialized"})
        assert status == 202, status
        return body

    def request(self, method, params=None):
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            msg["params"] = params
        status, _, body = self.post(msg)
        assert status == 200, (status, body)
        assert body["id"] == self.next_id
        return body

    def tool(self, name, **arguments):
        body = self.request("tools/call", {"name": name,
                                           "arguments": arguments})
        assert "result" in body, body
        return body["result"]


def sse_events(sock_file, until_response_id=None, limit=10000):
    """Reads SSE events ({id, data}) until the stream ends or the response
    to `until_response_id` arrived."""
    events = []
    cur = {}
    while len(events) < limit:
        line = sock_file.readline()
        if not line:
            break
        line = line.decode().rstrip("\n")
        if line == "":
            if cur:
                events.append(cur)
                data = cur.get("data")
                if data and until_response_id is not None:
                    msg = json.loads(data)
                    if msg.get("id") == until_response_id:
                        break
                cur = {}
            continue
        key, _, value = line.partition(":")
        cur[key] = value[1:] if value.startswith(" ") else value
    return events


def send_request(port, method, headers, body=b""):
    """Opens a socket and sends a request on it; returns the socket."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    lines = [f"{method} /mcp HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    return s


def raw_request(port, method, headers, body=b""):
    """Sends a request; returns (socket, file, status, headers) with the
    file positioned at the body."""
    s = send_request(port, method, headers, body)
    f = s.makefile("rb")
    status = int(f.readline().split()[1])
    hdrs = {}
    while True:
        line = f.readline().decode().strip()
        if not line:
            break
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return s, f, status, hdrs


class SessionTest(ServerTestCase):
    async def test_initialize_issues_a_session_and_lists_the_tools(self):
        c = Mcp(self.server.port)
        init = c.initialize()["result"]
        self.assertEqual(init["protocolVersion"], "2025-06-18")
        self.assertEqual(init["serverInfo"]["name"], "actorexec")
        self.assertEqual(init["capabilities"]["tools"], {"listChanged": False})
        self.assertIn("logging", init["capabilities"])
        self.assertTrue(init["instructions"])
        tools = c.request("tools/list")["result"]["tools"]
        self.assertEqual([t["name"] for t in tools],
                         ["run_command", "read_output", "send_input",
                          "signal_process", "list_processes"])
        self.assertEqual(c.request("ping")["result"], {})
        self.assertEqual(c.request("logging/setLevel",
                                   {"level": "info"})["result"], {})

    async def test_session_header_rules(self):
        c = Mcp(self.server.port)
        status, _, body = c.post({"jsonrpc": "2.0", "id": 1,
                                  "method": "tools/list"})
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["code"], -32600)
        c.session = "00000000-0000-4000-8000-000000000000"
        status, _, _ = c.post({"jsonrpc": "2.0", "id": 1,
                               "method": "tools/list"})
        self.assertEqual(status, 404)
        c.session = None
        c.initialize()
        status, _, _ = c.post({"jsonrpc": "2.0", "id": 2, "method": "ping"},
                              {"MCP-Protocol-Version": "1999-01-01"})
        self.assertEqual(status, 400)
        status, _, body = c.post(b"{not json")
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["code"], -32700)
        body = c.request("no/such/method")
        self.assertEqual(body["error"]["code"], -32601)
        body = c.request("tools/call", {"name": "nope", "arguments": {}})
        self.assertEqual(body["error"]["code"], -32602)
        body = c.request("tools/call", {"name": "run_command",
                                        "arguments": {"command": 5}})
        self.assertEqual(body["error"]["code"], -32602)
        # DELETE ends it; then it is unknown.
        c.conn.request("DELETE", "/mcp", headers=c.headers())
        res = c.conn.getresponse()
        res.read()
        self.assertEqual(res.status, 204)
        status, _, _ = c.post({"jsonrpc": "2.0", "id": 3, "method": "ping"})
        self.assertEqual(status, 404)

    async def test_origin_and_host_against_dns_rebinding(self):
        port = self.server.port
        evil = Mcp(port, origin="http://evil.example")
        self.assertEqual(evil.post(INIT)[0], 403)
        rebound = Mcp(port, host="evil.example.com")
        self.assertEqual(rebound.post(INIT)[0], 403)
        for origin in (f"http://127.0.0.1:{port}", f"http://localhost:{port}",
                       f"http://[::1]:{port}"):
            self.assertEqual(Mcp(port, origin=origin).post(INIT)[0], 200,
                             origin)
        self.assertEqual(Mcp(port, host=f"localhost:{port}").post(INIT)[0],
                         200)


class RateLimitTest(ServerTestCase):
    server_args = ["--rate-limit-rps", "1", "--rate-limit-burst", "3"]

    async def test_requests_beyond_the_session_rate_get_32029(self):
        c = Mcp(self.server.port)
        c.initialize()  # one token
        self.assertEqual(c.request("ping")["result"], {})
        self.assertEqual(c.request("ping")["result"], {})
        err = c.request("ping")["error"]
        self.assertEqual(err["code"], -32029)
        self.assertGreater(err["data"]["retry_after_ms"], 0)


class TokenTest(ServerTestCase):
    start_server_in_setup = False

    async def test_token_required(self):
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write("s3cret\n")
        self.addCleanup(os.unlink, f.name)
        server = self.start_server("--auth-token-file", f.name)
        status, headers, _ = Mcp(server.port).post(INIT)
        self.assertEqual(status, 401)
        self.assertTrue(headers["www-authenticate"].startswith("Bearer"))
        self.assertEqual(Mcp(server.port, token="wrong").post(INIT)[0], 401)
        Mcp(server.port, token="s3cret").initialize()


class ToolsTest(ServerTestCase):
    async def test_run_command_reports_exit_code_and_both_streams(self):
        c = Mcp(self.server.port)
        c.initialize()
        r = c.tool("run_command", command="echo hello; echo oops >&2; exit 3")
        s = r["structuredContent"]
        self.assertEqual((s["status"], s["exit_code"], s["signal"]),
                         ("exited", 3, None))
        self.assertEqual((s["stdout"], s["stderr"]), ("hello\n", "oops\n"))
        self.assertFalse(s["truncated"])
        self.assertIn("hello", r["content"][0]["text"])
        s = c.tool("run_command", argv=["printf", "%s", "a b"])[
            "structuredContent"]
        self.assertEqual(s["stdout"], "a b")
        s = c.tool("run_command", command="printf '\\377\\376'")[
            "structuredContent"]
        self.assertEqual((s["stdout"], s["stdout_encoding"]), ("//4=", "base64"))
        r = c.tool("read_output", process_id="p999")
        self.assertTrue(r["isError"])

    async def test_a_large_output_paged_byte_exact(self):
        c = Mcp(self.server.port)
        c.initialize()
        want = "".join(f"{i}\n" for i in range(1, 200001))
        # 1.3 MB is more than a process's 1 MiB output buffer: the child
        # waits for the reader, so run_command answers when wait_s runs out
        # (at 30 s, it raced the client's own 30 s timeout).
        r = c.tool("run_command", command="seq 1 200000", wait_s=2,
                   max_output_bytes=100000)["structuredContent"]
        got = [r["stdout"]]
        cursor = r["cursor"]
        eof = False
        pages = 1
        while not eof:
            p = c.tool("read_output", process_id=r["process_id"],
                       cursor=cursor, max_bytes=150000,
                       wait_s=10)["structuredContent"]
            got.append(p["stdout"])
            cursor, eof = p["cursor"], p["eof"]
            pages += 1
            self.assertLess(pages, 100)
        self.assertEqual("".join(got), want)
        self.assertEqual(p["status"], "exited")
        self.assertEqual(p["exit_code"], 0)

    async def test_stdin_and_eof(self):
        c = Mcp(self.server.port)
        c.initialize()
        r = c.tool("run_command", command="cat", wait_s=0)["structuredContent"]
        self.assertEqual(r["status"], "running")
        pid = r["process_id"]
        s = c.tool("send_input", process_id=pid, data="one\n")[
            "structuredContent"]
        self.assertEqual((s["accepted_bytes"], s["stdin_open"]), (4, True))
        s = c.tool("send_input", process_id=pid, data="two\n", eof=True)[
            "structuredContent"]
        self.assertEqual(s["stdin_open"], False)
        out, cursor, eof = "", r["cursor"], False
        while not eof:
            p = c.tool("read_output", process_id=pid, cursor=cursor,
                       wait_s=10)["structuredContent"]
            out += p["stdout"]
            cursor, eof = p["cursor"], p["eof"]
        self.assertEqual(out, "one\ntwo\n")
        r = c.tool("send_input", process_id=pid, data="late")
        self.assertTrue(r["isError"])
        s = c.tool("run_command", command="cat", stdin="given")[
            "structuredContent"]
        self.assertEqual(s["stdout"], "given")

    async def test_signals_and_list(self):
        c = Mcp(self.server.port)
        c.initialize()
        # `exec`: the group's leader is `sleep` itself. Without it, sh may
        # vfork `sleep`, and a SIGSTOP between that vfork and the exec
        # leaves the leader waiting in state D, not T, for its stopped child.
        r = c.tool("run_command", command="exec sleep 100", wait_s=0)[
            "structuredContent"]
        pid = r["pid"]
        self.extra_pgids.add(pid)
        listed = c.tool("list_processes")["structuredContent"]["processes"]
        self.assertEqual([(p["process_id"], p["status"], p["command"])
                          for p in listed],
                         [(r["process_id"], "running", "exec sleep 100")])
        s = c.tool("signal_process", process_id=r["process_id"],
                   action="pause")["structuredContent"]
        self.assertEqual(s, {"status": "paused", "pid": pid})
        self.assertTrue(wait_until(
            lambda: (open(f"/proc/{pid}/stat").read().split(")")[1].split()[0]
                     == "T"), 5))
        c.tool("signal_process", process_id=r["process_id"], action="cancel")
        p = c.tool("read_output", process_id=r["process_id"], cursor=r["cursor"],
                   wait_s=15)["structuredContent"]
        self.assertEqual((p["status"], p["eof"], p["signal"]),
                         ("killed", True, 15))
        self.assertFalse(processes_in_group(pid))

    async def test_delete_kills_the_session_processes(self):
        c = Mcp(self.server.port)
        c.initialize()
        r = c.tool("run_command", command="sleep 100 & sleep 100; wait",
                   wait_s=0)["structuredContent"]
        pgid = r["pid"]
        self.extra_pgids.add(pgid)
        self.assertTrue(wait_until(lambda: len(processes_in_group(pgid)) >= 2,
                                   5))
        c.conn.request("DELETE", "/mcp", headers=c.headers())
        res = c.conn.getresponse()
        res.read()
        self.assertEqual(res.status, 204)
        self.assertTrue(wait_until(lambda: not processes_in_group(pgid), 10),
                        processes_in_group(pgid))

    async def test_limit_of_processes_is_a_tool_error(self):
        self._stop_server(self.server)
        server = self.start_server("--mcp-max-processes", "2")
        c = Mcp(server.port)
        c.initialize()
        for _ in range(2):
            r = c.tool("run_command", command="sleep 30", wait_s=0)
            self.extra_pgids.add(r["structuredContent"]["pid"])
        r = c.tool("run_command", command="true")
        self.assertTrue(r["isError"])
        self.assertIn("limit reached", r["content"][0]["text"])


class StreamTest(ServerTestCase):
    async def test_progress_and_a_resume_with_last_event_id(self):
        c = Mcp(self.server.port)
        c.initialize()
        call = {"jsonrpc": "2.0", "id": 77, "method": "tools/call",
                "params": {"name": "run_command", "_meta": {"progressToken": 5},
                           "arguments": {"command":
                                         "for i in $(seq 1 8); do echo l$i; "
                                         "sleep 0.3; done", "wait_s": 30}}}
        body = json.dumps(call).encode()
        s, f, status, hdrs = raw_request(self.server.port, "POST",
                                         c.headers(), body)
        self.assertEqual(status, 200)
        self.assertEqual(hdrs["content-type"], "text/event-stream")
        first = sse_events(f, limit=2)  # the priming event, a progress
        self.assertEqual(first[0]["id"], first[0]["id"].split("-")[0] + "-0")
        self.assertEqual(json.loads(first[1]["data"])["method"],
                         "notifications/progress")
        s.close()  # the connection breaks mid-call
        s2, f2, status, hdrs = raw_request(
            self.server.port, "GET",
            dict(c.headers(), **{"Accept": "text/event-stream",
                                 "Last-Event-ID": first[1]["id"]}))
        self.assertEqual(status, 200)
        rest = sse_events(f2, until_response_id=77)
        s2.close()
        ids = [e["id"] for e in first + rest]
        self.assertEqual(len(ids), len(set(ids)))  # each event once
        nums = [int(i.split("-")[1]) for i in ids]
        self.assertEqual(nums, list(range(len(nums))))  # none missing
        done = json.loads(rest[-1]["data"])
        self.assertEqual(done["id"], 77)
        self.assertEqual(done["result"]["structuredContent"]["stdout"],
                         "".join(f"l{i}\n" for i in range(1, 9)))

    async def test_notifications_cancelled_kills_a_waiting_run(self):
        c = Mcp(self.server.port)
        c.initialize()
        call = {"jsonrpc": "2.0", "id": 88, "method": "tools/call",
                "params": {"name": "run_command",
                           "arguments": {"command": "echo $$; exec sleep 100",
                                         "wait_s": 60}}}
        # Its answer (JSON) comes only when the wait ends: not read here.
        s = send_request(self.server.port, "POST", c.headers(),
                         json.dumps(call).encode())
        listed = []
        self.assertTrue(wait_until(lambda: listed.append(
            c.tool("list_processes")["structuredContent"]["processes"]) or
            (listed[-1] and listed[-1][0]["pid"]), 5))
        pid = listed[-1][0]["pid"]
        self.extra_pgids.add(pid)
        self.assertTrue(wait_until(lambda: pid_alive(pid), 5))
        status, _, _ = c.post({"jsonrpc": "2.0",
                               "method": "notifications/cancelled",
                               "params": {"requestId": 88}})
        self.assertEqual(status, 202)
        self.assertTrue(wait_until(lambda: not processes_in_group(pid), 15))
        s.close()


class BackpressureTest(ServerTestCase):
    async def test_unread_output_blocks_the_child_within_the_bound(self):
        c = Mcp(self.server.port)
        c.initialize()
        idle = rss_kib(self.server.pid)
        r = c.tool("run_command", command="exec yes", wait_s=0)[
            "structuredContent"]
        pid = r["pid"]
        self.extra_pgids.add(pid)

        def written():
            with open(f"/proc/{pid}/io") as f:
                return int(f.read().split("wchar:")[1].split()[0])
        # The child stops once the buffer (1 MiB) and the pipe are full.
        samples = []
        self.assertTrue(wait_until(lambda: samples.append(written()) or (
            len(samples) > 20 and samples[-1] == samples[-20]), 15))
        self.assertLess(samples[-1], 8 << 20)
        self.assertMemoryGrowth(rss_kib(self.server.pid) - idle, 32 * 1024)
        # Reading releases it: the next page continues where it stopped.
        p = c.tool("read_output", process_id=r["process_id"],
                   cursor=r["cursor"], max_bytes=1000)["structuredContent"]
        self.assertEqual(p["stdout"][:2], "y\n")
        c.tool("signal_process", process_id=r["process_id"], action="kill")


class TaskClient(Mcp):
    """An Mcp client on revision 2025-11-25, the first with tasks."""

    def headers(self, extra=None):
        h = super().headers(extra)
        h["MCP-Protocol-Version"] = "2025-11-25"
        return h

    def initialize(self):
        status, headers, body = self.post(
            dict(INIT, params=dict(INIT["params"],
                                   protocolVersion="2025-11-25")))
        assert status == 200, (status, body)
        self.session = headers["mcp-session-id"]
        self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return body

    def run_task(self, ttl=None, **arguments):
        task = {} if ttl is None else {"ttl": ttl}
        body = self.request("tools/call", {"name": "run_command",
                                           "arguments": arguments,
                                           "task": task})
        assert "result" in body, body
        return body["result"]["task"]

    def get(self, task_id):
        return self.request("tasks/get", {"taskId": task_id})

    def poll(self, task_id, done, timeout=10):
        """tasks/get until `done(task)` holds; the last task seen."""
        deadline = time.monotonic() + timeout
        while True:
            task = self.get(task_id)["result"]
            if done(task) or time.monotonic() >= deadline:
                return task
            time.sleep(0.05)


def started_pid(c):
    """The pid (and process group) of the session's one process, once it
    has started."""
    def pid():
        procs = c.tool("list_processes")["structuredContent"]["processes"]
        return procs[0]["pid"]
    found = wait_until(pid, 5)
    assert found, "the process did not start"
    return found


def second_client(c):
    """Another connection into the session of `c`, as a client that came
    back would open."""
    other = TaskClient(c.port)
    other.session = c.session
    return other


class TasksTest(ServerTestCase):
    async def test_capabilities_and_tool_task_support(self):
        c = TaskClient(self.server.port)
        caps = c.initialize()["result"]["capabilities"]
        self.assertEqual(caps["tasks"], {"list": {}, "cancel": {},
                                         "requests": {"tools": {"call": {}}}})
        tools = {t["name"]: t for t in c.request("tools/list")["result"]["tools"]}
        self.assertEqual(tools["run_command"]["execution"],
                         {"taskSupport": "optional"})
        self.assertNotIn("execution", tools["read_output"])
        # An older revision is not offered tasks.
        old = Mcp(self.server.port)
        self.assertNotIn("tasks", old.initialize()["result"]["capabilities"])

    async def test_task_lives_on_for_another_client_and_is_cancelled(self):
        c = TaskClient(self.server.port)
        c.initialize()
        task = c.run_task(ttl=60000, command="echo started; "
                          "sleep 100 & sleep 100; wait")
        self.assertEqual((task["status"], task["ttl"]), ("working", 60000))
        self.assertGreater(task["pollInterval"], 0)
        self.assertTrue(task["createdAt"].endswith("Z"))
        self.assertIn("lastUpdatedAt", task)
        pgid = started_pid(c)
        self.extra_pgids.add(pgid)
        self.assertTrue(wait_until(lambda: len(processes_in_group(pgid)) >= 2,
                                   5))
        # The first client goes; another finds the task in the session.
        c.conn.close()
        other = second_client(c)
        seen = other.poll(task["taskId"],
                          lambda t: t.get("statusMessage") == "started")
        self.assertEqual((seen["status"], seen.get("statusMessage")),
                         ("working", "started"))
        listed = other.request("tasks/list")["result"]
        self.assertEqual([t["taskId"] for t in listed["tasks"]],
                         [task["taskId"]])
        self.assertNotIn("nextCursor", listed)
        cancelled = other.request("tasks/cancel",
                                  {"taskId": task["taskId"]})["result"]
        self.assertEqual(cancelled["status"], "cancelled")
        self.assertTrue(wait_until(lambda: not processes_in_group(pgid), 10),
                        processes_in_group(pgid))
        # Cancelled for good: its process's end does not change it.
        self.assertEqual(other.get(task["taskId"])["result"]["status"],
                         "cancelled")
        again = other.request("tasks/cancel", {"taskId": task["taskId"]})
        self.assertEqual(again["error"]["code"], -32602)
        result = other.request("tasks/result", {"taskId": task["taskId"]})
        self.assertEqual(result["error"]["code"], -32602)

    async def test_a_cancelled_result_call_leaves_the_task_running(self):
        c = TaskClient(self.server.port)
        c.initialize()
        task = c.run_task(command="sleep 100")
        pgid = started_pid(c)
        self.extra_pgids.add(pgid)
        body = json.dumps({"jsonrpc": "2.0", "id": 99, "method": "tasks/result",
                           "params": {"taskId": task["taskId"]}}).encode()
        waiting = send_request(self.server.port, "POST",
                               c.headers({"Content-Type": "application/json"}),
                               body)
        self.addCleanup(waiting.close)
        # The result call waits (no answer yet), then the client gives up.
        waiting.settimeout(0.3)
        with self.assertRaises(socket.timeout):
            waiting.recv(1)
        status, _, _ = c.post({"jsonrpc": "2.0",
                               "method": "notifications/cancelled",
                               "params": {"requestId": 99}})
        self.assertEqual(status, 202)
        # A cancel of the process would end `sleep` within a second.
        self.assertFalse(wait_until(lambda: not processes_in_group(pgid), 1))
        self.assertEqual(c.get(task["taskId"])["result"]["status"], "working")

    async def test_result_is_what_a_plain_call_returns(self):
        c = TaskClient(self.server.port)
        c.initialize()
        plain = c.tool("run_command", command="echo hi; echo err >&2")
        task = c.run_task(command="echo hi; echo err >&2")
        done = c.poll(task["taskId"], lambda t: t["status"] != "working")
        self.assertEqual(done["status"], "completed")
        result = c.request("tasks/result", {"taskId": task["taskId"]})["result"]
        self.assertEqual(result["_meta"]["io.modelcontextprotocol/related-task"],
                         {"taskId": task["taskId"]})
        s, p = result["structuredContent"], plain["structuredContent"]
        self.assertEqual(sorted(s), sorted(p))
        self.assertEqual((s["status"], s["exit_code"], s["stdout"], s["stderr"]),
                         ("exited", 0, "hi\n", "err\n"))
        self.assertNotEqual(s["process_id"], p["process_id"])
        page = c.tool("read_output", process_id=s["process_id"],
                      cursor=s["cursor"])["structuredContent"]
        self.assertTrue(page["eof"])
        # tasks/result blocks until the end.
        task = c.run_task(command="sleep 0.3; echo late; exit 3")
        result = c.request("tasks/result", {"taskId": task["taskId"]})["result"]
        self.assertEqual((result["structuredContent"]["stdout"],
                          result["structuredContent"]["exit_code"]),
                         ("late\n", 3))
        failed = c.get(task["taskId"])["result"]
        self.assertEqual((failed["status"], failed["statusMessage"]),
                         ("failed", "exited with code 3"))

    async def test_ttl_expiry_kills_the_process_and_forgets_the_task(self):
        self._stop_server(self.server)
        server = self.start_server("--mcp-task-max-ttl-ms", "1500")
        c = TaskClient(server.port)
        c.initialize()
        task = c.run_task(ttl=600000, command="sleep 100 & sleep 100; wait")
        self.assertEqual(task["ttl"], 1500)
        pgid = started_pid(c)
        self.extra_pgids.add(pgid)
        self.assertTrue(wait_until(lambda: len(processes_in_group(pgid)) >= 2,
                                   5))
        self.assertTrue(wait_until(lambda: not processes_in_group(pgid), 10),
                        processes_in_group(pgid))
        self.assertEqual(c.get(task["taskId"])["error"]["code"], -32602)
        self.assertEqual(c.request("tasks/list")["result"]["tasks"], [])
        self.assertEqual(
            c.tool("list_processes")["structuredContent"]["processes"], [])

    async def test_bad_task_requests_get_the_spec_errors(self):
        c = TaskClient(self.server.port)
        c.initialize()
        for method in ("tasks/get", "tasks/result", "tasks/cancel"):
            body = c.request(method, {"taskId": "no-such-task"})
            self.assertEqual(body["error"]["code"], -32602, method)
        body = c.request("tools/call", {"name": "list_processes",
                                        "arguments": {}, "task": {}})
        self.assertEqual(body["error"]["code"], -32601)
        body = c.request("tasks/list", {"cursor": "not-ours"})
        self.assertEqual(body["error"]["code"], -32602)
        # Nothing was harmed: the session works, and lists page.
        ids = [c.run_task(command="true")["taskId"] for _ in range(22)]
        first = c.request("tasks/list")["result"]
        rest = c.request("tasks/list",
                         {"cursor": first["nextCursor"]})["result"]
        self.assertEqual([t["taskId"] for t in first["tasks"] + rest["tasks"]],
                         ids)
        self.assertNotIn("nextCursor", rest)

    async def test_tasks_kept_per_session_are_bounded(self):
        # A session keeps 32 tasks: a client that makes more has the
        # oldest finished ones forgotten, never an unbounded list.
        c = TaskClient(self.server.port)
        c.initialize()
        ids = []
        for _ in range(32):
            ids.append(c.run_task(command="true")["taskId"])
            c.poll(ids[-1], lambda t: t["status"] != "working")
        more = [c.run_task(command="true")["taskId"] for _ in range(8)]
        listed = []
        page = c.request("tasks/list")["result"]
        listed += [t["taskId"] for t in page["tasks"]]
        while "nextCursor" in page:
            page = c.request("tasks/list",
                             {"cursor": page["nextCursor"]})["result"]
            listed += [t["taskId"] for t in page["tasks"]]
        self.assertEqual(listed, ids[8:] + more)
        self.assertEqual(c.get(ids[0])["error"]["code"], -32602)


if __name__ == "__main__":
    main()
