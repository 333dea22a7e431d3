#!/usr/bin/python3
"""HTTP on the WebSocket port (spec section 9), over plain urllib:
/health, /healthz, /readyz, /metrics, 404 elsewhere."""

import json
import unittest

from harness import ServerTestCase, async_wait_until, main


class HttpTest(ServerTestCase):
    server_args = ["--max-sessions", "7"]

    async def test_health(self):
        status, headers, body = self.server.http_get("/health")
        self.assertEqual(status, 200)
        self.assertIn("application/json", headers.get("Content-Type", ""))
        h = json.loads(body)
        self.assertEqual(h["status"], "healthy")
        self.assertEqual(h["service"], "actorexec")
        self.assertEqual(h["version"], "1.0.0")
        self.assertEqual(h["active_sessions"], 0)
        self.assertEqual(h["max_sessions"], 7)
        self.assertIsInstance(h["uptime_seconds"], (int, float))
        self.assertGreaterEqual(h["uptime_seconds"], 0)
        self.assertLess(h["uptime_seconds"], 300)

    async def test_health_counts_sessions(self):
        a = await self.connect()
        b = await self.connect()
        self.assertTrue(await async_wait_until(
            lambda: self.server.http_json("/health")[1]["active_sessions"]
            == 2, 5.0))
        await a.close()
        await b.close()
        self.assertTrue(await async_wait_until(
            lambda: self.server.http_json("/health")[1]["active_sessions"]
            == 0, 5.0))

    async def test_healthz(self):
        status, headers, body = self.server.http_get("/healthz")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"status": "ok"})

    async def test_readyz(self):
        status, _, _ = self.server.http_get("/readyz")
        self.assertEqual(status, 200)

    async def test_metrics(self):
        c = await self.connect()
        await c.run({"command": "echo metrics"})
        status, headers, body = self.server.http_get("/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers.get("Content-Type", "").startswith(
            "text/plain"), headers.get("Content-Type"))
        text = body.decode()
        self.assertIn("# TYPE", text)
        # Every sample line is "name{labels} value".
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name_labels, _, value = line.rpartition(" ")
                self.assertTrue(name_labels, line)
                float(value)

    async def test_unknown_paths_404(self):
        for path in ("/", "/nope", "/health/x", "/ws/mcp/extra",
                     "/metricsx"):
            status, _, _ = self.server.http_get(path)
            self.assertEqual(status, 404, path)

    async def test_plain_get_on_websocket_path_is_refused(self):
        status, _, _ = self.server.http_get("/ws/mcp")
        self.assertGreaterEqual(status, 400)
        self.assertLess(status, 500)

    async def test_http_keeps_server_healthy(self):
        for _ in range(50):
            self.assertEqual(self.server.http_get("/healthz")[0], 200)
        c = await self.connect()
        self.assertTrue((await c.call("ping"))["pong"])


class QuietLogTest(ServerTestCase):
    """Issue 26: with --port 0 and --log-level warn the chosen port must
    still be reported (the harness learns it from the `listening` line)."""

    server_args = ["--log-level", "warn"]

    async def test_listening_line_at_any_level(self):
        listening = [e for e in self.server.logs()
                     if e.get("event") == "listening"]
        self.assertEqual(len(listening), 1)
        self.assertEqual(listening[0]["port"], self.server.port)
        self.assertNotEqual(self.server.port, 0)
        c = await self.connect()
        self.assertTrue((await c.call("ping"))["pong"])
        # Ordinary info events stay filtered.
        self.assertFalse(any(e.get("level") == "info" and
                             e.get("event") not in ("listening",)
                             for e in self.server.logs()))


if __name__ == "__main__":
    main()
