#!/usr/bin/python3
"""Signal state of children (issue 27): a server started the way `cmd &`
starts it from a non-interactive shell (SIGINT and SIGQUIT ignored), here
with more ignored and some blocked besides, still gives every child default
dispositions and an empty mask; and SIGINT sent through the protocol ends a
child (an ignored SIGINT would survive exec and make it do nothing)."""

import signal
import sys
import unittest

from harness import Server, ServerTestCase, main, wait_until
from test_mcp import Mcp

IGNORED = (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP,
           signal.SIGUSR2, signal.SIGTTOU)
BLOCKED = (signal.SIGQUIT, signal.SIGUSR1, signal.SIGALRM)

# Execs the server with those dispositions and that mask (exec keeps both).
# The server installs its own handlers for SIGINT and SIGTERM, so it still
# stops on the harness's SIGTERM; the rest stays ignored or blocked in it.
WRAPPER = f"""
import os, signal, sys
for s in {[int(s) for s in IGNORED]}:
    signal.signal(s, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, {[int(s) for s in BLOCKED]})
os.execv(sys.argv[1], sys.argv[1:])
"""


class BackgroundedServer(Server):
    def command(self):
        return [sys.executable, "-c", WRAPPER, *super().command()]


def sig_masks(status_text):
    """{"SigIgn": int, "SigBlk": int} of a /proc/PID/status text."""
    out = {}
    for line in status_text.splitlines():
        key, _, value = line.partition(":")
        if key in ("SigIgn", "SigBlk"):
            out[key] = int(value.strip(), 16)
    return out


def bit(sig):
    return 1 << (int(sig) - 1)


class SignalStateTest(ServerTestCase):
    start_server_in_setup = False

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.server = BackgroundedServer([])
        self.servers.append(self.server)
        self.addCleanup(self._stop_server, self.server)
        self.server.start()
        # The wrapper did what a shell would: the server has them.
        with open(f"/proc/{self.server.pid}/status") as f:
            server = sig_masks(f.read())
        self.assertTrue(server["SigIgn"] & bit(signal.SIGQUIT), server)
        self.assertTrue(server["SigIgn"] & bit(signal.SIGUSR2), server)
        self.assertTrue(server["SigBlk"] & bit(signal.SIGUSR1), server)

    async def test_children_get_default_dispositions_and_no_mask(self):
        c = await self.connect()
        for params in ({"argv": ["grep", "-E", "SigIgn|SigBlk",
                                 "/proc/self/status"]},
                       {"command": "grep -E 'SigIgn|SigBlk' /proc/self/status"}):
            run = await c.run(params)
            self.assertEqual(run.completed["exit_code"], 0, run.text("stderr"))
            self.assertEqual(sig_masks(run.text()),
                             {"SigIgn": 0, "SigBlk": 0}, params)

    async def test_sigint_through_the_protocol_ends_a_child(self):
        c = Mcp(self.server.port)
        c.initialize()
        r = c.tool("run_command", argv=["sleep", "100"], wait_s=0)[
            "structuredContent"]
        self.extra_pgids.add(r["pid"])
        s = c.tool("signal_process", process_id=r["process_id"],
                   action="interrupt")["structuredContent"]
        self.assertEqual(s["status"], "interrupted", s)
        p = c.tool("read_output", process_id=r["process_id"],
                   cursor=r["cursor"], wait_s=15)["structuredContent"]
        self.assertEqual((p["eof"], p["signal"]), (True, int(signal.SIGINT)),
                         p)


if __name__ == "__main__":
    main()
