#!/usr/bin/python3
"""Hostile and careless clients (issue 25): what a client sends, or fails to
read, must not grow the server's memory without bound, must not cost it its
CPU, and must not hold a child past a clean close.

- A client that floods requests and reads no reply: the replies queued for
  it stay bounded (the connection stops handling, then reading, that client).
- A client that floods large frames of nested arrays: the frames read and
  not yet handled stay bounded (reads stop at a window); other sessions'
  round trips still work.
- A client that closes cleanly while its output is in flight (a stock
  `websockets` client, whose queue of 32 messages is full): the session ends
  as a clean close at once (the SIGTERM ladder), not after the linger time.
- A frame sent in the same packet as the upgrade request is handled.
- WebSocket pings beyond the connection's request budget close it (1008).

Memory bounds are on the server's peak resident size (VmHWM) and are skipped
under sanitizers (harness.SANITIZED).
"""

import asyncio
import base64
import hashlib
import json
import os
import socket
import time

import websockets

from harness import (OP_CLOSE, OP_PING, OP_TEXT, RawWebSocket, ServerTestCase,
                     async_wait_until, fake_cmd, main, processes_in_group,
                     wait_group_gone)

# Bounds on how much the server's peak memory may grow; the unbounded code
# grew by hundreds of MiB in each of these tests.
FLOOD_BOUND_KIB = 48 * 1024


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmHWM for {pid}")


TCP_ESTABLISHED = 1


def tcp_state(sock):
    """The kernel's TCP state of `sock` (tcpi_state of TCP_INFO)."""
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]


def masked_frame(opcode, payload):
    """One masked, final client frame."""
    if isinstance(payload, str):
        payload = payload.encode()
    head = bytearray([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head.append(0x80 | n)
    elif n < 1 << 16:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    mask = os.urandom(4)
    head += mask
    # XOR with the mask four bytes at a time: fast enough for large frames.
    pad = (-n) % 4
    words = int.from_bytes(payload + b"\0" * pad, "little")
    key = int.from_bytes(mask * ((n + pad) // 4), "little")
    masked = (words ^ key).to_bytes(n + pad, "little")[:n]
    return bytes(head) + masked


async def flood(ws, frame, seconds, max_frames):
    """Writes `frame` again and again for at most `seconds` (bounded in
    count too), waiting for the socket to take each; returns how many went.
    A server that stops reading makes the writes wait: that is the point."""
    sent = 0
    deadline = time.monotonic() + seconds
    while sent < max_frames:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ws.writer.write(frame)
        try:
            await asyncio.wait_for(ws.writer.drain(), left)
        except (asyncio.TimeoutError, ConnectionError):
            break
        sent += 1
    return sent


class ReplyFloodTest(ServerTestCase):
    """Item 4: requests flooded without reading a reply."""

    async def test_replies_to_a_client_that_does_not_read_stay_bounded(self):
        ws = await RawWebSocket.open("127.0.0.1", self.server.port)
        idle = vm_hwm_kib(self.server.pid)
        ping = masked_frame(OP_TEXT, '{"jsonrpc":"2.0","id":1,"method":"ping"}')
        sent = await flood(ws, ping * 64, 8.0, 50_000)
        growth = vm_hwm_kib(self.server.pid) - idle
        # Reading stopped: far fewer requests went through than would have
        # produced the unbounded queue (hundreds of MiB of -32029 replies).
        self.assertGreater(sent, 0)
        self.assertMemoryGrowth(growth, FLOOD_BOUND_KIB)
        # Another client is served meanwhile.
        other = await self.connect()
        pong = await other.call("ping")
        self.assertTrue(pong["pong"])
        ws.abort()


class FrameFloodTest(ServerTestCase):
    """Item 5: large frames of nested arrays, flooded."""

    async def test_frames_read_and_not_handled_stay_bounded(self):
        ws = await RawWebSocket.open("127.0.0.1", self.server.port)
        body = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "status",
                           "params": {"x": [1] * 340_000}},
                          separators=(",", ":"))
        frame = masked_frame(OP_TEXT, body)
        self.assertGreater(len(frame), 680_000)
        idle = vm_hwm_kib(self.server.pid)
        other = await self.connect()
        # The first frames are parsed into documents (within the rate
        # limit), which costs some memory once; what the flood adds after
        # that must stay flat: 200 more frames are 136 MB.
        sent = await flood(ws, frame, 30.0, 100)
        self.assertEqual(sent, 100)
        early = vm_hwm_kib(self.server.pid) - idle
        sent = await flood(ws, frame, 30.0, 200)
        late = vm_hwm_kib(self.server.pid) - idle
        self.assertGreater(sent, 0)
        self.assertMemoryGrowth(late - early, 16 * 1024)
        self.assertMemoryGrowth(late, 96 * 1024)
        # The flood harms no other session.
        pong = await other.call("ping")
        self.assertTrue(pong["pong"])
        ws.abort()


class CleanCloseInFlightTest(ServerTestCase):
    """Item 6: a clean close while output is in flight ends the session."""

    server_args = ["--session-linger-ms", "90000", "--cancel-grace-ms", "2000"]

    async def test_close_with_a_full_queue_ends_the_child(self):
        # A stock client: max_queue 32, so it stops reading once 32 frames
        # wait for the application.
        ws = await websockets.connect(self.server.url(), max_queue=32)
        closing = None
        try:
            connected = json.loads(await ws.recv())
            sid = connected["params"]["session_id"]
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1,
                                      "method": "execute",
                                      "params": {"command": "exec yes"}}))
            pgid = None
            frames = 0
            while frames < 2000:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if msg.get("id") == 1:
                    pgid = msg["result"]["pgid"]
                frames += 1
            self.assertIsNotNone(pgid)
            self.extra_pgids.add(pgid)
            # The client's close. It reads no more data meanwhile (its queue
            # is full), so it may wait for its own timeout: the server must
            # not wait for it.
            closing = asyncio.ensure_future(ws.close())

            def ended():
                return any(e.get("event") == "session_end" and
                           e.get("session_id") == sid
                           for e in self.server.logs())
            self.assertTrue(await async_wait_until(ended, 10),
                            "the session did not end on the client's Close")
            left = await wait_group_gone(pgid, timeout=10)
            self.assertNoGroup(left, pgid)
            # The server answers and then cuts the connection: the client's
            # socket leaves ESTABLISHED, although the client reads nothing.
            sock = ws.transport.get_extra_info("socket")
            self.assertTrue(await async_wait_until(
                lambda: tcp_state(sock) != TCP_ESTABLISHED, 10),
                "the server kept the connection open")
        finally:
            ws.transport.abort()
            if closing is not None:
                closing.cancel()
        # A clean close, not a lost connection: no linger (90 s here).
        events = [e for e in self.server.logs()
                  if e.get("session_id") == sid]
        self.assertTrue(any(e.get("event") == "session_end" and
                            e.get("reason") == "client_closed"
                            for e in events), events[-5:])
        self.assertFalse(any(e.get("event") == "session_detach"
                             for e in events), events[-5:])


class EarlyFrameTest(ServerTestCase):
    """Item 10: a frame in the same packet as the upgrade request."""

    async def test_frame_sent_with_the_upgrade_is_handled(self):
        ws = await RawWebSocket.connect("127.0.0.1", self.server.port)
        key = base64.b64encode(os.urandom(16)).decode()
        request = ("GET /ws/mcp HTTP/1.1\r\n"
                   f"Host: 127.0.0.1:{self.server.port}\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n").encode()
        ping = masked_frame(OP_TEXT,
                            '{"jsonrpc":"2.0","id":"early","method":"ping"}')
        ws.writer.write(request + ping)  # one write: one packet on loopback
        await ws.writer.drain()
        head = await asyncio.wait_for(ws.reader.readuntil(b"\r\n\r\n"), 10)
        self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
        frame = await ws.recv_until(
            lambda f: f[1] == OP_TEXT and
            json.loads(f[2]).get("id") == "early", timeout=10)
        self.assertIsNotNone(frame, "server closed instead of answering")
        self.assertTrue(json.loads(frame[2])["result"]["pong"])
        ws.abort()


class PingFloodTest(ServerTestCase):
    """Item 11: WebSocket pings are charged to the connection's budget."""

    server_args = ["--rate-limit-rps", "50", "--rate-limit-burst", "100"]

    async def test_ping_flood_is_closed_with_policy(self):
        ws = await RawWebSocket.open("127.0.0.1", self.server.port)
        pings = masked_frame(OP_PING, b"p") * 1000
        ws.writer.write(pings)
        await ws.writer.drain()
        code = await ws.close_code(timeout=10)
        self.assertEqual(code, 1008)
        ws.abort()

    async def test_pings_within_the_budget_are_answered(self):
        ws = await RawWebSocket.open("127.0.0.1", self.server.port)
        for _ in range(20):
            ws.writer.write(masked_frame(OP_PING, b"ok"))
        await ws.writer.drain()
        pongs = 0
        while pongs < 20:
            frame = await ws.recv_frame(10)
            self.assertIsNotNone(frame)
            self.assertNotEqual(frame[1], OP_CLOSE)
            if frame[1] == 10:
                pongs += 1
        ws.abort()


if __name__ == "__main__":
    main()
