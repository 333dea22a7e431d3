#!/usr/bin/python3
"""process.output (spec section 5): lines framing (one frame per line, long
lines chunked), chunks framing, bytes that are not UTF-8 (base64 frames, never
altered, a character never split across frames), stdout and stderr each
complete and in order, the exact frame shape."""

import unittest

from harness import (ALL_BYTES, INVALID_UTF8_OUTPUT, SPLIT_CHAR_LINE,
                     ServerTestCase, fake_cmd, flood_bytes, long_line, main,
                     numbered_lines, piece_bytes, stderr_lines)

MAX_LINE_CHARS = 65536
MAX_CHUNK_BYTES = 65536


class LinesFramingTest(ServerTestCase):
    async def test_20000_lines_complete_and_in_order(self):
        c = await self.connect()
        run = await c.run({"command": fake_cmd("--lines", 20000)})
        self.assertCompleted(run)
        outs = run.outputs("stdout")
        self.assertEqual(len(outs), 20000, "one frame per line")
        self.assertEqual(run.lines(), numbered_lines(20000))
        self.assertTrue(all(p["total_chunks"] == 1 and p["chunk_index"] == 0
                            and p["truncated"] is False for p in outs))
        self.assertEqual(run.chunk_errors(), [])
        self.assertEqual(run.outputs("stderr"), [])
        # seq: started=1, outputs 2..20001, completed 20002 (no gaps is
        # checked on every frame by the harness).
        self.assertEqual(run.completed["seq"], 20002)

    async def test_line_splitting_details(self):
        c = await self.connect()
        cases = [
            ("printf 'a\\nb'", [b"a\n", b"b"]),  # last line lacks \n
            ("printf '\\n\\n\\nx\\n'", [b"\n", b"\n", b"\n", b"x\n"]),
            ("printf 'a\\r\\nb\\r\\n'", [b"a\r\n", b"b\r\n"]),
            ("printf 'no newline at all'", [b"no newline at all"]),
            ("true", []),
        ]
        for command, expected in cases:
            run = await c.run({"command": command})
            self.assertEqual([piece_bytes(p) for p in run.outputs()],
                             expected, command)

    async def test_json_escaping(self):
        c = await self.connect()
        run = await c.run({"command": r"""printf '"q" \\ \t \001 \037 </script>\n'"""})
        self.assertEqual(run.output(),
                         b'"q" \\ \t \x01 \x1f </script>\n')

    async def test_unicode_passes_as_text(self):
        c = await self.connect()
        run = await c.run({"command": r"printf 'h\303\251 \342\230\203 \360\237\230\200\n'"})
        outs = run.outputs()
        self.assertEqual(len(outs), 1)
        self.assertNotIn("encoding", outs[0])
        self.assertEqual(outs[0]["data"], "h\u00e9 \u2603 \U0001F600\n")

    async def test_150000_char_line_is_chunked(self):
        c = await self.connect()
        run = await c.run({"command": fake_cmd("--text", "before",
                                               "--long-line", 150000,
                                               "--text", "after")})
        self.assertCompleted(run)
        self.assertEqual(run.lines(), [b"before\n", long_line(150000),
                                       b"after\n"])
        self.assertEqual(run.chunk_errors(), [])
        pieces = run.outputs()[1:-1]
        self.assertEqual(len(pieces), 3)  # 150,001 chars in 65,536-char pieces
        self.assertEqual([p["chunk_index"] for p in pieces], [0, 1, 2])
        self.assertEqual([p["total_chunks"] for p in pieces], [3, 3, 3])
        self.assertEqual([p["truncated"] for p in pieces], [True, True, False])
        for p in pieces:
            self.assertLessEqual(len(p["data"]), MAX_LINE_CHARS)
            self.assertNotIn("encoding", p)
        self.assertEqual(run.outputs()[0]["total_chunks"], 1)
        self.assertEqual(run.outputs()[-1]["total_chunks"], 1)

    async def test_lines_around_the_limit(self):
        c = await self.connect()
        for n in (65535, 65536, 65537, 131072):
            run = await c.run({"command": fake_cmd("--long-line", n)})
            self.assertEqual(run.lines(), [long_line(n)], n)
            self.assertEqual(run.chunk_errors(), [], n)
            for p in run.outputs():
                self.assertLessEqual(len(p["data"]), MAX_LINE_CHARS, n)
        # 65,535 chars plus "\n" is 65,536 characters: one frame.
        run = await c.run({"command": fake_cmd("--long-line", 65535)})
        self.assertEqual(len(run.outputs()), 1)

    async def test_long_multibyte_line_split_on_characters(self):
        c = await self.connect()
        run = await c.run({"command": "yes '\u00e9' | head -n 100000 | "
                                      "tr -d '\\n'; echo"})
        expected = ("\u00e9" * 100000 + "\n").encode()
        self.assertEqual(run.output(), expected)
        self.assertEqual(run.chunk_errors(), [])
        for p in run.outputs():
            self.assertNotIn("encoding", p, "valid UTF-8 sent as base64")
            self.assertLessEqual(len(p["data"]), MAX_LINE_CHARS)
        self.assertGreaterEqual(len(run.outputs()), 2)


class Utf8Test(ServerTestCase):
    async def test_invalid_utf8_round_trips_byte_exact(self):
        c = await self.connect()
        run = await c.run({"command": fake_cmd("--invalid-utf8")})
        self.assertCompleted(run)
        self.assertEqual(run.output(), INVALID_UTF8_OUTPUT)
        outs = run.outputs()
        self.assertTrue(any(p.get("encoding") == "base64" for p in outs),
                        "no base64 frame for invalid UTF-8")
        for p in outs:
            self.assertIn(p.get("encoding", "utf8"), ("utf8", "base64"), p)
            self.assertNotIn("\ufffd", p["data"], "output was altered")
        # The valid line whose 4-byte character arrived in two writes is one
        # text frame: the character was not split.
        self.assertTrue(
            any("encoding" not in p and p["data"] == SPLIT_CHAR_LINE.decode()
                for p in outs),
            f"split character line not one text frame: {outs}")
        self.assertEqual(run.chunk_errors(), [])

    async def test_all_byte_values_round_trip(self):
        c = await self.connect()
        run = await c.run({"command": fake_cmd("--all-bytes", "--all-bytes")})
        self.assertEqual(run.output(), ALL_BYTES + ALL_BYTES)

    async def test_invalid_utf8_on_stderr(self):
        c = await self.connect()
        run = await c.run({"command": fake_cmd("--invalid-utf8") + " 1>&2"})
        self.assertEqual(run.output("stderr"), INVALID_UTF8_OUTPUT)
        self.assertEqual(run.output("stdout"), b"")

    async def test_chunks_framing_keeps_characters_whole(self):
        c = await self.connect()
        run = await c.run({"command": fake_cmd("--invalid-utf8",
                                               "--all-bytes"),
                           "framing": "chunks"})
        self.assertEqual(run.output(), INVALID_UTF8_OUTPUT + ALL_BYTES)
        # U+1F600 was written in two pieces 50 ms apart; some frame must
        # hold all four of its bytes.
        self.assertTrue(any(b"\xf0\x9f\x98\x80" in piece_bytes(p)
                            for p in run.outputs()),
                        "a 4-byte character was split across frames")


class StreamsTest(ServerTestCase):
    async def test_stderr_separate_from_stdout(self):
        c = await self.connect()
        run = await c.run({"command": fake_cmd("--lines", 50, "--width", 40,
                                               "--stderr-lines", 50,
                                               "--text", "done")})
        self.assertEqual(run.lines("stdout"),
                         numbered_lines(50, 40) + [b"done\n"])
        self.assertEqual(run.lines("stderr"), stderr_lines(50))
        for p in run.outputs():
            self.assertIn(p["type"], ("stdout", "stderr"))

    async def test_concurrent_streams_each_complete_and_in_order(self):
        c = await self.connect()
        f = fake_cmd("--lines", 5000, "--width", 50)[len("exec "):]
        g = fake_cmd("--stderr-lines", 5000)[len("exec "):]
        run = await c.run({"command": f"{f} & {g}; wait"})
        self.assertCompleted(run)
        self.assertEqual(run.lines("stdout"), numbered_lines(5000, 50))
        self.assertEqual(run.lines("stderr"), stderr_lines(5000))

    async def test_shell_redirection_to_stderr(self):
        c = await self.connect()
        run = await c.run({"command": "echo out; echo err >&2"})
        self.assertEqual(run.output("stdout"), b"out\n")
        self.assertEqual(run.output("stderr"), b"err\n")
        err = run.outputs("stderr")[0]
        self.assertEqual(err, {"type": "stderr", "data": "err\n",
                               "truncated": False, "chunk_index": 0,
                               "total_chunks": 1, "seq": err["seq"]})


class ChunksFramingTest(ServerTestCase):
    async def test_flood_16_mib(self):
        n = 16 * 1024 * 1024
        c = await self.connect()
        run = await c.run({"command": fake_cmd("--flood", n),
                           "framing": "chunks"})
        self.assertCompleted(run)
        outs = run.outputs()
        self.assertEqual(run.output(), flood_bytes(n))
        self.assertGreaterEqual(len(outs), n // MAX_CHUNK_BYTES)
        for p in outs:
            self.assertLessEqual(len(piece_bytes(p)), MAX_CHUNK_BYTES)

    async def test_small_output(self):
        c = await self.connect()
        run = await c.run({"command": "echo hi", "framing": "chunks"})
        self.assertEqual(run.output(), b"hi\n")

    async def test_lines_flood_1_mib(self):
        # A flood in lines framing: cut lines at read boundaries are joined.
        n = 1024 * 1024 + 37
        c = await self.connect()
        run = await c.run({"command": fake_cmd("--flood", n)})
        self.assertEqual(run.output(), flood_bytes(n))
        self.assertEqual(len(run.outputs()), -(-n // 100))


class TightWindowTest(ServerTestCase):
    """The smallest window toward the socket (0 counts as 1 byte: every
    frame waits for the one before to be written; taken literally, nothing
    would ever be sent) and a single actor thread: output still arrives
    complete and in order, in both framings."""
    server_args = ["--connection-window-bytes", "0", "--worker-threads", "1"]

    async def test_output_complete_with_the_smallest_window(self):
        c = await self.connect()
        run = await c.run({"command": fake_cmd("--lines", 3000)})
        self.assertCompleted(run)
        self.assertEqual(run.lines(), numbered_lines(3000))
        chunks = await c.run({"command": fake_cmd("--lines", 3000),
                              "framing": "chunks"})
        self.assertCompleted(chunks)
        self.assertEqual(chunks.output(), b"".join(numbered_lines(3000)))


if __name__ == "__main__":
    main()
