#!/usr/bin/python3
"""Heartbeats and timeouts (spec section 7): WebSocket pings every
heartbeat_interval_ms, a silent peer dropped after heartbeat_timeout_ms while
any frame or pong keeps it alive, the JSON `ping` notification that old
clients never answer, the handshake deadline."""

import asyncio
import json
import socket
import time
import unittest

from harness import (OP_PING, OP_PONG, OP_TEXT, RawWebSocket, ServerTestCase,
                     async_wait_until, fake_cmd, main, pid_alive)


class WebSocketPingTest(ServerTestCase):
    server_args = ["--heartbeat-interval-ms", "200"]

    async def raw(self):
        raw = await RawWebSocket.open(self.server.host, self.server.port)
        self.addCleanup(raw.abort)
        fin, op, payload = await raw.recv_frame()
        self.assertEqual(op, OP_TEXT)
        self.assertEqual(json.loads(payload)["method"], "connected")
        return raw

    async def test_server_sends_ping_frames(self):
        raw = await self.raw()
        t0 = time.monotonic()
        frame = await raw.recv_until(lambda f: f[1] == OP_PING, 3.0)
        self.assertIsNotNone(frame, "closed before any ping")
        self.assertLess(time.monotonic() - t0, 2.0)

    async def test_silent_peer_is_dropped(self):
        raw = await self.raw()
        # Never answer, never send: dead after ~2 intervals.
        t0 = time.monotonic()
        self.assertTrue(await raw.wait_eof(5.0), "silent peer not dropped")
        self.assertGreaterEqual(time.monotonic() - t0, 0.2)

    async def test_dead_peer_detaches_and_its_process_keeps_running(self):
        raw = await self.raw()
        raw.send_frame(OP_TEXT, json.dumps({
            "jsonrpc": "2.0", "id": 1, "method": "execute",
            "params": {"command": "sleep 30"}}).encode())
        frame = await raw.recv_until(
            lambda f: f[1] == OP_TEXT and b'"started"' in f[2], 5.0)
        self.assertIsNotNone(frame, "no execute response")
        pid = json.loads(frame[2])["result"]["pid"]
        self.extra_pgids.add(pid)
        # From now on the peer answers no ping: the server must drop it
        # (closing the TCP connection, which the child must not hold).
        self.assertTrue(await raw.wait_eof(5.0), "dead peer not dropped")
        detached = await async_wait_until(
            lambda: self.server.http_json("/health")[1]["detached_sessions"]
            == 1, 5.0)
        self.assertTrue(detached, "the session did not detach")
        self.assertTrue(pid_alive(pid), "the process died with its peer")

    async def test_answering_peer_stays(self):
        raw = await self.raw()
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            frame = await raw.recv_frame(1.0)
            self.assertIsNotNone(frame, "dropped although it answered pings")
            if frame[1] == OP_PING:
                raw.send_frame(OP_PONG, frame[2])
        raw.send_frame(OP_TEXT, '{"jsonrpc":"2.0","method":"ping","id":9}')
        frame = await raw.recv_until(lambda f: f[1] == OP_TEXT)
        self.assertIsNotNone(frame)
        self.assertEqual(json.loads(frame[2])["id"], 9)

    async def test_peer_sending_frames_stays_without_pongs(self):
        # "nothing (a frame, a pong) arrived": frames count as life too.
        raw = await self.raw()
        for i in range(15):
            raw.send_frame(OP_TEXT, json.dumps(
                {"jsonrpc": "2.0", "method": "ping", "id": i}))
            frame = await raw.recv_until(
                lambda f: f[1] == OP_TEXT and b'"pong"' in f[2], 2.0)
            self.assertIsNotNone(frame, f"dropped after {i} requests")
            await asyncio.sleep(0.1)  # pace the requests over 1.5 s

    async def test_library_client_stays_connected(self):
        # The websockets library answers pings by itself.
        c = await self.connect()
        await asyncio.sleep(1.5)  # several heartbeat timeouts long
        self.assertTrue((await c.call("ping"))["pong"])


class BacklogTest(ServerTestCase):
    """A ping waits behind all output queued before it: a client busy
    reading a deep backlog answers late, yet it is alive, and its TCP
    acknowledging our output shows it."""
    server_args = ["--heartbeat-interval-ms", "500"]

    async def test_peer_draining_a_backlog_stays_without_pongs(self):
        raw = await RawWebSocket.open(self.server.host, self.server.port)
        self.addCleanup(raw.abort)
        # A small receive buffer: what the server sees acknowledged is then
        # close to what this client has read. (With megabytes unread in its
        # kernel once the server has sent everything, a client this slow
        # would still meet its ping too late.)
        raw.writer.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_RCVBUF, 128 * 1024)
        raw.send_frame(OP_TEXT, json.dumps({
            "jsonrpc": "2.0", "id": 1, "method": "execute",
            "params": {"command": fake_cmd("--lines", "40000")}}).encode())
        # About 8 MB of frames, read at most ~2 MB/s, never a pong, never a
        # frame sent: several heartbeat timeouts (1 s) long.
        t0 = time.monotonic()
        lines = frames = 0
        completed = False
        while not completed:
            frame = await raw.recv_frame(5.0)
            self.assertIsNotNone(frame, f"dropped while draining, "
                                 f"after {lines} lines")
            frames += 1
            if frames % 100 == 0:
                await asyncio.sleep(0.01)  # a slow reader: what is tested
            if frame[1] != OP_TEXT:
                continue
            method = json.loads(frame[2]).get("method")
            lines += method == "process.output"
            completed = method == "process.completed"
        self.assertEqual(lines, 40000)
        self.assertGreater(time.monotonic() - t0, 2.0)
        # Kernel buffers may hold the tail of the output, so "not dropped"
        # is the server's word: the session never detached.
        self.assertEqual(self.server.http_json("/health")[1]
                         ["detached_sessions"], 0, "dropped while draining")
        # Drained and silent from now on: dead after the timeout.
        self.assertTrue(await raw.wait_eof(5.0), "silent peer not dropped")
        detached = await async_wait_until(
            lambda: self.server.http_json("/health")[1]["detached_sessions"]
            == 1, 5.0)
        self.assertTrue(detached, "the session did not detach")


class JsonPingTest(ServerTestCase):
    server_args = ["--json-ping-interval", "1"]

    async def test_ping_notifications_need_no_answer(self):
        c = await self.connect()
        t0 = time.monotonic()
        first = await c.wait_method("ping", timeout=5)
        second = await c.wait_method("ping", timeout=5)
        elapsed = time.monotonic() - t0
        for note in (first, second):
            self.assertEqual(note.get("jsonrpc"), "2.0")
            self.assertNotIn("id", note)
            self.assertIsInstance(note["params"].get("timestamp"),
                                  (int, float))
        self.assertLess(elapsed, 4.5)
        # Never answered, still connected.
        self.assertTrue((await c.call("ping"))["pong"])

    async def test_pong_answer_accepted_silently(self):
        c = await self.connect()
        note = await c.wait_method("ping", timeout=5)
        await c.send({"jsonrpc": "2.0", "method": "pong",
                      "params": {"timestamp": note["params"]["timestamp"]}})
        await c.send(c.message("hook_status", id="h"))
        f = await c.wait_for(lambda f: "result" in f or "error" in f)
        self.assertEqual(f.get("id"), "h", f)


class HandshakeTimeoutTest(ServerTestCase):
    server_args = ["--handshake-timeout-ms", "500"]

    async def test_idle_tcp_connection_closed(self):
        raw = await RawWebSocket.connect(self.server.host, self.server.port)
        self.addCleanup(raw.abort)
        t0 = time.monotonic()
        self.assertTrue(await raw.wait_eof(5.0), "idle TCP connection kept")
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)

    async def test_partial_handshake_closed(self):
        raw = await RawWebSocket.connect(self.server.host, self.server.port)
        self.addCleanup(raw.abort)
        raw.writer.write(b"GET /ws/mcp HTTP/1.1\r\nHost: x\r\n")
        self.assertTrue(await raw.wait_eof(5.0), "half a handshake kept")

    async def test_normal_connection_unaffected(self):
        c = await self.connect()
        await asyncio.sleep(1.0)  # longer than the handshake deadline
        self.assertTrue((await c.call("ping"))["pong"])


if __name__ == "__main__":
    main()
