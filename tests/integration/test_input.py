#!/usr/bin/python3
"""input (spec section 4): writes to the child's stdin pipe when execute had
stdin:true, {"written":N} once the bytes are in the pipe, utf8 and base64
encodings, eof closing stdin, -32005 without a stdin pipe or after eof,
-32002 without a process, large inputs."""

import base64
import unittest

from harness import (ServerTestCase, fake_cmd, main, numbered_lines,
                     piece_bytes)


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


if __name__ == "__main__":
    main()
