#!/usr/bin/python3
"""Session state (spec sections 3 and 4): the status method's shape, ack,
detach, resume after a detach or a connection loss (replay of every retained
event with seq > last_seq, in order, then live events), a resume taking over
an attached session (close 4001), refused resumes (-32010) that change
nothing, expiry after session_linger_ms."""

import re
import time
import unittest
import uuid

from harness import (NO_ID, ProcessRun, ServerTestCase, async_wait_until,
                     fake_cmd, main, pid_alive, wait_group_gone)


def ticks(events):
    out = []
    for f in events:
        if f.get("method") == "process.output":
            out += [int(n) for n in re.findall(r"tick (\d+)",
                                               f["params"]["data"])]
    return out


class StatusAckTest(ServerTestCase):
    async def test_status_shape_while_running(self):
        c = await self.connect()
        run = await c.start({"command": fake_cmd("--text", "hello",
                                                   "--stderr-lines", 2,
                                                   "--sleep-ms", 20000)})
        while len(run.outputs()) < 3:
            await c.collect_until(run, "process.output")
        st = await c.call("status")
        self.assertEqual(st["session_id"], c.session_id)
        self.assertEqual(st["state"], "attached")
        self.assertEqual(st["last_seq"], c.last_seq)
        self.assertIsInstance(st["acked_seq"], int)
        p = st["process"]
        self.assertIsInstance(p, dict)
        self.assertIsInstance(p["state"], str)
        self.assertEqual(p["pid"], run.started["pid"])
        self.assertEqual(p["pgid"], run.started["pgid"])
        self.assertIsNone(p["exit_code"])
        self.assertIsNone(p["signal"])
        self.assertIn("started_at", p)
        self.assertIsNotNone(p["started_at"])
        self.assertEqual(p["bytes"], {"stdout": 6, "stderr": 22})
        self.assertEqual(p["dropped_bytes"], 0)
        self.assertIs(p["paused"], False)
        await c.call("control", {"type": "CANCEL"})
        await c.collect(run)

    async def test_ack_without_id_gets_no_response(self):
        c = await self.connect()
        run = await c.run({"command": "echo a; echo b"})
        last = run.completed["seq"]
        await c.send(c.message("ack", {"seq": last}, id=NO_ID))
        await c.send(c.message("ping", id="after-ack"))
        f = await c.wait_for(lambda f: "result" in f or "error" in f)
        self.assertEqual(f.get("id"), "after-ack", f)
        st = await c.call("status")
        self.assertEqual(st["acked_seq"], last)
        self.assertEqual(st["last_seq"], last)

    async def test_detach_response(self):
        c = await self.connect()
        self.assertEqual(await c.call("detach"), {"status": "detached"})


class ResumeTest(ServerTestCase):
    server_args = ["--close-grace-ms", "300"]

    async def resume(self, client, session_id, token, last_seq=None):
        params = {"session_id": session_id, "resume_token": token}
        if last_seq is not None:
            params["last_seq"] = last_seq
        client.last_seq = last_seq or 0  # replayed seqs continue from here
        resp = await client.request("resume", params)
        self.assertIn("result", resp, resp)
        res = resp["result"]
        self.assertEqual(res.get("status"), "resumed", res)
        self.assertEqual(res.get("session_id"), session_id, res)
        self.assertIsInstance(res.get("last_seq"), int, res)
        self.assertIn("process", res)
        return resp

    async def start_ticking(self, c, n=100):
        run = await c.start({"command": fake_cmd("--interval-ms", 20,
                                                   "--ticks", n)})
        await c.collect_until(run, "process.output",
                              lambda p: p["data"] == "tick 5\n")
        return run

    async def check_resumed_stream(self, b, resp, before, n):
        """`before`: events processed before the resume. The rest must come
        after the response, from seq last+1 on, ending in completion."""
        rest = ProcessRun()
        await b.collect(rest)
        i_resp = b.frames.index(resp)
        self.assertTrue(all(b.frames.index(f) > i_resp for f in rest.events),
                        "replayed events came before the resume response")
        processed = before[-1]["params"]["seq"]
        self.assertEqual(rest.events[0]["params"]["seq"], processed + 1)
        self.assertEqual(ticks(before) + ticks(rest.events),
                         list(range(1, n + 1)), "ticks lost or duplicated")
        self.assertEqual(rest.completed["status"], "completed")
        return rest

    async def test_detach_then_resume(self):
        a = await self.connect()
        sid, token = a.session_id, a.connected["resume_token"]
        run = await self.start_ticking(a)
        self.assertEqual(await a.call("detach"), {"status": "detached"})
        processed = run.events[-1]["params"]["seq"]
        await a.close()
        # The process survived the (announced) close.
        self.assertTrue(pid_alive(run.started["pid"]))
        b = await self.connect()
        self.assertNotEqual(b.session_id, sid)
        resp = await self.resume(b, sid, token, processed)
        await self.check_resumed_stream(b, resp, run.events, 100)
        st = await b.call("status")
        self.assertEqual(st["session_id"], sid)
        self.assertEqual(st["state"], "attached")

    async def test_connection_loss_then_resume(self):
        a = await self.connect()
        sid, token = a.session_id, a.connected["resume_token"]
        run = await self.start_ticking(a)
        processed = run.events[-1]["params"]["seq"]
        a.abort()
        b = await self.connect()
        resp = await self.resume(b, sid, token, processed)
        await self.check_resumed_stream(b, resp, run.events, 100)

    async def test_resume_replays_everything_from_start(self):
        # The process completes while nobody is attached; a resume without
        # last_seq (default 0) replays every event, started included.
        a = await self.connect()
        sid, token = a.session_id, a.connected["resume_token"]
        run = await a.start({"command": fake_cmd("--sleep-ms", 300,
                                                   "--text", "x", "--text", "y")})
        a.abort()
        self.assertTrue(await async_wait_until(
            lambda: not pid_alive(run.started["pid"]), 10.0))
        b = await self.connect()
        await self.resume(b, sid, token)
        replay = await b.collect(ProcessRun())
        self.assertEqual(replay.methods(), ["process.started", "process.output",
                                            "process.output",
                                            "process.completed"])
        self.assertEqual(replay.events[0]["params"]["seq"], 1)
        self.assertEqual(replay.text(), "x\ny\n")

    async def test_resume_takes_over_attached_session(self):
        a = await self.connect()
        sid, token = a.session_id, a.connected["resume_token"]
        run = await self.start_ticking(a)
        processed = run.events[-1]["params"]["seq"]
        b = await self.connect()
        resp = await self.resume(b, sid, token, processed)
        (code, _), _ = await a.wait_closed()
        self.assertEqual(code, 4001)
        await self.check_resumed_stream(b, resp, run.events, 100)

    async def test_refused_resume_changes_nothing(self):
        a = await self.connect()
        sid = a.session_id
        run = await self.start_ticking(a, 50)
        b = await self.connect()
        for params in (
                {"session_id": sid, "resume_token": "wrong-token"},
                {"session_id": sid, "resume_token": a.connected[
                    "resume_token"][:-1] + "x"},
                {"session_id": str(uuid.uuid4()),
                 "resume_token": a.connected["resume_token"]},
                {"session_id": b.session_id, "resume_token": "nope"}):
            await b.call_error("resume", params, code=-32010)
        # a still owns its session and its process; b still has its own.
        await a.collect(run)
        self.assertEqual(ticks(run.events), list(range(1, 51)))
        self.assertTrue((await a.call("ping"))["pong"])
        self.assertEqual((await a.call("status"))["session_id"], sid)
        self.assertEqual((await b.call("status"))["session_id"], b.session_id)
        run_b = await b.run({"command": "echo own"})
        self.assertEqual(run_b.text(), "own\n")
        self.assertEqual(run_b.started["seq"], 1)


class ExpiryTest(ServerTestCase):
    server_args = ["--close-grace-ms", "300", "--session-linger-ms", "500"]

    async def test_expired_session_cannot_be_resumed(self):
        a = await self.connect()
        sid, token = a.session_id, a.connected["resume_token"]
        run = await a.start({"command": fake_cmd("--sleep-ms", 60000)})
        pgid = run.started["pgid"]
        a.abort()
        self.assertNoGroup(await wait_group_gone(pgid, 8.0), pgid)
        b = await self.connect()
        await b.call_error("resume", {"session_id": sid,
                                      "resume_token": token}, code=-32010)
        self.assertTrue((await b.call("ping"))["pong"])


if __name__ == "__main__":
    main()
