#!/usr/bin/python3
"""Limits (spec sections 1, 6, 8): a binary frame closes with 1003, a text
frame that is not UTF-8 with 1007, an oversized message with 1009; the session
limit (-32003 without id, then 1008); a slow reader blocks the child instead of
growing the server's memory; on_overflow "drop_oldest" drops output and says
where, with stream.gap; the request rate limit per connection (-32029 with
retry_after_ms; pong and ack exempt); the size limits of `command`, `argv`,
`env` and `input` (-32602 naming the param and its limit)."""

import asyncio
import base64
import json
import time
import unittest

from harness import (NO_ID, OP_BINARY, OP_TEXT, RawWebSocket, ServerClosed,
                     ServerTestCase, async_wait_until, blocked_in_write,
                     fake_cmd, flood_bytes, main, numbered_lines, pid_alive,
                     piece_bytes, rss_kib, wchan)


class FrameLimitTest(ServerTestCase):
    server_args = ["--max-message-bytes", "1024"]

    async def test_binary_frame_closes_1003(self):
        c = await self.connect()
        await c.ws.send(b'{"jsonrpc":"2.0","method":"ping","id":1}')
        (code, _), _ = await c.wait_closed()
        self.assertEqual(code, 1003)

    async def test_oversized_message_closes_1009(self):
        c = await self.connect()
        # Just under the limit is fine.
        small = c.message("ping", {"pad": "x" * 900}, id=1)
        self.assertLessEqual(len(json.dumps(small)), 1024)
        await c.send(small)
        self.assertTrue((await c.response(1))["result"]["pong"])
        await c.send(c.message("ping", {"pad": "x" * 2000}, id=2))
        (code, _), _ = await c.wait_closed()
        self.assertEqual(code, 1009)

    async def test_invalid_utf8_text_frame_closes_1007(self):
        raw = await RawWebSocket.open(self.server.host, self.server.port)
        try:
            await raw.recv_frame()  # connected
            raw.send_frame(OP_TEXT, b'{"jsonrpc":"2.0","method":"ping",'
                                    b'"id":1,"x":"\xff\xfe"}')
            self.assertEqual(await raw.close_code(), 1007)
        finally:
            raw.abort()

    async def test_fragmented_oversized_message_closes_1009(self):
        # The limit applies to the message, not to each frame.
        raw = await RawWebSocket.open(self.server.host, self.server.port)
        try:
            await raw.recv_frame()
            raw.send_frame(OP_TEXT, b'{"jsonrpc":"2.0","method":"ping","x":"'
                           + b"y" * 600, fin=False)
            raw.send_frame(0, b"y" * 600, fin=False)
            raw.send_frame(0, b'"}', fin=True)
            self.assertEqual(await raw.close_code(), 1009)
        finally:
            raw.abort()

    async def test_other_sessions_unaffected(self):
        a = await self.connect()
        b = await self.connect()
        await a.ws.send(b"\x00binary")
        (code, _), _ = await a.wait_closed()
        self.assertEqual(code, 1003)
        run = await b.run({"command": "echo still"})
        self.assertEqual(run.text(), "still\n")


class SessionLimitTest(ServerTestCase):
    server_args = ["--max-sessions", "2"]

    async def test_third_connection_refused(self):
        a = await self.connect()
        b = await self.connect()
        c = await self.connect(read_connected=False)
        first = await c.next()
        self.assertNotEqual(first.get("method"), "connected", first)
        self.assertNotIn("id", first)
        self.assertEqual(first.get("error", {}).get("code"), -32003, first)
        self.assertIsInstance(first["error"].get("message"), str)
        (code, _), _ = await c.wait_closed()
        self.assertEqual(code, 1008)
        # The two admitted sessions still work.
        self.assertTrue((await a.call("ping"))["pong"])
        self.assertTrue((await b.call("ping"))["pong"])
        status, health = self.server.http_json("/health")
        self.assertEqual(health["max_sessions"], 2)
        self.assertEqual(health["active_sessions"], 2)

    async def test_slot_freed_by_clean_close(self):
        a = await self.connect()
        await self.connect()
        await a.close()
        self.assertTrue(await async_wait_until(
            lambda: self.server.http_json("/health")[1]["active_sessions"] < 2,
            5.0))
        c = await self.connect()  # admitted: `connected` comes first
        self.assertTrue((await c.call("ping"))["pong"])


class BackpressureTest(ServerTestCase):
    async def test_slow_reader_blocks_child_and_bounds_memory(self):
        n = 64 * 1024 * 1024
        # max_queue=1: the client library itself buffers almost nothing.
        c = await self.connect(max_queue=1)
        await c.call("ping")
        rss_before = rss_kib(self.server.pid)
        run = await c.start({"command": fake_cmd("--flood", n),
                             "framing": "chunks"})
        pid = run.started["pid"]
        # Read nothing: the server must stop reading the pipe, so the child
        # (which could write 64 MiB in well under a second) blocks in
        # write(2). Wait for that, then for it to stay so.
        self.assertTrue(await async_wait_until(
            lambda: blocked_in_write(pid) or not pid_alive(pid), 10.0),
            "the child neither blocked nor ended")
        # The window is the point of the test: nothing read for a while, the
        # child still blocked and the server's memory flat. Sampled, so the
        # peak is seen.
        peak = rss_before
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            peak = max(peak, rss_kib(self.server.pid) or 0)
            await asyncio.sleep(0.05)
        self.assertTrue(pid_alive(pid),
                        "child finished 64 MiB while nobody read: the server "
                        "buffered the output")
        self.assertTrue(blocked_in_write(pid),
                        f"child not blocked in write(2) while nobody read "
                        f"(wchan {wchan(pid)!r})")
        growth_mib = (peak - rss_before) / 1024
        self.assertLess(growth_mib, 48,
                        f"server grew by {growth_mib:.0f} MiB for a slow reader")
        await c.collect(run)
        self.assertCompleted(run)
        self.assertEqual(run.output(), flood_bytes(n))

    async def test_slow_reader_lines_nothing_lost(self):
        # 3,000 frames: more than the 1,000-frame buffer; default "block".
        c = await self.connect(max_queue=1)
        run = await c.start({"command": fake_cmd("--lines", 3000)})
        pid = run.started["pid"]
        # A slow client: it reads only once the server holds all it will
        # (the child blocked in write(2)), or the child wrote everything
        # into the server's buffers and the sockets'.
        self.assertTrue(await async_wait_until(
            lambda: blocked_in_write(pid) or not pid_alive(pid), 10.0),
            "the child neither blocked nor ended")
        await c.collect(run)
        self.assertEqual(run.lines(), numbered_lines(3000))


class DropOldestTest(ServerTestCase):
    async def test_drop_oldest_reports_gaps_in_place(self):
        n = 32 * 1024 * 1024
        expected = flood_bytes(n)
        c = await self.connect(max_queue=1)
        run = await c.start({"command": fake_cmd("--flood", n),
                             "framing": "chunks", "on_overflow": "drop_oldest"})
        pid = run.started["pid"]
        # Nobody reads, yet the child is never blocked: it finishes.
        self.assertTrue(await async_wait_until(lambda: not pid_alive(pid),
                                               15.0),
                        "child blocked under on_overflow drop_oldest")
        await c.collect(run)
        self.assertCompleted(run)
        gaps = run.gaps("stdout")
        self.assertTrue(gaps, "nothing dropped although nobody read 32 MiB")
        # Every received piece sits at its true offset in the stream; each
        # stream.gap stands exactly where the dropped bytes were.
        offset = 0
        for f in run.events:
            p = f["params"]
            if f["method"] == "process.output":
                data = piece_bytes(p)
                self.assertEqual(data, expected[offset:offset + len(data)],
                                 f"output at offset {offset} is not the "
                                 f"child's")
                offset += len(data)
            elif f["method"] == "stream.gap":
                self.assertEqual(p.get("type"), "stdout")
                self.assertIsInstance(p.get("dropped_bytes"), int)
                self.assertGreater(p["dropped_bytes"], 0)
                self.assertIsInstance(p.get("dropped_frames"), int)
                self.assertGreater(p["dropped_frames"], 0)
                offset += p["dropped_bytes"]
        self.assertEqual(offset, n, "received + dropped != written")
        st = await c.call("status")
        if st.get("process") is not None:
            self.assertEqual(st["process"]["dropped_bytes"],
                             sum(g["dropped_bytes"] for g in gaps))

    async def test_drop_oldest_within_bounds_drops_nothing(self):
        # 500 lines of 100 bytes fit every bound: nothing may be dropped.
        c = await self.connect()
        run = await c.run({"command": fake_cmd("--lines", 500),
                           "on_overflow": "drop_oldest"})
        self.assertEqual(run.gaps(), [])
        self.assertEqual(run.lines(), numbered_lines(500))


RATE = 1  # request per second: a token every second
BURST = 5


class RateLimitTest(ServerTestCase):
    server_args = ["--rate-limit-rps", RATE, "--rate-limit-burst", BURST]

    def assert_rate_limited(self, resp):
        err = resp.get("error")
        self.assertIsNotNone(err, resp)
        self.assertEqual(err["code"], -32029, resp)
        retry = err["data"]["retry_after_ms"]
        self.assertIsInstance(retry, int)
        # One token is at most 1/RATE seconds away.
        self.assertGreaterEqual(retry, 1)
        self.assertLessEqual(retry, 1000 // RATE)
        return retry

    async def flood(self, c, n):
        """n pings sent at once; their responses in order."""
        msgs = [c.message("ping") for _ in range(n)]
        for m in msgs:
            await c.send(m)
        return [await c.response(m["id"]) for m in msgs]

    async def well_behaved(self, c):
        """Fewer requests than the burst, at the pace of the answers."""
        run = await c.run({"command": "echo fine"})
        self.assertEqual(run.text(), "fine\n")
        for _ in range(2):
            self.assertTrue((await c.call("ping"))["pong"])

    async def test_flood_refused_others_unaffected_then_recovers(self):
        a = await self.connect()
        b = await self.connect()
        resps, _ = await asyncio.gather(self.flood(a, 20),
                                        self.well_behaved(b))
        # The bucket starts full: the burst passes, then (but for what
        # dripped in while sending) the rest is refused.
        for r in resps[:BURST]:
            self.assertTrue(r["result"]["pong"], r)
        refused = [r for r in resps if "error" in r]
        self.assertGreaterEqual(len(refused), 20 - BURST - 2)
        for r in refused:
            self.assert_rate_limited(r)
        self.server.wait_log(lambda e: e["event"] == "rate_limited"
                             and e["code"] == -32029
                             and e["connection_id"] is not None)
        # Once more, then wait exactly as long as the server said.
        retry = self.assert_rate_limited(await a.request("ping"))
        await asyncio.sleep(retry / 1000)  # what is under test
        self.assertTrue((await a.call("ping"))["pong"])
        self.server.wait_log(lambda e: e["event"] == "rate_limit_lifted"
                             and e["refused"] >= len(refused))

    async def test_notification_over_limit_dropped(self):
        a = await self.connect()
        await self.flood(a, BURST)
        retry = self.assert_rate_limited(await a.request("ping"))
        # Without id it would get a response without id; over the limit it
        # gets nothing and takes no token.
        await a.send(a.message("ping", id=NO_ID))
        # Exactly as long as the server said: what is under test.
        await asyncio.sleep(retry / 1000)
        resp = await a.request("ping")
        self.assertTrue(resp["result"]["pong"], resp)
        idless = [f for f in a.frames if "method" not in f and "id" not in f]
        self.assertEqual(idless, [])

    async def test_ack_and_pong_exempt(self):
        a = await self.connect()
        await self.flood(a, BURST)
        self.assert_rate_limited(await a.request("ping"))
        for _ in range(BURST + 1):
            await a.send(a.message("pong", id=NO_ID))
            self.assertIn("acked_seq", await a.call("ack", {"seq": 0}))
        self.assert_rate_limited(await a.request("ping"))


class RateLimitOffTest(ServerTestCase):
    server_args = ["--rate-limit-rps", 0]

    async def test_zero_disables_the_limit(self):
        a = await self.connect()
        msgs = [a.message("ping") for _ in range(500)]
        for m in msgs:
            await a.send(m)
        for m in msgs:
            self.assertTrue((await a.response(m["id"]))["result"]["pong"])


class SizeLimitTest(ServerTestCase):
    server_args = ["--max-command-bytes", 64, "--max-argv-entries", 4,
                   "--max-argv-bytes", 200, "--max-env-entries", 3,
                   "--max-env-bytes", 64, "--max-input-bytes", 100]

    async def refused(self, c, method, params, field, limit):
        err = await c.call_error(method, params, code=-32602)
        self.assertIn(f"'{field}'", err["message"])
        self.assertIn(f"limit of {limit} ", err["message"])
        return err

    async def test_command_bytes(self):
        c = await self.connect()
        cmd = "echo " + "x" * 59
        self.assertEqual(len(cmd), 64)
        run = await c.run({"command": cmd})
        self.assertEqual(run.text(), "x" * 59 + "\n")
        await self.refused(c, "execute", {"command": cmd + "x"}, "command", 64)

    async def test_argv_entries_and_bytes(self):
        c = await self.connect()
        run = await c.run({"argv": ["echo", "a", "b", "c"]})
        self.assertEqual(run.text(), "a b c\n")
        await self.refused(c, "execute", {"argv": ["echo", "a", "b", "c", "d"]},
                           "argv", 4)
        arg = "y" * (200 - len("echo"))
        run = await c.run({"argv": ["echo", arg]})
        self.assertEqual(run.text(), arg + "\n")
        await self.refused(c, "execute", {"argv": ["echo", arg + "y"]},
                           "argv", 200)

    async def test_env_entries_and_bytes(self):
        c = await self.connect()
        env = {"A": "1", "B": "2", "C": "3"}
        run = await c.run({"command": "echo $A$B$C", "env": env})
        self.assertEqual(run.text(), "123\n")
        await self.refused(c, "execute", {"command": "true",
                                          "env": dict(env, D="4")}, "env", 3)
        value = "v" * 63  # "V" + value: 64 bytes
        run = await c.run({"command": "echo ${#V}", "env": {"V": value}})
        self.assertEqual(run.text(), "63\n")
        await self.refused(c, "execute", {"command": "true",
                                          "env": {"V": value + "v"}},
                           "env", 64)

    async def test_input_data_bytes(self):
        c = await self.connect()
        run = await c.start({"command": "cat", "stdin": True})
        self.assertEqual((await c.call("input", {"data": "a" * 100}))
                         ["written"], 100)
        await self.refused(c, "input", {"data": "a" * 101}, "data", 100)
        # Counted after decoding: 136 base64 characters are 100 bytes.
        b64 = base64.b64encode(b"b" * 100).decode()
        self.assertEqual((await c.call("input", {"data": b64,
                                                 "encoding": "base64",
                                                 "eof": True}))["written"], 100)
        run = await c.collect(run)
        self.assertEqual(run.text(), "a" * 100 + "b" * 100)


if __name__ == "__main__":
    main()
