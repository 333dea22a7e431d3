#!/usr/bin/python3
"""The robust client of docs/protocol.md section 13 (docs/examples/
resume_client.py), run for real: through a proxy that cuts the connection
several times mid-stream, it gets every byte exactly once when it acks from
the start, and accounts for every byte (received or reported missing by
stream.gap) when it does not. The page shows the file as it is."""

import asyncio
import os
import re
import sys

from harness import ServerTestCase, main

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "docs", "examples"))

import resume_client  # noqa: E402


class CuttingProxy:
    """A TCP proxy on 127.0.0.1 that aborts both sides of the first `cuts`
    connections once `cut_after` bytes went from the server to the client."""

    def __init__(self, upstream_port, cut_after, cuts):
        self.upstream_port = upstream_port
        self.cut_after = cut_after
        self.cuts_left = cuts
        self.cuts_done = 0
        self.server = None

    async def start(self):
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def serve(self, client_r, client_w):
        server_r, server_w = await asyncio.open_connection(
            "127.0.0.1", self.upstream_port)
        cut = self.cuts_left > 0
        if cut:
            self.cuts_left -= 1

        async def pump(reader, writer, limit):
            sent = 0
            try:
                while True:
                    data = await reader.read(65536)
                    if not data:
                        break
                    writer.write(data)
                    await writer.drain()
                    sent += len(data)
                    if limit is not None and sent >= limit:
                        self.cuts_done += 1
                        break
            except ConnectionError:
                pass
            # No Close frame, no FIN: both sides see a reset.
            client_w.transport.abort()
            server_w.transport.abort()

        await asyncio.gather(pump(client_r, server_w, None),
                             pump(server_r, client_w,
                                  self.cut_after if cut else None))

    def close(self):
        self.server.close()


def seq_output(n):
    return b"".join(f"{i}\n".encode() for i in range(1, n + 1))


class DocClientTest(ServerTestCase):
    async def run_through_cuts(self, lossless, lines, cuts):
        proxy = CuttingProxy(self.server.port, cut_after=400_000, cuts=cuts)
        port = await proxy.start()
        try:
            out, done, gaps = await asyncio.wait_for(resume_client.run(
                f"ws://127.0.0.1:{port}/ws/mcp",
                {"command": f"exec seq 1 {lines}"}, lossless=lossless), 120)
        finally:
            proxy.close()
        self.assertEqual(proxy.cuts_done, cuts)
        self.assertEqual(done["status"], "completed")
        self.assertEqual(done["exit_code"], 0)
        return bytes(out["stdout"]), gaps

    async def test_lossless_through_cuts(self):
        stdout, gaps = await self.run_through_cuts(True, 200_000, cuts=4)
        self.assertEqual(gaps, [])
        self.assertEqual(stdout, seq_output(200_000))

    async def test_implicit_mode_accounts_for_every_byte(self):
        stdout, gaps = await self.run_through_cuts(False, 200_000, cuts=3)
        expected = seq_output(200_000)
        # The socket buffers held more than the replay window at each cut.
        self.assertGreater(len(gaps), 0)
        dropped = sum(g["dropped_bytes"] for g in gaps)
        self.assertTrue(all("dropped_bytes_exact" not in g for g in gaps), gaps)
        self.assertEqual(len(stdout) + dropped, len(expected))
        # What arrived is whole lines of the stream, in order.
        self.assertTrue(stdout.endswith(b"200000\n"))
        numbers = [int(x) for x in stdout.split()]
        self.assertEqual(numbers, sorted(numbers))

    def test_the_page_shows_the_file(self):
        with open(os.path.join(ROOT, "docs", "protocol.md")) as f:
            page = f.read()
        with open(os.path.join(ROOT, "docs", "examples",
                               "resume_client.py")) as f:
            code = f.read()
        blocks = re.findall(r"```python\n(.*?)```", page, re.S)
        self.assertIn(code, blocks,
                      "docs/protocol.md section 13 must show "
                      "docs/examples/resume_client.py as it is")


if __name__ == "__main__":
    main()
