#!/usr/bin/python3
"""control (spec section 4): PAUSE and RESUME (SIGSTOP/SIGCONT to the group,
the clocks of timeout and idle_timeout stop meanwhile), CANCEL (SIGTERM,
cancel_grace_ms, SIGKILL to the group; always ends with process.completed
status "canceled"), lowercase types, output not stalled during the grace;
signals never reach another session's process that reused the group's
number."""

import asyncio
import re
import time
import unittest

from harness import (NoFrame, ServerTestCase, async_poll, async_wait_until,
                     fake_argv, fake_cmd, main, piece_bytes, proc_stat,
                     processes_in_group, wait_group_gone)

NS_LAST_PID = "/proc/sys/kernel/ns_last_pid"


def tick_numbers(frames):
    out = []
    for f in frames:
        if f.get("method") == "process.output":
            out += [int(n) for n in re.findall(r"tick (\d+)",
                                               f["params"]["data"])]
    return out


def group_states(pgid):
    return {p["pid"]: p["state"] for p in processes_in_group(pgid)}


class PauseResumeTest(ServerTestCase):
    server_args = ["--cancel-grace-ms", "500"]

    async def test_pause_and_resume(self):
        c = await self.connect()
        run = await c.start({"command": fake_cmd("--interval-ms", "50",
                                                   "--ticks", "400")})
        pid, pgid = run.started["pid"], run.started["pgid"]
        await c.collect_until(run, "process.output",
                              lambda p: p["data"] == "tick 3\n")

        resp = await c.request("control", {"type": "PAUSE"}, id="p")
        self.assertEqual(resp.get("result"), {"status": "paused"})
        paused = await c.collect_until(run, "process.paused")
        self.assertEventShape(paused["params"], "paused", pid, pgid)
        # The response comes before the event.
        self.assertLess(c.frames.index(resp), c.frames.index(paused))
        self.assertTrue(await async_wait_until(
            lambda: set(group_states(pgid).values()) == {"T"}, 2.0),
            f"group not stopped: {group_states(pgid)}")

        # While paused the child makes no progress: whatever was already in
        # the pipe drains first (the server has sent all it read), then
        # nothing comes for as long as we look (the window is the test).
        async def drained():
            read = (await c.call("status"))["process"]["bytes"]["stdout"]
            return read == sum(len(piece_bytes(f["params"])) for f in c.frames
                               if f.get("method") == "process.output")
        self.assertTrue(await async_poll(drained, 2.0),
                        "the server read output it did not send")
        quiet = await c.frames_during(0.5)
        self.assertEqual(tick_numbers(quiet), [],
                         "output arrived while the group was stopped")
        self.assertEqual(set(group_states(pgid).values()), {"T"})
        st = await c.call("status")
        self.assertIs(st["process"]["paused"], True)
        last = max(tick_numbers(c.frames))

        resp = await c.request("control", {"type": "RESUME"}, id="r")
        self.assertEqual(resp.get("result"), {"status": "resumed"})
        resumed = await c.collect_until(run, "process.resumed")
        self.assertEventShape(resumed["params"], "resumed", pid, pgid)
        await c.collect_until(run, "process.output",
                              lambda p: p["data"] == f"tick {last + 2}\n")
        self.assertNotIn("T", group_states(pgid).values())
        st = await c.call("status")
        self.assertIs(st["process"]["paused"], False)

        await c.call("control", {"type": "CANCEL"})
        await c.collect(run)
        self.assertEqual(run.completed["status"], "canceled")
        ticks = tick_numbers(run.events)
        self.assertEqual(ticks, list(range(1, len(ticks) + 1)),
                         "ticks lost or reordered across pause/resume")

    async def test_lowercase_types(self):
        c = await self.connect()
        run = await c.start({"command": fake_cmd("--sleep-ms", "20000")})
        self.assertEqual(await c.call("control", {"type": "pause"}),
                         {"status": "paused"})
        await c.collect_until(run, "process.paused")
        self.assertEqual(await c.call("control", {"type": "resume"}),
                         {"status": "resumed"})
        await c.collect_until(run, "process.resumed")
        self.assertEqual(await c.call("control", {"type": "cancel"}),
                         {"status": "canceled"})
        await c.collect_until(run, "process.canceled")
        await c.collect(run)
        self.assertEqual(run.completed["status"], "canceled")
        self.assertEqual(run.methods(), [
            "process.started", "process.paused", "process.resumed",
            "process.canceled", "process.completed"])

    async def test_timeout_clock_stops_while_paused(self):
        # 0.8 s of work, a 1.5 s timeout, paused 1.6 s in between: the
        # process must complete, not time out.
        c = await self.connect()
        run = await c.start({"command": fake_cmd("--interval-ms", "100",
                                                   "--ticks", "9"),
                             "timeout": 1.5})
        await c.collect_until(run, "process.output",
                              lambda p: p["data"] == "tick 1\n")
        await c.call("control", {"type": "PAUSE"})
        await c.collect_until(run, "process.paused")
        await asyncio.sleep(1.6)  # the point of the test: time passing
        await c.call("control", {"type": "RESUME"})
        await c.collect(run)
        self.assertCompleted(run)
        self.assertEqual(tick_numbers(run.events), list(range(1, 10)))

    async def test_idle_timeout_clock_stops_while_paused(self):
        c = await self.connect()
        run = await c.start({"command": fake_cmd("--interval-ms", "100",
                                                   "--ticks", "6"),
                             "idle_timeout": 1})
        await c.collect_until(run, "process.output",
                              lambda p: p["data"] == "tick 2\n")
        await c.call("control", {"type": "PAUSE"})
        await c.collect_until(run, "process.paused")
        await asyncio.sleep(1.5)  # longer than idle_timeout, while paused
        await c.call("control", {"type": "RESUME"})
        await c.collect(run)
        self.assertCompleted(run)


class CancelTest(ServerTestCase):
    server_args = ["--cancel-grace-ms", "500"]

    async def test_cancel_sigterm_ignoring_group_with_grandchildren(self):
        c = await self.connect()
        run = await c.start({"command": fake_cmd(
            "--ignore-term", "--grandchildren", 3, "--print-pid",
            "--sleep-ms", 60000)})
        pid, pgid = run.started["pid"], run.started["pgid"]
        grandchildren = []
        while len(grandchildren) < 3:
            f = await c.collect_until(run, "process.output")
            grandchildren += [int(n) for n in re.findall(
                r"grandchild (\d+)", f["params"]["data"])]
        members = {p["pid"] for p in processes_in_group(pgid)}
        self.assertTrue({pid, *grandchildren} <= members,
                        f"group {pgid}: {members}")

        t0 = time.monotonic()
        resp = await c.request("control", {"type": "CANCEL"})
        self.assertEqual(resp.get("result"), {"status": "canceled"})
        canceled = await c.collect_until(run, "process.canceled")
        self.assertEventShape(canceled["params"], "canceled", pid, pgid)
        # SIGTERM is ignored by everyone: they are all alive during the grace.
        self.assertTrue(all(proc_stat(p) for p in [pid, *grandchildren]))
        await c.collect(run)
        elapsed = time.monotonic() - t0
        done = run.completed
        self.assertEqual(done["status"], "canceled", done)
        self.assertEqual(done["signal"], 9, done)
        self.assertEqual(done["exit_code"], -9, done)
        self.assertGreaterEqual(elapsed, 0.4, "grace period not honoured")
        self.assertLess(elapsed, 5.0)
        self.assertEqual(run.methods()[-1], "process.completed")
        # Completed only once the group was killed: nothing of it is left.
        self.assertNoGroup(await wait_group_gone(pgid, 2.0), pgid)
        # The direct child was reaped by the server.
        self.assertTrue(await async_wait_until(
            lambda: proc_stat(pid) is None, 2.0), "child not reaped")

    async def test_output_not_stalled_during_grace(self):
        c = await self.connect()
        run = await c.start({"command": fake_cmd(
            "--ignore-term", "--interval-ms", "20", "--ticks", "100000")})
        await c.collect_until(run, "process.output",
                              lambda p: p["data"] == "tick 2\n")
        await c.send(c.message("control", {"type": "CANCEL"}, id="cancel"))
        await c.send(c.message("ping", id="ping-during-grace"))
        await c.response("cancel")
        ping = await c.response("ping-during-grace")
        self.assertTrue(ping["result"]["pong"])
        i_canceled = c.frames.index(
            await c.collect_until(run, "process.canceled"))
        await c.collect(run)
        i_completed = c.frames.index(
            next(f for f in run.events if f["method"] == "process.completed"))
        ticks_in_grace = tick_numbers(c.frames[i_canceled:i_completed])
        self.assertGreater(len(ticks_in_grace), 3,
                           "output stalled during the cancel grace period")
        self.assertLess(c.frames.index(ping), i_completed,
                        "ping answered only after the grace period")
        self.assertEqual(run.completed["status"], "canceled")

    async def test_cancel_while_paused(self):
        c = await self.connect()
        run = await c.start({"command": fake_cmd("--sleep-ms", "60000")})
        pgid = run.started["pgid"]
        await c.call("control", {"type": "PAUSE"})
        await c.collect_until(run, "process.paused")
        await c.call("control", {"type": "CANCEL"})
        await c.collect(run, timeout=10)
        self.assertEqual(run.completed["status"], "canceled")
        self.assertNoGroup(await wait_group_gone(pgid, 2.0), pgid)

    async def test_control_after_completion(self):
        c = await self.connect()
        await c.run({"command": "true"})
        err = await c.call_error("control", {"type": "CANCEL"}, code=-32002)
        self.assertIsInstance(err.get("message"), str)


class CooperativeCancelTest(ServerTestCase):
    # A long grace that a child dying on SIGTERM must never wait for.
    server_args = ["--cancel-grace-ms", "5000"]

    async def test_cancel_child_that_obeys_sigterm(self):
        c = await self.connect()
        run = await c.start({"command": fake_cmd("--sleep-ms", "60000")})
        t0 = time.monotonic()
        await c.call("control", {"type": "CANCEL"})
        await c.collect(run)
        done = run.completed
        self.assertEqual(done["status"], "canceled", done)
        self.assertEqual(done["signal"], 15, done)
        self.assertEqual(done["exit_code"], -15, done)
        self.assertLess(time.monotonic() - t0, 3.0)
        self.assertNoGroup(await wait_group_gone(run.started["pgid"], 2.0),
                           run.started["pgid"])

    async def test_new_execute_after_cancel(self):
        c = await self.connect()
        run = await c.start({"command": fake_cmd("--sleep-ms", "60000")})
        await c.call("control", {"type": "CANCEL"})
        await c.collect(run)
        run = await c.run({"command": "echo next"})
        self.assertEqual(run.text(), "next\n")


def set_last_pid(pid):
    """The next pid the kernel hands out will be `pid` + 1 (unless someone
    else takes it first). Needs CAP_SYS_ADMIN over the pid namespace."""
    with open(NS_LAST_PID, "w") as f:
        f.write(str(pid))


def last_pid_settable():
    try:
        with open(NS_LAST_PID) as f:
            set_last_pid(int(f.read()))
        return True
    except OSError:
        return False


class PidReuseTest(ServerTestCase):
    """A group whose leader exited while something that escaped it (a new
    session of its own) still holds the pipes: the process still runs for
    its session, so PAUSE and CANCEL still signal the group. Its number must
    stay ours until then, or those signals reach whoever got the number
    next: here another session's process, steered onto it through
    ns_last_pid."""
    server_args = ["--cancel-grace-ms", "200"]

    async def echoes(self, client, run, text, what):
        """`run` (fake_child --echo-stdin) is alive and not stopped: it
        echoes `text`."""
        await client.call("input", {"data": text})
        try:
            await client.collect_until(run, "process.output",
                                       lambda p: p["data"] == text, timeout=10)
        except NoFrame:
            self.fail(f"{what}: the other session's process "
                      f"{run.started['pid']} stopped echoing, state "
                      f"{proc_stat(run.started['pid'])}")

    async def start_on_number(self, client, number, server_pid):
        """Starts an echoing process in `client`'s session with the kernel
        steered to give it pid `number`; tries again when something else
        took the number first, unless the number is held by the server's
        unreaped child (then nobody can get it)."""
        for _ in range(20):
            set_last_pid(number - 1)
            run = await client.start({"argv": fake_argv("--echo-stdin"),
                                      "stdin": True})
            self.extra_pgids.add(run.started["pid"])
            st = proc_stat(number)
            reserved = (st is not None and st["state"] == "Z"
                        and st["ppid"] == server_pid)
            if run.started["pid"] == number or reserved:
                return run
            await client.call("input", {"data": "", "eof": True})
            await client.collect(run)
        self.fail(f"pid {number} was taken by others 20 times")

    async def test_signals_never_reach_a_process_that_reused_the_number(self):
        if not last_pid_settable():
            self.skipTest(f"{NS_LAST_PID} is not writable here (needs "
                          "CAP_SYS_ADMIN over the pid namespace)")
        a = await self.connect()
        b = await self.connect()
        # The shell exits at once; the escaped sleep keeps A's pipes open,
        # so A's process still runs.
        run_a = await a.start({"command": "setsid sleep 30 & echo $!; exit 0"})
        line = await a.collect_until(run_a, "process.output")
        escaped = int(line["params"]["data"].split()[0])
        self.extra_pgids.add(escaped)  # its own group, since setsid
        pid_a = run_a.started["pid"]
        self.assertTrue(await async_wait_until(
            lambda: proc_stat(pid_a) is None
            or proc_stat(pid_a)["state"] == "Z", 10),
            f"A's shell did not exit: {proc_stat(pid_a)}")

        run_b = await self.start_on_number(b, pid_a, self.server.pid)
        pid_b = run_b.started["pid"]
        await self.echoes(b, run_b, "before\n", "before any signal")

        await a.call("control", {"type": "PAUSE"})
        await self.echoes(b, run_b, "after-pause\n", "A's PAUSE")
        self.assertNotEqual(proc_stat(pid_b)["state"], "T")

        # SIGTERM, then SIGKILL after the grace, then the pipes are closed
        # (the escaped sleep holds them): A completes only after all that.
        await a.call("control", {"type": "CANCEL"})
        await a.collect(run_a)
        self.assertEqual(run_a.completed["status"], "canceled")
        await self.echoes(b, run_b, "after-cancel\n", "A's CANCEL")
        self.assertNotEqual(pid_b, pid_a,
                            "B got A's group number while A was running")

        await b.call("input", {"data": "", "eof": True})
        await b.collect(run_b)
        self.assertCompleted(run_b)


if __name__ == "__main__":
    main()
