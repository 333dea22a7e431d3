"""Child isolation (issue: security): --no-shell accepts argv only, and
per-child rlimits take effect (a child over RLIMIT_CPU dies by SIGXCPU and
process.completed says so)."""

import signal
import unittest

from harness import ServerTestCase


class InheritanceTest(ServerTestCase):
    async def test_children_inherit_no_server_descriptor(self):
        # Only stdin, stdout and stderr: no socket, no pipe of the server.
        c = await self.connect()
        run = await c.run({"argv": ["/bin/sh", "-c", "ls /proc/$$/fd"]})
        self.assertCompleted(run)
        fds = sorted(int(x) for x in run.text().split())
        # 0-2, plus the descriptor ls opens to read the directory.
        self.assertEqual(fds[:3], [0, 1, 2])
        self.assertLessEqual(len(fds), 4, fds)


class NoShellTest(ServerTestCase):
    server_args = ["--no-shell"]

    async def test_command_is_refused_argv_runs(self):
        c = await self.connect()
        err = await c.call_error("execute", {"command": "echo hi"},
                                 code=-32001)
        self.assertIn("--no-shell", err["message"])
        run = await c.run({"argv": ["echo", "hi"]})
        self.assertCompleted(run)
        self.assertEqual(run.text(), "hi\n")


class RlimitTest(ServerTestCase):
    server_args = ["--rlimit-cpu", "1", "--rlimit-nofile", "64"]

    async def test_cpu_limit_ends_a_busy_child_by_sigxcpu(self):
        c = await self.connect()
        run = await c.run({"argv": ["/bin/sh", "-c", "while :; do :; done"]},
                          timeout=30)
        done = run.completed
        self.assertEqual(done["signal"], signal.SIGXCPU, done)
        self.assertEqual(done["exit_code"], -signal.SIGXCPU, done)
        self.assertEqual(done["status"], "failed", done)

    async def test_nofile_limit_is_set_in_the_child(self):
        c = await self.connect()
        run = await c.run({"argv": ["/bin/sh", "-c", "ulimit -n"]})
        self.assertCompleted(run)
        self.assertEqual(run.text(), "64\n")


if __name__ == "__main__":
    unittest.main()
