#!/usr/bin/python3
"""/readyz (spec section 9, issue 7): 200 while accepting; 503 at the
session limit, at the connection limit and while draining."""

import asyncio
import http.client
import json
import signal
import time
import unittest

from ops_harness import ServerTest, async_wait_until, main


class SessionLimitTest(ServerTest):
    server_args = ["--max-sessions", "2"]

    def readyz(self):
        status, _, body = self.server.http("/readyz")
        return status, json.loads(body)

    async def test_503_at_the_session_limit_and_back(self):
        self.assertEqual(self.readyz(), (200, {"status": "ready"}))
        a = await self.connect()
        self.assertEqual(self.readyz()[0], 200)
        b = await self.connect()
        self.assertTrue(await async_wait_until(
            lambda: self.readyz()[0] == 503, 10))
        self.assertEqual(self.readyz()[1],
                         {"status": "not_ready", "reason": "session_limit"})
        # Liveness is not readiness: still alive.
        self.assertEqual(self.server.http("/healthz")[0], 200)
        await b.close()
        self.assertTrue(await async_wait_until(
            lambda: self.readyz()[0] == 200, 10))
        await a.close()


class ConnectionLimitTest(ServerTest):
    server_args = ["--max-connections", "1"]

    async def test_503_at_the_connection_limit(self):
        a = await self.connect()
        status, _, body = self.server.http("/readyz")
        self.assertEqual(status, 503)
        self.assertEqual(json.loads(body)["reason"], "connection_limit")
        await a.close()
        self.assertTrue(await async_wait_until(
            lambda: self.server.http("/readyz")[0] == 200, 10))


class DrainingTest(ServerTest):
    # The process outlives SIGTERM for the grace period, so the server
    # drains for a while; a keep-alive connection opened before the signal
    # can still ask (the listener no longer accepts new ones).
    server_args = ["--shutdown-grace-ms", "4000"]

    async def test_never_ready_while_draining(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port,
                                          timeout=10)
        self.addCleanup(conn.close)
        conn.request("GET", "/readyz")
        res = conn.getresponse()
        res.read()
        self.assertEqual(res.status, 200)
        c = await self.connect()
        res = await c.request("execute", {
            "command": "trap '' TERM; sleep 30"})
        self.assertEqual(res["result"]["status"], "started")
        self.server.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        while True:
            try:
                conn.request("GET", "/readyz")
                res = conn.getresponse()
                body = res.read()
            except (ConnectionError, http.client.HTTPException, OSError):
                # Closing probe connections while draining is not-ready too.
                return
            if res.status != 200 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        self.assertEqual(res.status, 503)
        self.assertEqual(json.loads(body),
                         {"status": "not_ready", "reason": "draining"})

if __name__ == "__main__":
    main()
