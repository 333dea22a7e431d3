#!/usr/bin/python3
"""Interoperability test.

NOTE: this file doubles as actorexec's interoperability test (design.md,
"Tests"): every integration test here talks to the server through the Python
`websockets` library (Debian's python3-websockets 10.4), a WebSocket
implementation that is not ours, and this file in particular exercises the
RFC 6455 features a foreign client brings along: permessage-deflate offered in
the handshake, fragmented messages, client-initiated ping frames, the close
handshake, and an old cc_executor-style client that knows only execute,
control and hook_status and never answers the JSON ping.
"""

import asyncio
import json
import unittest

import websockets

from harness import ProcessRun, ServerTestCase, fake_cmd, main


class InteropTest(ServerTestCase):
    server_args = ["--json-ping-interval", "1"]

    async def test_compression_offer_is_handled(self):
        # The library offers permessage-deflate by default; whatever the
        # server answers (accept or ignore), the session must work.
        c = await self.connect(compression="deflate")
        run = await c.run({"command": fake_cmd("--lines", 300)})
        self.assertEqual(len(run.lines()), 300)
        c2 = await self.connect(compression=None)
        self.assertTrue((await c2.call("ping"))["pong"])

    async def test_fragmented_message(self):
        c = await self.connect()
        text = json.dumps({"jsonrpc": "2.0", "method": "execute",
                           "params": {"command": "echo fragmented"},
                           "id": "frag"})
        pieces = [text[i:i + 7] for i in range(0, len(text), 7)]
        await c.ws.send(iter(pieces))  # one message in many frames
        resp = await c.response("frag")
        self.assertEqual(resp["result"]["status"], "started")
        run = await c.collect(ProcessRun(resp))
        self.assertEqual(run.text(), "fragmented\n")

    async def test_client_ping_frames_answered(self):
        c = await self.connect()
        for i in range(3):
            pong = await c.ws.ping(f"probe-{i}".encode())
            await asyncio.wait_for(pong, 5)

    async def test_close_handshake_echoes_code(self):
        c = await self.connect()
        await c.ws.close(1000, "bye")
        self.assertEqual(c.ws.close_code, 1000)

    async def test_old_client_flow(self):
        # What a cc_executor client does: connect to /ws/mcp, read
        # `connected`, execute, read notifications until completed, ignoring
        # every key and notification it does not know, never answering the
        # JSON ping. Written against the raw library on purpose.
        async with websockets.connect(self.server.url(), max_size=2**22,
                                      ping_interval=20) as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
            self.assertEqual(hello["method"], "connected")
            self.assertIn("session_id", hello["params"])
            await ws.send(json.dumps({"jsonrpc": "2.0", "method": "hook_status",
                                      "id": 1}))
            await ws.send(json.dumps({
                "jsonrpc": "2.0", "method": "execute", "id": 2,
                "params": {"command": fake_cmd("--interval-ms", 400,
                                               "--ticks", 4)}}))
            output, results, pings = "", {}, 0
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if "id" in msg:
                    results[msg["id"]] = msg
                elif msg["method"] == "ping":
                    pings += 1
                elif msg["method"] == "process.output":
                    output += msg["params"]["data"]
                elif msg["method"] == "process.completed":
                    break
            self.assertEqual(results[1]["result"], {"enabled": False})
            self.assertEqual(results[2]["result"]["status"], "started")
            self.assertEqual(output, "tick 1\ntick 2\ntick 3\ntick 4\n")
            self.assertEqual(msg["params"]["exit_code"], 0)
            self.assertGreaterEqual(pings, 1, "no JSON ping in 1.2 s")


if __name__ == "__main__":
    main()
