#!/usr/bin/python3
"""Concurrency (spec sections 1 and 3): 100 sessions at once each see only
their own output; a cancel's grace period or a client that does not read never
stalls other sessions."""

import asyncio
import time
import unittest

from harness import (ServerTestCase, fake_cmd, main, numbered_lines,
                     pid_alive)

SESSIONS = 100


class ManySessionsTest(ServerTestCase):
    server_args = ["--max-sessions", "128"]

    async def test_100_concurrent_sessions_distinct_output(self):
        clients = await asyncio.gather(*(self.connect()
                                         for _ in range(SESSIONS)))
        self.assertEqual(len({c.session_id for c in clients}), SESSIONS)

        async def one(i, c):
            tag = f"s{i:03d}:"
            run = await c.run({"command": fake_cmd("--tag", tag, "--lines",
                                                   200, "--width", 60,
                                                   "--stderr-lines", 20)})
            return i, run

        t0 = time.monotonic()
        results = await asyncio.gather(*(one(i, c)
                                         for i, c in enumerate(clients)))
        elapsed = time.monotonic() - t0
        pgids = set()
        for i, run in results:
            tag = f"s{i:03d}:"
            self.assertCompleted(run)
            self.assertEqual(run.lines(), numbered_lines(200, 60, tag),
                             f"session {i} saw output that is not its own")
            self.assertEqual(run.output("stderr"),
                             b"".join(f"{tag}err {k:06d}\n".encode()
                                      for k in range(1, 21)))
            pgids.add(run.started["pgid"])
        self.assertEqual(len(pgids), SESSIONS)
        self.assertLess(elapsed, 60)
        status, health = self.server.http_json("/health")
        self.assertEqual(health["active_sessions"], SESSIONS)


class NoStallTest(ServerTestCase):
    server_args = ["--cancel-grace-ms", "3000"]

    async def test_cancel_grace_does_not_stall_other_sessions(self):
        a = await self.connect()
        b = await self.connect()
        run_a = await a.start({"command": fake_cmd("--ignore-term",
                                                     "--text", "ready",
                                                     "--sleep-ms", 60000)})
        # Cancel only once SIGTERM is ignored, or it may simply kill A.
        await a.collect_until(run_a, "process.output")
        t0 = time.monotonic()
        await a.send(a.message("control", {"type": "CANCEL"}, id="c"))
        run_b = await b.run({"command": "echo b"})
        self.assertEqual(run_b.text(), "b\n")
        self.assertLess(time.monotonic() - t0, 1.5,
                        "session B waited for A's cancel grace")
        self.assertTrue(pid_alive(run_a.started["pid"]),
                        "A ended before its grace period")
        await a.response("c")
        await a.collect(run_a, timeout=10)
        self.assertEqual(run_a.completed["status"], "canceled")
        self.assertEqual(run_a.completed["signal"], 9)
        self.assertGreaterEqual(time.monotonic() - t0, 2.5)

    async def test_unread_flood_does_not_stall_other_sessions(self):
        a = await self.connect(max_queue=1)
        b = await self.connect()
        run_a = await a.start({"command": fake_cmd("--flood", 256 * 1024 * 1024),
                               "framing": "chunks"})
        # A never reads again; B keeps working normally.
        t0 = time.monotonic()
        for i in range(20):
            run = await b.run({"command": fake_cmd("--text", f"b{i}")})
            self.assertEqual(run.text(), f"b{i}\n")
        self.assertLess(time.monotonic() - t0, 10)
        self.assertTrue((await b.call("ping"))["pong"])
        self.assertTrue(pid_alive(run_a.started["pid"]))
        # A cancels and drains what little is buffered: its child was
        # blocked, so the 256 MiB were never produced.
        await a.send(a.message("control", {"type": "CANCEL"}, id="cancel"))
        await a.collect(run_a)
        self.assertEqual(run_a.completed["status"], "canceled")
        self.assertLess(len(run_a.output()), 64 * 1024 * 1024)

    async def test_parallel_executes_in_many_sessions_with_input(self):
        clients = await asyncio.gather(*(self.connect() for _ in range(20)))

        async def one(i, c):
            run = await c.start({"command": fake_cmd("--echo-stdin"),
                                 "stdin": True})
            await c.call("input", {"data": f"hello {i}\n", "eof": True})
            await c.collect(run)
            return run.text()

        texts = await asyncio.gather(*(one(i, c)
                                       for i, c in enumerate(clients)))
        self.assertEqual(texts, [f"hello {i}\nstdin-eof\n"
                                 for i in range(20)])


if __name__ == "__main__":
    main()
