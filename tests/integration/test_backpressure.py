"""Backpressure (issue: bounded memory whatever the output rate).

A child floods 200 MB while its client reads nothing: the server's peak
resident memory (VmHWM) stays within 64 MiB of its idle value, the child is
seen blocked in write(2) (its write progress stops), and afterwards the client
receives all 200 MB byte-exact and in order. With on_overflow "drop_oldest"
the memory bound holds too, the child never blocks, and the bytes received
plus the bytes reported dropped by stream.gap equal what the child wrote.
A client that acks keeps the session's retention within its bound.
"""

import asyncio
import time
import unittest

from harness import (NO_ID, ServerTestCase, fake_cmd, flood_bytes,
                     async_wait_until)

FLOOD = 200 * 1024 * 1024
MEMORY_BOUND_KIB = 64 * 1024


def vm_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def written_bytes(pid):
    """Bytes the process has written so far (/proc/PID/io), None if gone."""
    try:
        with open(f"/proc/{pid}/io") as f:
            for line in f:
                if line.startswith("wchar:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


async def wait_write_progress_stops(pid, timeout=30.0, still=1.0):
    """True once the child's written byte count stayed the same for `still`
    seconds (it is blocked in write(2)); False if it never did in time."""
    deadline = time.monotonic() + timeout
    last, since = written_bytes(pid), time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        now = written_bytes(pid)
        if now is None:
            return False  # it finished: it was never blocked
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= still:
            return True
    return False


class BlockTest(ServerTestCase):
    async def test_stalled_client_bounds_memory_and_blocks_the_child(self):
        # max_queue=1: the client library reads (almost) nothing on its own.
        c = await self.connect(max_queue=1)
        await c.call("ping")
        idle_hwm = vm_kib(self.server.pid, "VmHWM")
        run = await c.start({"command": fake_cmd("--flood", FLOOD),
                             "framing": "chunks"})
        pid = run.started["pid"]
        blocked = await wait_write_progress_stops(pid)
        self.assertTrue(blocked, "the child kept writing while nobody read")
        self.assertLess(written_bytes(pid), FLOOD)
        growth = vm_kib(self.server.pid, "VmHWM") - idle_hwm
        self.assertMemoryGrowth(growth, MEMORY_BOUND_KIB)
        await c.collect(run, timeout=60)
        self.assertCompleted(run)
        self.assertEqual(run.output(), flood_bytes(FLOOD))
        growth = vm_kib(self.server.pid, "VmHWM") - idle_hwm
        self.assertMemoryGrowth(growth, MEMORY_BOUND_KIB)


class DropOldestTest(ServerTestCase):
    async def test_child_never_blocks_and_gaps_account_for_every_byte(self):
        c = await self.connect(max_queue=1)
        await c.call("ping")
        idle_hwm = vm_kib(self.server.pid, "VmHWM")
        run = await c.start({"command": fake_cmd("--flood", FLOOD),
                             "framing": "chunks",
                             "on_overflow": "drop_oldest"})
        pid = run.started["pid"]
        # The child writes everything although nobody reads.
        finished = await async_wait_until(
            lambda: (written_bytes(pid) or FLOOD) >= FLOOD, 60)
        self.assertTrue(finished, "the child blocked under drop_oldest")
        growth = vm_kib(self.server.pid, "VmHWM") - idle_hwm
        self.assertMemoryGrowth(growth, MEMORY_BOUND_KIB)
        await c.collect(run, timeout=60)
        self.assertCompleted(run)
        received = len(run.output())
        dropped = sum(g["dropped_bytes"] for g in run.gaps())
        self.assertTrue(run.gaps(), "nothing was dropped")
        self.assertEqual(received + dropped, FLOOD)


class AckTest(ServerTestCase):
    server_args = ["--max-buffer-bytes", "262144"]

    async def test_acks_keep_retention_within_its_bound(self):
        c = await self.connect()
        n = 16 * 1024 * 1024
        run = await c.start({"command": fake_cmd("--flood", n),
                             "framing": "chunks"})
        max_seen = 0
        frames = 0
        while run.completed is None:
            f = await c.wait_for(lambda f: f.get("method", "").startswith(
                "process."), 30, "a process event")
            run.add(f)
            frames += 1
            # Ack well within the bound (four 64 KiB frames fill it).
            if frames % 2 == 0:
                await c.send(c.message("ack", {"seq": c.last_seq}, id=NO_ID))
                status = await c.call("status")
                max_seen = max(max_seen, status["buffered_bytes"])
                self.assertLessEqual(status["buffered_bytes"], 262144)
                self.assertGreaterEqual(status["acked_seq"], 1)
        self.assertCompleted(run)
        self.assertEqual(run.output(), flood_bytes(n))
        self.assertGreater(max_seen, 0)


if __name__ == "__main__":
    unittest.main()
