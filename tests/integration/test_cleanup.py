#!/usr/bin/python3
"""Ending sessions (spec section 3): a clean close terminates the whole
process group (SIGTERM, grace, SIGKILL) and reaps it within seconds; a
connection loss detaches the session and its process keeps running until the
linger time expires; a server shutdown announces itself and leaves no process
behind; nothing leaks (zombies, descriptors, sessions)."""

import asyncio
import json
import re
import time
import unittest

from harness import (RawWebSocket, ServerTestCase, async_wait_until,
                     children_of, fake_cmd, fd_count, main, pid_alive,
                     processes_in_group, wait_group_gone)

STUBBORN = ("--ignore-term", "--grandchildren", 3, "--print-pid",
            "--sleep-ms", 60000)


async def start_stubborn(c):
    """A SIGTERM-ignoring child with 3 SIGTERM-ignoring grandchildren holding
    its pipes; returns (run, pgid, [all pids]) once all of them printed."""
    run = await c.start({"command": fake_cmd(*STUBBORN)})
    pids = [run.started["pid"]]
    while len(pids) < 4:
        f = await c.collect_until(run, "process.output")
        pids += [int(n) for n in re.findall(r"grandchild (\d+)",
                                            f["params"]["data"])]
    return run, run.started["pgid"], pids


class CleanCloseTest(ServerTestCase):
    server_args = ["--close-grace-ms", "300"]

    async def test_clean_close_kills_whole_group(self):
        c = await self.connect()
        run, pgid, pids = await start_stubborn(c)
        self.assertEqual(len(processes_in_group(pgid)), 4)
        t0 = time.monotonic()
        await c.close()
        self.assertEqual(c.ws.close_code, 1000)
        self.assertNoGroup(await wait_group_gone(pgid, 5.0), pgid)
        self.assertLess(time.monotonic() - t0, 5.0)
        for pid in pids:
            self.assertFalse(pid_alive(pid), pid)

    async def test_clean_close_cooperative_child(self):
        c = await self.connect()
        run = await c.start({"command": fake_cmd("--sleep-ms", 60000)})
        pgid = run.started["pgid"]
        await c.close()
        self.assertNoGroup(await wait_group_gone(pgid, 5.0), pgid)

    async def test_clean_close_of_paused_group(self):
        c = await self.connect()
        run, pgid, pids = await start_stubborn(c)
        await c.call("control", {"type": "PAUSE"})
        await c.collect_until(run, "process.paused")
        await c.close()
        self.assertNoGroup(await wait_group_gone(pgid, 5.0), pgid)

    async def test_clean_close_of_shell_with_background_job(self):
        c = await self.connect()
        run = await c.start({"command": "sleep 60 & sleep 60 & echo up; wait"})
        pgid = run.started["pgid"]
        await c.collect_until(run, "process.output",
                              lambda p: p["data"] == "up\n")
        await c.close()
        self.assertNoGroup(await wait_group_gone(pgid, 5.0), pgid)

    async def test_many_sessions_closed_at_once(self):
        clients = [await self.connect() for _ in range(20)]
        runs = await asyncio.gather(*(
            c.start({"command": fake_cmd("--ignore-term", "--sleep-ms", 60000)})
            for c in clients))
        pgids = [r.started["pgid"] for r in runs]
        await asyncio.gather(*(c.close() for c in clients))
        for pgid in pgids:
            self.assertNoGroup(await wait_group_gone(pgid, 5.0), pgid)
        self.assertTrue(await async_wait_until(
            lambda: self.server.http_json("/health")[1]["active_sessions"] == 0,
            5.0), "sessions not freed after clean closes")


class ConnectionLossTest(ServerTestCase):
    server_args = ["--close-grace-ms", "300", "--session-linger-ms", "1500"]

    async def test_connection_loss_detaches_then_expires(self):
        c = await self.connect()
        # This child dies at once on SIGTERM: if the loss were treated like a
        # clean close, it would be gone within the 300 ms grace.
        run = await c.start({"command": fake_cmd("--sleep-ms", 60000)})
        pgid = run.started["pgid"]
        t0 = time.monotonic()
        c.abort()
        # The server notices the loss and detaches the session, process and
        # all. Treated like a clean close, the group would be gone 300 ms
        # later: the expiry's time below tells the two apart.
        self.assertTrue(await async_wait_until(
            lambda: self.server.http_json("/health")[1]["detached_sessions"]
            == 1, 5.0), "the session did not detach")
        self.assertTrue(processes_in_group(pgid),
                        "process killed on connection loss (no Close frame)")
        # Expiry after session_linger_ms terminates the group.
        self.assertNoGroup(await wait_group_gone(pgid, 8.0), pgid)
        self.assertGreaterEqual(time.monotonic() - t0, 1.2,
                                "session expired before session_linger_ms")

    async def test_half_open_via_heartbeat_timeout(self):
        # A peer that vanishes without FIN or RST is only noticed by the
        # heartbeat; here a raw client stops answering pings.
        srv = self.start_server("--heartbeat-interval-ms", "200",
                                "--session-linger-ms", "1500",
                                "--close-grace-ms", "300")
        raw = await RawWebSocket.open(srv.host, srv.port)
        try:
            await raw.recv_frame()  # connected
            raw.send_frame(1, '{"jsonrpc":"2.0","id":1,"method":"execute",'
                              '"params":{"command":%s}}'
                           % json.dumps(
                               fake_cmd("--sleep-ms", 60000)))
            frame = await raw.recv_until(
                lambda f: f[1] == 1 and b'"result"' in f[2])
            pgid = json.loads(frame[2])["result"]["pgid"]
            self.extra_pgids.add(pgid)
            # Never answer pings: dropped after ~2 intervals, then expiry.
            self.assertTrue(await raw.wait_eof(10), "never dropped")
            self.assertNoGroup(await wait_group_gone(pgid, 8.0), pgid)
        finally:
            raw.abort()


class ShutdownTest(ServerTestCase):
    server_args = ["--close-grace-ms", "300", "--shutdown-grace-ms", "1000"]

    async def test_sigterm_drains_and_kills_groups(self):
        c = await self.connect()
        run, pgid, pids = await start_stubborn(c)
        self.server.terminate()
        note = await c.wait_method("server.shutdown", timeout=10)
        self.assertIsInstance(note["params"].get("grace_ms"), int)
        (code, reason), _ = await c.wait_closed(20)
        self.assertEqual(code, 1001)
        self.assertIsNotNone(self.server.wait_exit(15),
                             "server did not exit after SIGTERM")
        self.assertNoGroup(await wait_group_gone(pgid, 5.0), pgid)

    async def test_sigterm_with_obedient_and_stubborn_children_exits_0(self):
        obedient = await self.connect()
        run_o = await obedient.start({"command": "sleep 60"})
        stubborn = await self.connect()
        run_s, pgid_s, _ = await start_stubborn(stubborn)
        self.server.terminate()
        for c in (obedient, stubborn):
            note = await c.wait_method("server.shutdown", timeout=10)
            self.assertIsInstance(note["params"].get("grace_ms"), int)
            (code, _), _ = await c.wait_closed(20)
            self.assertEqual(code, 1001)
        self.assertEqual(self.server.wait_exit(15), 0)
        self.assertNoGroup(await wait_group_gone(run_o.started["pgid"], 5.0),
                           run_o.started["pgid"])
        self.assertNoGroup(await wait_group_gone(pgid_s, 5.0), pgid_s)

    async def test_sigterm_idle_server_exits_promptly(self):
        c = await self.connect()
        t0 = time.monotonic()
        self.server.terminate()
        (code, _), _ = await c.wait_closed(20)
        self.assertEqual(code, 1001)
        self.assertIsNotNone(self.server.wait_exit(10))
        self.assertLess(time.monotonic() - t0, 10)


class LeakTest(ServerTestCase):
    async def test_no_zombies_or_descriptor_leaks(self):
        c = await self.connect()
        # Warm up: the server may create descriptors lazily (threads, event
        # fds) during its first processes; a leak grows without bound.
        for _ in range(20):
            await c.run({"command": "echo warm-up; echo warm-up >&2"})
        baseline = fd_count(self.server.pid)
        for i in range(20):
            run = await c.run({"command": f"echo {i}; echo {i} >&2"})
            self.assertEqual(run.text(), f"{i}\n")
        self.assertTrue(await async_wait_until(
            lambda: fd_count(self.server.pid) <= baseline + 2, 3.0),
            f"descriptors: {baseline} before, {fd_count(self.server.pid)} "
            f"after 20 processes")
        self.assertTrue(await async_wait_until(
            lambda: not children_of(self.server.pid), 3.0),
            f"children of the server left: {children_of(self.server.pid)}")

    async def test_reaped_after_stdin_process(self):
        c = await self.connect()
        for _ in range(5):
            run = await c.start({"command": fake_cmd("--echo-stdin"),
                                 "stdin": True})
            await c.call("input", {"data": "x\n", "eof": True})
            await c.collect(run)
        self.assertTrue(await async_wait_until(
            lambda: not children_of(self.server.pid), 3.0),
            f"children of the server left: {children_of(self.server.pid)}")


if __name__ == "__main__":
    main()
