#!/usr/bin/python3
"""Connections and sessions (spec sections 1-3): the `connected` frame, the
/ws alias, request ids, requests sent before `connected` was read, ping,
hook_status, pong, and the status of a fresh session."""

import asyncio
import time
import unittest

from harness import (CAPABILITIES, NO_ID, UUID4_RE, RawWebSocket,
                     ServerTestCase, main)


class ConnectedFrameTest(ServerTestCase):
    async def test_first_frame_is_connected(self):
        c = await self.connect(read_connected=False)
        frame = await c.next()
        self.assertEqual(frame.get("jsonrpc"), "2.0", frame)
        self.assertEqual(frame.get("method"), "connected", frame)
        self.assertNotIn("id", frame)
        p = frame["params"]
        self.assertRegex(p.get("session_id", ""), UUID4_RE)
        self.assertEqual(p.get("version"), "1.0.0")
        self.assertIsInstance(p.get("capabilities"), list)
        for cap in CAPABILITIES:
            self.assertIn(cap, p["capabilities"])
        token = p.get("resume_token")
        self.assertIsInstance(token, str)
        # At least 128 bits of randomness: 22 base64 or 32 hex characters.
        self.assertGreaterEqual(len(token), 22, token)
        self.assertEqual(p.get("heartbeat_interval_ms"), 20000)

    async def test_sessions_and_tokens_are_distinct(self):
        a = await self.connect()
        b = await self.connect()
        self.assertNotEqual(a.session_id, b.session_id)
        self.assertNotEqual(a.connected["resume_token"],
                            b.connected["resume_token"])

    async def test_ws_alias(self):
        c = await self.connect(path="/ws")
        self.assertRegex(c.session_id, UUID4_RE)
        self.assertEqual(await c.call("hook_status"), {"enabled": False})

    async def test_raw_client_sees_connected_first(self):
        # The same check with a hand-rolled client: a plain text frame.
        raw = await RawWebSocket.open(self.server.host, self.server.port)
        try:
            fin, op, payload = await raw.recv_frame()
            self.assertEqual(op, 1, "first frame is not a text frame")
            self.assertIn(b'"connected"', payload)
        finally:
            raw.abort()


class HeartbeatIntervalAnnouncedTest(ServerTestCase):
    server_args = ["--heartbeat-interval-ms", "5000"]

    async def test_connected_announces_configured_interval(self):
        c = await self.connect()
        self.assertEqual(c.connected["heartbeat_interval_ms"], 5000)


class RequestIdTest(ServerTestCase):
    async def test_string_id_echoed(self):
        c = await self.connect()
        for rid in ("abc", "", "id with spaces \u00e9\u2603", "1"):
            resp = await c.request("ping", id=rid)
            self.assertEqual(resp["id"], rid)
            self.assertIs(type(resp["id"]), str)
            self.assertTrue(resp["result"]["pong"])

    async def test_integer_id_echoed(self):
        c = await self.connect()
        for rid in (0, 7, 2**40, -3):
            resp = await c.request("ping", id=rid)
            self.assertEqual(resp["id"], rid)
            self.assertIs(type(resp["id"]), int)
            self.assertEqual(resp.get("jsonrpc"), "2.0")

    async def test_request_without_id_gets_response_without_id(self):
        c = await self.connect()
        resp = await c.request("ping", id=NO_ID)
        self.assertNotIn("id", resp)
        self.assertTrue(resp["result"]["pong"])
        resp = await c.request("hook_status", id=NO_ID)
        self.assertNotIn("id", resp)
        self.assertEqual(resp["result"], {"enabled": False})

    async def test_requests_before_connected_was_read(self):
        # Spec 1: a client may send at once; `connected` is still first.
        c = await self.connect(read_connected=False)
        for i in range(1, 6):
            await c.send(c.message("ping", id=i))
        first = await c.next()
        self.assertEqual(first.get("method"), "connected", first)
        ids = []
        for _ in range(5):
            f = await c.wait_for(lambda f: "result" in f or "error" in f)
            ids.append(f.get("id"))
        self.assertEqual(ids, [1, 2, 3, 4, 5], "responses out of order")

    async def test_unknown_params_ignored(self):
        c = await self.connect()
        res = await c.call("ping", {"extra": [1, 2], "nested": {"a": None}})
        self.assertTrue(res["pong"])


class SimpleMethodsTest(ServerTestCase):
    async def test_ping(self):
        c = await self.connect()
        before = time.time()
        res = await c.call("ping")
        after = time.time()
        self.assertIs(res.get("pong"), True)
        ts = res.get("timestamp")
        self.assertIsInstance(ts, (int, float))
        # Seconds since the epoch, like the original's time.time().
        self.assertGreater(ts, before - 60)
        self.assertLess(ts, after + 60)

    async def test_hook_status(self):
        c = await self.connect()
        self.assertEqual(await c.call("hook_status"), {"enabled": False})
        self.assertEqual(await c.call("hook_status", {"anything": 1}),
                         {"enabled": False})

    async def test_pong_gets_no_response(self):
        c = await self.connect()
        await c.send(c.message("pong", {"timestamp": time.time()}, id=NO_ID))
        # The next response must be the ping's: the pong produced nothing.
        await c.send(c.message("ping", id="after-pong"))
        f = await c.wait_for(lambda f: "result" in f or "error" in f)
        self.assertEqual(f.get("id"), "after-pong", f)

    async def test_status_of_fresh_session(self):
        c = await self.connect()
        st = await c.call("status")
        self.assertEqual(st.get("session_id"), c.session_id)
        self.assertEqual(st.get("state"), "attached")
        self.assertEqual(st.get("last_seq"), 0)
        self.assertIn("acked_seq", st)
        self.assertIn("process", st)
        self.assertIsNone(st["process"])

    async def test_many_connections_in_a_row(self):
        # Sessions end on a clean close: 30 open/close cycles leave no
        # session behind (checked through /health).
        for _ in range(30):
            c = await self.connect()
            await c.call("ping")
            await c.close()
        ok = await asyncio.get_running_loop().run_in_executor(
            None, self._wait_active_zero)
        self.assertTrue(ok, "active_sessions did not return to 0")

    def _wait_active_zero(self):
        from harness import wait_until
        return wait_until(
            lambda: self.server.http_json("/health")[1].get(
                "active_sessions") == 0, 5.0, 0.05)


if __name__ == "__main__":
    main()
