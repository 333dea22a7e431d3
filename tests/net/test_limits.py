#!/usr/bin/python3
"""Limits against abuse (issue 8 item 5, HTTP side): connections overall and
per remote address (503 on the upgrade, before any WebSocket opens), and the
handshake deadline that drops a slowloris client."""

import asyncio
import socket
import time
import unittest

import websockets

from ops_harness import (ServerTest, async_wait_until, main, parse_metrics,
                         raw_connect, raw_upgrade, sample)


class ConnectionLimitTest(ServerTest):
    # The whole of 127.0.0.0/8 is loopback, so three client addresses are
    # at hand without leaving the machine.
    server_args = ["--max-connections", "3", "--max-connections-per-ip", "2"]

    async def connect_from(self, source):
        return await self.connect(local_addr=(source, 0))

    async def assert_503(self, source):
        with self.assertRaises(websockets.InvalidStatusCode) as ctx:
            await self.connect_from(source)
        self.assertEqual(ctx.exception.status_code, 503)

    async def test_per_address_then_total(self):
        a1 = await self.connect_from("127.0.0.1")
        await self.connect_from("127.0.0.1")
        await self.assert_503("127.0.0.1")  # per address
        await self.connect_from("127.0.0.2")  # another address: fine
        await self.assert_503("127.0.0.3")  # total
        sock, status, head = raw_upgrade(self.server.port, source="127.0.0.3")
        sock.close()
        self.assertEqual(status, 503)
        self.assertIn("Retry-After: 1", head)
        m = parse_metrics(self.server.metrics())
        self.assertEqual(sample(m, "actorexec_connections_rejected_total",
                                reason="connection_limit"), 3)
        self.assertEqual(sample(m, "actorexec_connections_opened_total"), 3)
        # A place frees when its WebSocket ends.
        await a1.close()

        async def admitted():
            try:
                await self.connect_from("127.0.0.3")
                return True
            except websockets.InvalidStatusCode:
                return False
        deadline = time.monotonic() + 10
        while not await admitted():
            self.assertLess(time.monotonic(), deadline)
            await asyncio.sleep(0.05)

    async def test_plain_http_not_counted(self):
        await self.connect_from("127.0.0.1")
        await self.connect_from("127.0.0.1")
        for _ in range(5):
            self.assertEqual(self.server.http("/healthz")[0], 200)


class SlowlorisTest(ServerTest):
    deadline_ms = 500
    server_args = ["--handshake-timeout-ms", str(deadline_ms)]

    def time_until_dropped(self, sock, trickle):
        """Seconds until the server closes `sock`, sending a byte of
        `trickle` every 100 ms meanwhile (the client never finishes)."""
        start = time.monotonic()
        sock.settimeout(0.1)
        i = 0
        while time.monotonic() - start < 10:
            try:
                if sock.recv(4096) == b"":
                    return time.monotonic() - start
            except socket.timeout:
                pass
            except ConnectionError:
                return time.monotonic() - start
            if trickle:
                try:
                    sock.send(trickle[i % len(trickle)].encode())
                except OSError:
                    return time.monotonic() - start
                i += 1
        self.fail("the server kept a half-sent request open for 10 s")

    async def test_half_sent_upgrade_dropped_at_the_deadline(self):
        sock = raw_connect(self.server.port)
        self.addCleanup(sock.close)
        sock.sendall(b"GET /ws/mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Upgrade: websocket\r\n")
        t = await asyncio.to_thread(self.time_until_dropped, sock,
                                    "X-Slow: aaaaaaaaaaaaaaaaaaaa")
        self.assertGreaterEqual(t, self.deadline_ms / 1000 * 0.8)
        self.assertLess(t, self.deadline_ms / 1000 + 2.5)

    async def test_silent_connection_dropped(self):
        sock = raw_connect(self.server.port)
        self.addCleanup(sock.close)
        t = await asyncio.to_thread(self.time_until_dropped, sock, "")
        self.assertLess(t, self.deadline_ms / 1000 + 2.5)

    async def test_many_slow_clients_do_not_block_others(self):
        socks = []
        for _ in range(20):
            s = raw_connect(self.server.port)
            s.sendall(b"GET /ws/mcp HTTP/1.1\r\n")
            socks.append(s)
        self.addCleanup(lambda: [s.close() for s in socks])
        c = await self.connect()
        self.assertTrue((await c.request("ping"))["result"]["pong"])
        self.assertEqual(self.server.http("/healthz")[0], 200)

    async def test_open_websocket_outlives_the_deadline(self):
        c = await self.connect()
        await asyncio.sleep(3 * self.deadline_ms / 1000)
        self.assertTrue((await c.request("ping"))["result"]["pong"])


if __name__ == "__main__":
    main()
