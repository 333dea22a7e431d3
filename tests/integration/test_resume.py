"""Exactly-once delivery across lost connections (spec sections 3 and 7).

A child writes 50 MB of numbered lines; the client is cut off without a
Close at random points (at least five times), reconnects, resumes with the
last seq it processed, and in the end holds every byte exactly once and in
order. It acks as it goes, and the server's retention stays within its
bound throughout. A client that never acks or pongs keeps working for a
command longer than three heartbeat timeouts.
"""

import random
import unittest

from harness import (NO_ID, Client, ServerTestCase, fake_cmd, flood_bytes,
                     piece_bytes)

MAX_BUFFER = 1024 * 1024


class ExactlyOnceTest(ServerTestCase):
    server_args = ["--max-buffer-bytes", str(MAX_BUFFER)]

    async def drain(self, c, got, state, cut_after, ack_every):
        """Processes events until the process completes (True) or more than
        `cut_after` bytes arrived on this connection (False)."""
        received_here = 0
        while True:
            f = await c.wait_for(
                lambda f: f.get("method", "").startswith(("process.",
                                                          "stream.gap")),
                30, "a process event")
            p = f["params"]
            self.assertEqual(p["seq"], state["seq"] + 1, "seq not contiguous")
            state["seq"] = p["seq"]
            self.assertNotEqual(f["method"], "stream.gap",
                                "output lost despite acks")
            if f["method"] == "process.output":
                data = piece_bytes(p)
                got.append(data)
                received_here += len(data)
            if f["method"] == "process.completed":
                state["completed"] = p
                return True
            # An acking client must ack well within the buffer bound, or
            # the retained output it has not acked stops its own stream.
            if p["seq"] % ack_every == 0:
                await c.send(c.message("ack", {"seq": p["seq"]}, id=NO_ID))
            if received_here > cut_after:
                return False

    async def run_with_cuts(self, framing, total, cuts, seed, ack_every):
        rng = random.Random(seed)
        c = await self.connect()
        sid, token = c.session_id, c.connected["resume_token"]
        # The first ack switches the session to acknowledged delivery: from
        # then on only acks release output. Sent before `execute`, so that
        # nothing is released on the strength of having been written to a
        # socket whose buffers the client has not read yet.
        await c.call("ack", {"seq": 0})
        await c.start({"command": fake_cmd("--flood", total),
                       "framing": framing})
        state = {"seq": c.last_seq, "completed": None}
        got = []
        cut_count = 0
        while True:
            budget = rng.randint(total // (3 * cuts), total // (cuts + 1))
            if cut_count >= cuts:
                budget = total * 2
            if await self.drain(c, got, state, budget, ack_every):
                break
            c.abort()  # like a killed client: no Close frame
            cut_count += 1
            c = await self.connect()
            c.last_seq = state["seq"]
            resp = await c.call("resume", {"session_id": sid,
                                           "resume_token": token,
                                           "last_seq": state["seq"]})
            self.assertEqual(resp["status"], "resumed")
            self.assertEqual(resp["session_id"], sid)
            status = await c.call("status")
            self.assertLessEqual(status["buffered_bytes"], MAX_BUFFER)
        self.assertGreaterEqual(cut_count, cuts)
        self.assertEqual(state["completed"]["exit_code"], 0)
        self.assertEqual(b"".join(got), flood_bytes(total))

    async def test_50_mb_in_chunks_survive_five_cuts(self):
        await self.run_with_cuts("chunks", 50 * 1000 * 1000, 5, seed=1,
                                 ack_every=4)

    async def test_5_mb_of_lines_survive_five_cuts(self):
        await self.run_with_cuts("lines", 5 * 1000 * 1000, 5, seed=2,
                                 ack_every=16)


class ImplicitGapTest(ServerTestCase):
    """Issue 25 item 12: a client that never acks, cut off with megabytes of
    output in the socket buffers, resumes; the stream.gap says exactly how
    many bytes it missed."""

    async def test_resume_gap_counts_every_missing_byte(self):
        total = b"".join(f"{i}\n".encode() for i in range(1, 150001))
        c = await self.connect()
        sid, token = c.session_id, c.connected["resume_token"]
        await c.start({"command": "exec seq 1 150000"})
        before = []
        got = 0
        while got < 100_000:
            f = await c.wait_for(
                lambda f: f.get("method") == "process.output", 30)
            data = piece_bytes(f["params"])
            before.append(data)
            got += len(data)
        c.abort()  # like a killed client: no Close frame
        c = await self.connect()
        c.last_seq = c2_seq = self.clients[-2].last_seq
        resp = await c.call("resume", {"session_id": sid,
                                       "resume_token": token,
                                       "last_seq": c2_seq})
        self.assertEqual(resp["status"], "resumed")
        gaps, after = [], []
        while True:
            f = await c.wait_for(
                lambda f: f.get("method", "").startswith(
                    ("process.", "stream.gap")), 30)
            if f["method"] == "stream.gap":
                gaps.append(f["params"])
            elif f["method"] == "process.output":
                after.append(piece_bytes(f["params"]))
            elif f["method"] == "process.completed":
                break
        # The socket buffers held far more than the replay window.
        self.assertEqual(len(gaps), 1, gaps)
        gap = gaps[0]
        self.assertNotIn("dropped_bytes_exact", gap)
        got_before, got_after = b"".join(before), b"".join(after)
        self.assertGreater(gap["dropped_bytes"], 0)
        self.assertEqual(len(got_before) + gap["dropped_bytes"] +
                         len(got_after), len(total))
        # And what arrived is the stream with exactly that hole.
        self.assertEqual(got_before, total[:len(got_before)])
        self.assertEqual(got_after, total[len(total) - len(got_after):])


class OldClientTest(ServerTestCase):
    server_args = ["--heartbeat-interval-ms", "200",
                   "--json-ping-interval", "0.2"]

    async def test_client_that_never_pongs_or_acks_keeps_working(self):
        # The library answers WebSocket pings (as every client must), but
        # this client never sends a JSON pong nor an ack: it runs a command
        # of more than three heartbeat timeouts (3 x 400 ms) to the end.
        c = await self.connect()
        run = await c.run({"command": fake_cmd("--interval-ms", 100,
                                               "--ticks", 15)})
        self.assertCompleted(run)
        self.assertEqual(len(run.lines()), 15)
        pings = [f for f in c.frames if f.get("method") == "ping"]
        self.assertGreaterEqual(len(pings), 3)


if __name__ == "__main__":
    unittest.main()
