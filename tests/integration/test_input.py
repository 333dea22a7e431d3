#!/usr/bin/python3
"""input (spec section 4): writes to the child's stdin pipe when execute had
stdin:true, {"written":N} once the bytes are in the pipe, utf8 and base64
encodings, eof closing stdin, -32005 without a stdin pipe or after eof,
-32002 without a process, large inputs; -32006 once the input waiting for
a child that does not read reaches --max-pending-input-bytes."""

import base64
import unittest

from harness import (SANITIZED, NoFrame, ServerTestCase, async_wait_until,
                     fake_cmd, main, numbered_lines, piece_bytes, proc_stat,
                     rss_kib)

# The default of --max-pending-input-bytes.
PENDING_LIMIT = 2 * 1024 * 1024


class InputTest(ServerTestCase):
    async def echo_process(self, c):
        return await c.start({"command": fake_cmd("--echo-stdin"),
                              "stdin": True})

    async def test_echo_round_trip_and_eof(self):
        c = await self.connect()
        run = await self.echo_process(c)
        self.assertEqual(await c.call("input", {"data": "hello\n"}),
                         {"written": 6})
        await c.collect_until(run, "process.output",
                              lambda p: p["data"] == "hello\n")
        self.assertEqual(await c.call("input", {"data": "bye\n", "eof": True}),
                         {"written": 4})
        await c.collect(run)
        self.assertCompleted(run)
        self.assertEqual(run.text(), "hello\nbye\nstdin-eof\n")

    async def test_written_counts_bytes_not_characters(self):
        c = await self.connect()
        run = await self.echo_process(c)
        text = "h\u00e9llo \u2603 \U0001F600\n"
        self.assertEqual(await c.call("input", {"data": text,
                                                "encoding": "utf8"}),
                         {"written": len(text.encode())})
        await c.call("input", {"data": "", "eof": True})
        await c.collect(run)
        self.assertEqual(run.text(), text + "stdin-eof\n")

    async def test_base64_input_round_trips_bytes(self):
        c = await self.connect()
        run = await self.echo_process(c)
        raw = b"\x00\xff\xfe binary \xc3\x28\n"
        res = await c.call("input", {"data": base64.b64encode(raw).decode(),
                                     "encoding": "base64", "eof": True})
        self.assertEqual(res, {"written": len(raw)})
        await c.collect(run)
        self.assertEqual(run.output(), raw + b"stdin-eof\n")

    async def test_eof_alone(self):
        c = await self.connect()
        run = await self.echo_process(c)
        self.assertEqual(await c.call("input", {"data": "", "eof": True}),
                         {"written": 0})
        await c.collect(run)
        self.assertEqual(run.text(), "stdin-eof\n")
        self.assertCompleted(run)

    async def test_input_after_eof_is_refused(self):
        c = await self.connect()
        run = await c.start({"command": fake_cmd("--echo-stdin",
                                                   "--sleep-ms", "20000"),
                             "stdin": True})
        await c.call("input", {"data": "x\n", "eof": True})
        await c.collect_until(run, "process.output",
                              lambda p: p["data"] == "stdin-eof\n")
        await c.call_error("input", {"data": "more\n"}, code=-32005)
        await c.call("control", {"type": "CANCEL"})
        await c.collect(run)

    async def test_input_without_stdin_pipe(self):
        c = await self.connect()
        run = await c.start({"command": fake_cmd("--sleep-ms", "20000")})
        err = await c.call_error("input", {"data": "x"}, code=-32005)
        self.assertIsInstance(err.get("message"), str)
        await c.call("control", {"type": "CANCEL"})
        await c.collect(run)

    async def test_input_without_process(self):
        c = await self.connect()
        await c.call_error("input", {"data": "x"}, code=-32002)
        await c.run({"command": "true"})
        await c.call_error("input", {"data": "x"}, code=-32002)

    async def test_invalid_input_params(self):
        c = await self.connect()
        run = await self.echo_process(c)
        await c.call_error("input", {"data": "%%% not base64",
                                     "encoding": "base64"}, code=-32602)
        await c.call_error("input", {"data": 12}, code=-32602)
        await c.call_error("input", {"data": "x", "encoding": "latin1"},
                           code=-32602)
        # The pipe still works after the refusals.
        await c.call("input", {"data": "ok\n", "eof": True})
        await c.collect(run)
        self.assertEqual(run.text(), "ok\nstdin-eof\n")

    async def test_one_mebibyte_of_input(self):
        # The child echoes as it reads, so input and output flow at once;
        # each {"written"} response paces the next write.
        c = await self.connect()
        run = await self.echo_process(c)
        lines = numbered_lines(10486)  # ~1 MiB
        data = b"".join(lines)
        step = 64 * 1024
        total = 0
        for off in range(0, len(data), step):
            piece = data[off:off + step].decode()
            res = await c.call("input", {"data": piece})
            total += res["written"]
        self.assertEqual(total, len(data))
        await c.call("input", {"data": "", "eof": True})
        await c.collect(run)
        self.assertEqual(run.output(), data + b"stdin-eof\n")
        self.assertEqual(run.lines(), lines + [b"stdin-eof\n"])

    async def test_stdin_false_explicitly(self):
        c = await self.connect()
        run = await c.run({"command": fake_cmd("--echo-stdin"),
                           "stdin": False})
        self.assertEqual(run.text(), "stdin-eof\n")


class PendingInputTest(ServerTestCase):
    """Input the child has not read yet waits in the server: it is bounded
    per process, and what does not fit is refused at once (-32006)."""
    # Hundreds of requests at once: the rate limit would refuse most of them
    # before they reach the bound.
    server_args = ["--rate-limit-rps", "0"]

    def assertBusy(self, resp, pending):
        self.assertIn("error", resp)
        self.assertEqual(resp["error"], {
            "code": -32006,
            "message": f"stdin busy: {pending} bytes pending "
                       f"(limit {PENDING_LIMIT})",
            "data": {"pending_bytes": pending, "limit": PENDING_LIMIT}})

    async def test_input_a_child_never_reads_is_bounded(self):
        c = await self.connect()
        run = await c.start({"argv": ["sleep", "60"], "stdin": True})
        before = rss_kib(self.server.pid)
        data = "x" * 1_000_000  # one frame holds up to 1 MiB
        count = 300
        for i in range(count):
            await c.send(c.message("input", {"data": data}, id=f"in-{i}"))
        # Two fit under the limit and wait for the child; the rest are
        # refused at once, without waiting for them.
        for _ in range(count - 2):
            try:
                resp = await c.wait_for(
                    lambda f: str(f.get("id")).startswith("in-")
                    and ("error" in f or "result" in f),
                    what="an input response")
            except NoFrame:
                self.fail(f"input not refused; server memory grew by "
                          f"{rss_kib(self.server.pid) - before} KiB")
            self.assertBusy(resp, 2_000_000)
        # What was refused is not kept: the server's memory returns to about
        # what it was (jemalloc gives freed pages back after 1 s).
        bound = 64 * 1024
        if not SANITIZED:
            await async_wait_until(
                lambda: rss_kib(self.server.pid) - before < bound, 10)
        self.assertMemoryGrowth(rss_kib(self.server.pid) - before, bound)
        # The two accepted ones are answered when the child dies.
        await c.call("control", {"type": "CANCEL"})
        await c.collect(run)
        for i in range(2):
            resp = await c.response(f"in-{i}")
            self.assertEqual(resp["error"]["code"], -32005, resp)

    async def test_refused_input_fits_once_earlier_input_was_written(self):
        c = await self.connect()
        run = await c.start({"command": "cat >/dev/null", "stdin": True})
        pid = run.started["pid"]
        # A stopped child reads nothing: the input waits for it.
        await c.call("control", {"type": "PAUSE"})
        self.assertTrue(await async_wait_until(
            lambda: proc_stat(pid)["state"] == "T", 5))
        data = "y" * 1_000_000
        for i in range(2):
            await c.send(c.message("input", {"data": data}, id=f"in-{i}"))
        self.assertBusy(await c.request("input", {"data": data}), 2_000_000)
        await c.call("control", {"type": "RESUME"})
        for i in range(2):
            resp = await c.response(f"in-{i}")
            self.assertEqual(resp.get("result"), {"written": 1_000_000})
        self.assertEqual(await c.call("input", {"data": data, "eof": True}),
                         {"written": 1_000_000})
        await c.collect(run)
        self.assertCompleted(run)


if __name__ == "__main__":
    main()
