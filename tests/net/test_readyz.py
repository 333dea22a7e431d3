#!/usr/bin/python3
"""/readyz (spec section 9, issue 7): 200 while accepting; 503 at the
session limit, at the connection limit and while draining."""

import asyncio
import http.client
import json
import signal
import time
import unittest

from ops_harness import ServerTest, async_wait_until, main, raw_upgrade


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
    # drains for a while.
    server_args = ["--shutdown-grace-ms", "4000"]

    def fresh_get(self, path):
        """A GET on a new connection: what a load balancer's probe does."""
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port,
                                          timeout=10)
        try:
            conn.request("GET", path)
            res = conn.getresponse()
            return res.status, res.read()
        finally:
            conn.close()

    async def test_503_for_the_whole_drain(self):
        self.assertEqual(self.fresh_get("/readyz")[0], 200)
        c = await self.connect()
        res = await c.request("execute", {
            "command": "trap '' TERM; sleep 30"})
        self.assertEqual(res["result"]["status"], "started")
        self.server.proc.send_signal(signal.SIGTERM)
        self.assertTrue(await async_wait_until(
            lambda: self.fresh_get("/readyz")[0] == 503, 5))
        # New connections are still accepted and told why, until the end.
        status, body = self.fresh_get("/readyz")
        self.assertEqual(status, 503)
        self.assertEqual(json.loads(body),
                         {"status": "not_ready", "reason": "draining"})
        self.assertEqual(self.fresh_get("/healthz")[0], 200)
        # An upgrade is refused with 503 as well.
        sock, status, _ = raw_upgrade(self.server.port)
        sock.close()
        self.assertEqual(status, 503)


if __name__ == "__main__":
    main()
