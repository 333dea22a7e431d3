#!/usr/bin/python3
"""Authentication and Origin (spec section 10, issue 8 items 1-2): 401
without or with a wrong token, each of the three token forms accepted, the
token never in the server's log nor in a child's environment, /metrics and
/health guarded unless exempt, 403 for a foreign Origin, and the refusal to
listen on a non-loopback address without a token."""

import os
import tempfile
import unittest

import websockets

from ops_harness import (Server, ServerTest, main, parse_metrics, raw_upgrade,
                         sample)

TOKEN = "tok-9f3a1c77e2b54d0e8a61"
WRONG = "tok-0000-wrong-0000-near"


def token_file(test, text=TOKEN + "\n"):
    fd, path = tempfile.mkstemp()
    os.write(fd, text.encode())
    os.close(fd)
    test.addCleanup(os.unlink, path)
    return path


class TokenFileTest(ServerTest):
    async def asyncSetUp(self):
        self.server_args = ["--auth-token-file", token_file(self),
                            "--log-level", "debug"]
        await super().asyncSetUp()

    async def assert_status(self, status, path="/ws/mcp", **kwargs):
        with self.assertRaises(websockets.InvalidStatusCode) as ctx:
            await self.connect(path, **kwargs)
        self.assertEqual(ctx.exception.status_code, status)

    async def test_missing_token_401_before_any_websocket(self):
        await self.assert_status(401)
        sock, status, head = raw_upgrade(self.server.port)
        sock.close()
        self.assertEqual(status, 401)
        self.assertIn('WWW-Authenticate: Bearer realm="actorexec"', head)
        m = parse_metrics(self.server.metrics(
            {"Authorization": f"Bearer {TOKEN}"}))
        self.assertEqual(sample(m, "actorexec_connections_opened_total"), 0)
        self.assertEqual(sample(m, "actorexec_connections_rejected_total",
                                reason="unauthorized"), 2)

    async def test_wrong_token_401_in_every_form(self):
        await self.assert_status(
            401, extra_headers={"Authorization": f"Bearer {WRONG}"})
        await self.assert_status(401, path=f"/ws/mcp?token={WRONG}")
        await self.assert_status(401, subprotocols=[f"bearer.{WRONG}"])
        await self.assert_status(
            401, extra_headers={"Authorization": f"Basic {TOKEN}"})
        await self.assert_status(401, path=f"/ws/mcp?token={TOKEN}x")

    async def test_each_form_accepted(self):
        c = await self.connect(
            extra_headers={"Authorization": f"Bearer {TOKEN}"})
        self.assertTrue((await c.request("ping"))["result"]["pong"])
        c = await self.connect(f"/ws?token={TOKEN}")
        self.assertTrue((await c.request("ping"))["result"]["pong"])
        c = await self.connect(subprotocols=[f"bearer.{TOKEN}"])
        # RFC 6455: the server echoes the subprotocol it accepted.
        self.assertEqual(c.ws.subprotocol, f"bearer.{TOKEN}")
        self.assertTrue((await c.request("ping"))["result"]["pong"])

    async def test_metrics_and_health_guarded_probes_open(self):
        for path in ("/metrics", "/health"):
            self.assertEqual(self.server.http(path)[0], 401, path)
            self.assertEqual(self.server.http(
                path, {"Authorization": f"Bearer {WRONG}"})[0], 401, path)
            self.assertEqual(self.server.http(
                path, {"Authorization": f"Bearer {TOKEN}"})[0], 200, path)
            self.assertEqual(
                self.server.http(f"{path}?token={TOKEN}")[0], 200, path)
        for path in ("/healthz", "/readyz"):
            self.assertEqual(self.server.http(path)[0], 200, path)

    async def test_token_never_logged(self):
        await self.assert_status(
            401, extra_headers={"Authorization": f"Bearer {WRONG}"})
        await self.assert_status(401, path=f"/ws/mcp?token={WRONG}")
        await self.assert_status(401, subprotocols=[f"bearer.{WRONG}"])
        self.server.http(f"/metrics?token={WRONG}")
        c = await self.connect(
            extra_headers={"Authorization": f"Bearer {TOKEN}"})
        await c.request("ping")
        c = await self.connect(f"/ws/mcp?token={TOKEN}")
        res, done = await c.run({"command": "env"})
        self.assertNotIn(TOKEN, str(c.backlog))
        await c.close()
        self.server.stop()
        log = self.server.log()
        self.assertNotIn(TOKEN, log)
        self.assertNotIn(WRONG, log)
        failures = self.server.events("auth_failed")
        self.assertEqual(len(failures), 4, log)
        self.assertEqual([f["offered"] for f in failures],
                         ["authorization", "query", "subprotocol", "query"])
        self.assertEqual(failures[1]["path"], "/ws/mcp")


class MetricsNoAuthTest(ServerTest):
    async def asyncSetUp(self):
        self.server_args = ["--auth-token-file", token_file(self),
                            "--metrics-no-auth"]
        await super().asyncSetUp()

    async def test_metrics_and_health_exempt_upgrade_not(self):
        self.assertEqual(self.server.http("/metrics")[0], 200)
        self.assertEqual(self.server.http("/health")[0], 200)
        with self.assertRaises(websockets.InvalidStatusCode) as ctx:
            await self.connect()
        self.assertEqual(ctx.exception.status_code, 401)


class EnvTokenTest(ServerTest):
    server_env = {"ACTOREXEC_AUTH_TOKEN": TOKEN}

    async def test_env_token_required_and_not_inherited(self):
        with self.assertRaises(websockets.InvalidStatusCode) as ctx:
            await self.connect()
        self.assertEqual(ctx.exception.status_code, 401)
        c = await self.connect(
            extra_headers={"Authorization": f"Bearer {TOKEN}"})
        res, done = await c.run({"command": "env; cat /proc/$$/environ"})
        out = "".join(m["params"]["data"] for m in c.backlog
                      if m.get("method") == "process.output")
        self.assertIn("PATH=", out)
        self.assertNotIn(TOKEN, out)
        self.assertNotIn("ACTOREXEC_AUTH", out)


class OriginTest(ServerTest):
    server_args = ["--allowed-origin", "https://good.example",
                   "--allowed-origin", "http://also.example:8080"]
    # Flags win over the variable as a whole.
    server_env = {"ACTOREXEC_ALLOWED_ORIGINS": "https://env.example"}

    async def test_foreign_origin_403(self):
        for origin in ("https://evil.example", "https://env.example",
                       "https://good.example.evil.example"):
            with self.assertRaises(websockets.InvalidStatusCode) as ctx:
                await self.connect(origin=origin)
            self.assertEqual(ctx.exception.status_code, 403, origin)
        m = parse_metrics(self.server.metrics())
        self.assertEqual(sample(m, "actorexec_connections_rejected_total",
                                reason="forbidden_origin"), 3)
        self.assertEqual(sample(m, "actorexec_connections_opened_total"), 0)

    async def test_listed_or_absent_origin_accepted(self):
        for origin in ("https://good.example", "http://also.example:8080"):
            c = await self.connect(origin=origin)
            self.assertTrue((await c.request("ping"))["result"]["pong"])
        c = await self.connect()  # no Origin header: not a browser
        self.assertTrue((await c.request("ping"))["result"]["pong"])


def duplicate_origin_status(test, first, second):
    """Status of a raw upgrade carrying two Origin headers."""
    sock, status, _ = raw_upgrade(test.server.port, headers=[
        ("Origin", first), ("Origin", second)])
    sock.close()
    return status


class DuplicateOriginTest(ServerTest):
    """Only the first Origin header was checked: a foreign one after a
    listed one was upgraded (101). Two are refused, list or no list."""

    server_args = ["--allowed-origin", "https://good.example"]

    async def test_second_origin_refused(self):
        for second in ("https://evil.example", "https://good.example"):
            self.assertEqual(duplicate_origin_status(
                self, "https://good.example", second), 403, second)
        m = parse_metrics(self.server.metrics())
        self.assertEqual(sample(m, "actorexec_connections_rejected_total",
                                reason="forbidden_origin"), 2)
        self.assertEqual(sample(m, "actorexec_connections_opened_total"), 0)
        refused = self.server.events("origin_refused")
        self.assertEqual([e.get("origin_headers") for e in refused], [2, 2])
        # One listed Origin still opens a WebSocket.
        sock, status, _ = raw_upgrade(self.server.port, headers={
            "Origin": "https://good.example"})
        sock.close()
        self.assertEqual(status, 101)


class DuplicateOriginWithoutListTest(ServerTest):
    async def test_second_origin_refused_without_a_list(self):
        self.assertEqual(duplicate_origin_status(
            self, "https://a.example", "https://b.example"), 403)
        sock, status, _ = raw_upgrade(self.server.port, headers={
            "Origin": "https://a.example"})
        sock.close()
        self.assertEqual(status, 101)


class OriginEnvTest(ServerTest):
    server_env = {"ACTOREXEC_ALLOWED_ORIGINS":
                  "https://a.example, https://b.example"}

    async def test_env_comma_list(self):
        c = await self.connect(origin="https://b.example")
        self.assertTrue((await c.request("ping"))["result"]["pong"])
        with self.assertRaises(websockets.InvalidStatusCode) as ctx:
            await self.connect(origin="https://c.example")
        self.assertEqual(ctx.exception.status_code, 403)


class BindTest(unittest.TestCase):
    """Exits before binding, so nothing listens beyond loopback."""

    def run_server(self, host, args=(), env=None):
        srv = Server(args, env, host=host).spawn()
        rc = srv.wait_exit(10)
        if rc is None:
            srv.stop()
        return rc, srv

    def test_non_loopback_without_token_refused(self):
        for host in ("0.0.0.0", "::", "192.0.2.1"):
            rc, srv = self.run_server(host)
            self.assertEqual(rc, 2, host)
            self.assertIsNone(srv.port)
            self.assertIn("refusing to listen on", srv.log())
            self.assertIn("--insecure", srv.log())

    def test_token_or_insecure_pass_the_check(self):
        # 192.0.2.1 (TEST-NET-1) is not ours: the bind itself fails, after
        # the security check passed.
        for args, env in ((["--insecure"], None),
                          ([], {"ACTOREXEC_AUTH_TOKEN": TOKEN})):
            rc, srv = self.run_server("192.0.2.1", args, env)
            self.assertNotIn("refusing to listen", srv.log())
            self.assertIn(rc, (1, None), srv.log())

    def test_loopback_needs_no_token(self):
        srv = Server([], host="127.0.0.1").start()
        self.addCleanup(srv.stop)
        self.assertEqual(srv.http("/healthz")[0], 200)

    def test_bad_token_file_refused(self):
        rc, srv = self.run_server("127.0.0.1",
                                  ["--auth-token-file", "/nonexistent/tok"])
        self.assertEqual(rc, 2)
        self.assertIn("cannot read the auth token file", srv.log())
        rc, srv = self.run_server("127.0.0.1",
                                  ["--auth-token-file", token_file(self, "\n")])
        self.assertEqual(rc, 2)
        self.assertIn("is empty", srv.log())


if __name__ == "__main__":
    main()
