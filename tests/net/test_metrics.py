#!/usr/bin/python3
"""/metrics (spec section 9, issue 7): valid Prometheus text (promtool), and
counters that move exactly as a scripted session runs."""

import asyncio
import time
import unittest

import websockets

from ops_harness import (ServerTest, async_wait_until, main, parse_metrics,
                         promtool_check, raw_upgrade, sample)


class MetricsTest(ServerTest):
    server_args = ["--max-sessions", "7"]

    def scrape(self):
        return parse_metrics(self.server.metrics())

    def assert_promtool(self, text):
        ok, out = promtool_check(text)
        self.assertTrue(ok, f"promtool check metrics failed:\n{out}")

    async def test_format_and_headers(self):
        status, headers, body = self.server.http("/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"],
                         "text/plain; version=0.0.4; charset=utf-8")
        text = body.decode()
        m = parse_metrics(text)
        self.assertEqual(sample(m, "actorexec_sessions_max"), 7)
        self.assertEqual(sample(m, "actorexec_connections_opened_total"), 0)
        self.assertEqual(sample(m, "actorexec_draining"), 0)
        self.assertGreater(sample(m, "process_resident_memory_bytes"), 0)
        self.assertGreater(sample(m, "process_open_fds"), 2)
        self.assertGreater(sample(m, "process_start_time_seconds"),
                           time.time() - 3600)
        self.assertLessEqual(sample(m, "process_start_time_seconds"),
                             time.time() + 1)
        self.assertGreaterEqual(sample(m, "process_cpu_seconds_total"), 0)
        self.assert_promtool(text)
        # HEAD: same headers, no body.
        status, headers, body = self.server.http("/metrics", method="HEAD")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"")

    async def test_counters_follow_a_scripted_session(self):
        before = self.scrape()
        self.assertEqual(sample(before, "actorexec_processes_started_total"), 0)
        c = await self.connect()
        for _ in range(3):
            res, done = await c.run({"command": "echo hi"})
            self.assertEqual(res["result"]["status"], "started")
            self.assertEqual(done["exit_code"], 0)
        res, done = await c.run({"command": "echo err >&2"})
        self.assertEqual(done["exit_code"], 0)
        res = await c.request("no_such_method")
        self.assertEqual(res["error"]["code"], -32601)
        m = self.scrape()
        self.assertEqual(sample(m, "actorexec_connections_active"), 1)
        self.assertEqual(sample(m, "actorexec_connections_opened_total"), 1)
        self.assertEqual(sample(m, "actorexec_sessions", state="attached"), 1)
        self.assertEqual(sample(m, "actorexec_sessions", state="detached"), 0)
        self.assertEqual(sample(m, "actorexec_sessions_created_total"), 1)
        self.assertEqual(sample(m, "actorexec_processes_started_total"), 4)
        self.assertEqual(sample(m, "actorexec_processes", state="running"), 0)
        self.assertEqual(
            sample(m, "actorexec_output_bytes_total", stream="stdout"), 9)
        self.assertEqual(
            sample(m, "actorexec_output_bytes_total", stream="stderr"), 4)
        self.assertEqual(
            sample(m, "actorexec_output_frames_total", stream="stdout")
            + sample(m, "actorexec_output_frames_total", stream="stderr"), 4)
        self.assertEqual(sample(m, "actorexec_spawn_failures_total"), 0)
        await c.close()
        self.assertTrue(await async_wait_until(
            lambda: sample(self.scrape(), "actorexec_connections_active")
            == 0, 10))
        m = self.scrape()
        self.assertEqual(
            sample(m, "actorexec_websocket_closes_total", code="1000"), 1)
        self.assertEqual(sample(m, "actorexec_sessions", state="attached"), 0)
        self.assert_promtool(self.server.metrics())

    async def test_counters_wired_in_the_actors(self):
        """Counters the actors increment (errors by code, completions, frames
        by stream, spawn latency)."""
        c = await self.connect()
        for _ in range(2):
            await c.run({"command": "echo out; echo err >&2"})
        await c.request("no_such_method")
        m = self.scrape()
        wired = [sample(m, "actorexec_jsonrpc_errors_total", code="-32601"),
                 sample(m, "actorexec_processes_completed_total",
                        status="completed"),
                 sample(m, "actorexec_output_frames_total", stream="stderr"),
                 sample(m, "actorexec_spawn_latency_seconds_count")]
        self.assertEqual(wired, [1, 2, 2, 2])
        self.assertEqual(
            sample(m, "actorexec_output_frames_total", stream="stdout"), 2)
        self.assertEqual(sample(m, "actorexec_spawn_latency_seconds_bucket",
                                le="+Inf"), 2)

    async def test_binary_frame_counted_as_1003(self):
        c = await self.connect()
        await c.ws.send(b"\x00\x01")
        with self.assertRaises(websockets.ConnectionClosed) as ctx:
            while True:
                await asyncio.wait_for(c.ws.recv(), 10)
        self.assertEqual(ctx.exception.rcvd.code, 1003)
        self.assertTrue(await async_wait_until(
            lambda: sample(self.scrape(), "actorexec_websocket_closes_total",
                           code="1003") == 1, 10))
        self.assertEqual(sample(self.scrape(),
                                "actorexec_websocket_closes_total",
                                code="1000"), 0)


class HeartbeatMetricsTest(ServerTest):
    server_args = ["--heartbeat-interval-ms", "200",
                   "--heartbeat-timeout-ms", "600"]

    async def test_silent_peer_counted_as_heartbeat_timeout(self):
        # A client that completes the handshake, then never sends a byte
        # (not even a pong): dropped after the timeout, with no Close frame.
        sock, status, _ = raw_upgrade(self.server.port)
        self.addCleanup(sock.close)
        self.assertEqual(status, 101)
        m = lambda: parse_metrics(self.server.metrics())
        self.assertTrue(await async_wait_until(
            lambda: sample(m(), "actorexec_heartbeat_timeouts_total") == 1,
            10))
        self.assertEqual(
            sample(m(), "actorexec_websocket_closes_total", code="1006"), 1)


class EveryEndCountedTest(ServerTest):
    """Issue 26: processes the server ends with their session (a clean
    close, linger expiry) are counted too, so started minus completed
    returns to zero."""

    server_args = ["--session-linger-ms", "200", "--cancel-grace-ms", "300",
                   "--close-grace-ms", "300"]

    def ended(self):
        m = self.scrape()
        return sum(sample(m, "actorexec_processes_completed_total", status=s)
                   for s in ("completed", "failed", "canceled", "timed_out"))

    def scrape(self):
        return parse_metrics(self.server.metrics())

    async def test_started_minus_completed_returns_to_zero(self):
        # One ends by itself, one with its client's clean close, one when
        # its detached session expires.
        a = await self.connect()
        await a.run({"command": "true"})
        b = await self.connect()
        res = await b.request("execute", {"command": "sleep 30"})
        self.assertEqual(res["result"]["status"], "started")
        await b.close()
        c = await self.connect()
        res = await c.request("execute", {"command": "sleep 30"})
        self.assertEqual(res["result"]["status"], "started")
        c.ws.transport.abort()  # a loss: the session detaches, then expires
        self.assertTrue(await async_wait_until(
            lambda: self.ended() == 3,
            15))
        m = self.scrape()
        self.assertEqual(sample(m, "actorexec_processes_started_total"), 3)
        self.assertEqual(self.ended(), 3)
        self.assertEqual(sample(m, "actorexec_processes_completed_total",
                                status="canceled"), 2)
        await a.close()


if __name__ == "__main__":
    main()
