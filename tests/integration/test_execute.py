#!/usr/bin/python3
"""execute (spec sections 4 and 5): the started response and events, the
completed event, exit codes and signals, background jobs holding the pipes,
argv without a shell, cwd, env, the shell setting, stdin defaulting to
/dev/null, timeout and idle_timeout, sequential processes in one session."""

import os
import shutil
import signal
import tempfile
import unittest

from harness import (NO_ID, ProcessRun, ServerTestCase, children_of, fake_argv,
                     fake_cmd, main, wait_group_gone)


class ExecuteEchoTest(ServerTestCase):
    async def test_echo_hello_full_flow(self):
        c = await self.connect()
        await c.send(c.message("execute", {"command": "echo hello"},
                               id="exec-1"))
        resp = await c.response("exec-1")
        self.assertEqual(resp.get("jsonrpc"), "2.0")
        self.assertEqual(resp["id"], "exec-1")
        result = resp["result"]
        self.assertEqual(result.get("status"), "started")
        self.assertIsInstance(result.get("pid"), int)
        self.assertIsInstance(result.get("pgid"), int)
        pid, pgid = result["pid"], result["pgid"]

        run = await c.collect(ProcessRun(resp))
        # Order of frames on the wire: response, started, output, completed.
        frames = [f for f in c.frames if "id" in f or "method" in f]
        i_resp = next(i for i, f in enumerate(frames) if f.get("id") == "exec-1")
        i_started = next(i for i, f in enumerate(frames)
                         if f.get("method") == "process.started")
        self.assertLess(i_resp, i_started, "response after process.started")
        self.assertEqual(run.methods(), ["process.started", "process.output",
                                         "process.completed"])

        started = run.started
        self.assertEventShape(started, "started", pid, pgid)
        self.assertEqual(started["seq"], 1)

        out = run.outputs()[0]
        self.assertEqual(out, {"type": "stdout", "data": "hello\n",
                               "truncated": False, "chunk_index": 0,
                               "total_chunks": 1, "seq": 2})

        done = run.completed
        self.assertEqual(done.get("status"), "completed")
        self.assertEqual(done.get("exit_code"), 0)
        self.assertEqual(done.get("pid"), pid)
        self.assertEqual(done.get("pgid"), pgid)
        self.assertIn("signal", done)
        self.assertIsNone(done["signal"])
        self.assertIn("error", done)
        self.assertIsNone(done["error"])
        self.assertIsInstance(done.get("execution_time"), (int, float))
        self.assertGreaterEqual(done["execution_time"], 0)
        self.assertLess(done["execution_time"], 30)
        self.assertEqual(done.get("seq"), 3)

    async def test_integer_id(self):
        c = await self.connect()
        resp = await c.request("execute", {"command": "echo int"}, id=41)
        self.assertEqual(resp["id"], 41)
        self.assertEqual(resp["result"]["status"], "started")
        run = await c.collect(ProcessRun(resp))
        self.assertEqual(run.output(), b"int\n")

    async def test_no_id(self):
        c = await self.connect()
        resp = await c.request("execute", {"command": "echo noid"}, id=NO_ID)
        self.assertNotIn("id", resp)
        self.assertEqual(resp["result"]["status"], "started")
        run = await c.collect(ProcessRun(resp))
        self.assertEqual(run.output(), b"noid\n")

    async def test_new_process_group(self):
        c = await self.connect()
        run = await c.start({"command": fake_cmd("--print-pid",
                                                   "--sleep-ms", "200")})
        pid, pgid = run.started["pid"], run.started["pgid"]
        await c.collect(run)
        self.assertCompleted(run)
        # The child leads its own group: not the server's, not ours.
        self.assertEqual(pgid, pid)
        self.assertNotEqual(pgid, self.server.pid)
        self.assertNotEqual(pgid, os.getpgrp())
        self.assertEqual(run.text(), f"pid {pid} pgid {pgid}\n")

    async def test_sequential_processes_share_one_seq_counter(self):
        c = await self.connect()
        seqs = []
        for word in ("one", "two", "three"):
            run = await c.run({"command": f"echo {word}"})
            self.assertEqual(run.text(), word + "\n")
            seqs += [f["params"]["seq"] for f in run.events]
        self.assertEqual(seqs, list(range(1, 10)))
        st = await c.call("status")
        self.assertEqual(st["last_seq"], 9)


class ExitStatusTest(ServerTestCase):
    async def test_exit_codes(self):
        c = await self.connect()
        for code in (1, 3, 42, 255):
            run = await c.run({"command": fake_cmd("--exit", code)})
            done = run.completed
            self.assertEqual(done["exit_code"], code, done)
            self.assertIsNone(done.get("signal"), done)
            # The spec leaves completed/failed open for a nonzero exit.
            self.assertIn(done["status"], ("completed", "failed"), done)

    async def test_shell_exit_code(self):
        c = await self.connect()
        run = await c.run({"command": "echo before; exit 7"})
        self.assertEqual(run.text(), "before\n")
        self.assertEqual(run.completed["exit_code"], 7)

    async def test_death_by_signal(self):
        c = await self.connect()
        for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGUSR1):
            run = await c.run({"command": fake_cmd("--text", "dying",
                                                   "--kill-self", int(sig))})
            done = run.completed
            self.assertEqual(run.text(), "dying\n")
            self.assertEqual(done["exit_code"], -int(sig), done)
            self.assertEqual(done["signal"], int(sig), done)
            self.assertIn(done["status"], ("completed", "failed"), done)

    async def test_command_not_found(self):
        c = await self.connect()
        run = await c.run({"command": "no_such_command_actorexec_test"})
        self.assertEqual(run.completed["exit_code"], 127)
        self.assertIn(b"not found", run.output("stderr"))

    async def test_argv_executable_missing(self):
        # Issue 26: the error names the program and its path; the session
        # stays usable.
        c = await self.connect()
        err = await c.call_error("execute",
                                 {"argv": ["/nonexistent/actorexec"]},
                                 code=-32602)
        self.assertEqual(err["message"],
                         "Cannot start process: program "
                         "'/nonexistent/actorexec': No such file or directory")
        err = await c.call_error("execute",
                                 {"argv": ["no-such-program-actorexec"]},
                                 code=-32602)
        self.assertEqual(err["message"],
                         "Cannot start process: program "
                         "'no-such-program-actorexec' not found in PATH")
        run = await c.run({"command": "echo still-usable"})
        self.assertEqual(run.text(), "still-usable\n")


class BackgroundJobTest(ServerTestCase):
    async def test_completion_waits_for_pipe_holders(self):
        c = await self.connect()
        run = await c.run({"command": "(sleep 1; echo bg) & echo fg"})
        self.assertEqual(run.text(), "fg\nbg\n")
        self.assertEqual(run.methods()[-1], "process.completed")
        self.assertGreaterEqual(run.elapsed, 0.9)
        self.assertGreaterEqual(run.completed["execution_time"], 0.9)
        self.assertEqual(run.completed["exit_code"], 0)
        self.assertEqual(await wait_group_gone(
            run.started["pgid"], 2.0), [])


class ArgvCwdEnvTest(ServerTestCase):
    async def test_argv_has_no_shell(self):
        c = await self.connect()
        run = await c.run({"argv": ["echo", "$HOME", "a;b", "*", "x  y"]})
        self.assertEqual(run.text(), "$HOME a;b * x  y\n")
        self.assertCompleted(run)

    async def test_argv_fake_child(self):
        c = await self.connect()
        run = await c.run({"argv": fake_argv("--text", "a b  c",
                                             "--exit", "5")})
        self.assertEqual(run.text(), "a b  c\n")
        self.assertEqual(run.completed["exit_code"], 5)

    async def test_cwd(self):
        c = await self.connect()
        with tempfile.TemporaryDirectory() as d:
            real = os.path.realpath(d)
            run = await c.run({"command": "pwd -P", "cwd": d})
            self.assertEqual(run.text(), real + "\n")
            run = await c.run({"argv": fake_argv("--print-cwd"), "cwd": d})
            self.assertEqual(run.text(), f"cwd {real}\n")

    async def test_bad_cwd_is_an_error(self):
        # The child fails before exec (chdir): an error response, the failed
        # child reaped at once (the server's children list holds no zombie),
        # and the server spawns on as before.
        c = await self.connect()
        err = await c.call_error("execute", {"command": "echo x",
                                             "cwd": "/nonexistent/actorexec"},
                                 code=-32602)
        self.assertEqual(err["message"],
                         "Cannot start process: cwd '/nonexistent/actorexec': "
                         "No such file or directory")
        self.assertEqual(children_of(self.server.pid), [])
        with tempfile.NamedTemporaryFile() as f:
            err = await c.call_error("execute", {"argv": ["true"],
                                                 "cwd": f.name}, code=-32602)
            self.assertEqual(err["message"], f"Cannot start process: cwd "
                             f"'{f.name}': Not a directory")
        run = await c.run({"command": "echo x"})
        self.assertEqual(run.text(), "x\n")

    async def test_env_added_to_inherited_environment(self):
        c = await self.connect()
        run = await c.run({"command": 'printf "%s|%s" "$FOO" "$EMPTY_ONE"; '
                                      'test -n "$PATH" && echo " path-kept"',
                           "env": {"FOO": "bar baz", "EMPTY_ONE": ""}})
        self.assertEqual(run.text(), "bar baz| path-kept\n")
        run = await c.run({"argv": fake_argv("--getenv", "X_UNICODE"),
                           "env": {"X_UNICODE": "h\u00e9 \u2603"}})
        self.assertEqual(run.text(), "X_UNICODE=h\u00e9 \u2603\n")

    async def test_stdin_defaults_to_dev_null(self):
        c = await self.connect()
        run = await c.run({"command": fake_cmd("--echo-stdin")})
        self.assertEqual(run.text(), "stdin-eof\n")
        run = await c.run({"command": "readlink /proc/self/fd/0"})
        self.assertEqual(run.text(), "/dev/null\n")


class ShellTest(ServerTestCase):
    PROBE = ('if [ -n "$BASH_VERSION" ]; then echo bash; '
             'elif [ -n "$ZSH_VERSION" ]; then echo zsh; else echo sh; fi')

    async def test_default_shell_is_bash(self):
        c = await self.connect()
        run = await c.run({"command": self.PROBE})
        self.assertEqual(run.text(), "bash\n")

    async def test_shell_sh(self):
        srv = self.start_server("--shell", "sh")
        c = await self.connect(srv)
        run = await c.run({"command": self.PROBE})
        expected = ("bash\n" if os.path.realpath("/bin/sh").endswith("bash")
                    else "sh\n")
        self.assertEqual(run.text(), expected)

    @unittest.skipUnless(shutil.which("zsh"), "zsh is not installed")
    async def test_shell_zsh(self):
        srv = self.start_server("--shell", "zsh")
        c = await self.connect(srv)
        run = await c.run({"command": self.PROBE})
        self.assertEqual(run.text(), "zsh\n")


class TimeoutTest(ServerTestCase):
    server_args = ["--cancel-grace-ms", "500"]

    async def test_timeout(self):
        c = await self.connect()
        run = await c.run({"command": fake_cmd("--text", "begin",
                                               "--sleep-ms", "20000"),
                           "timeout": 1})
        self.assertEqual(run.text(), "begin\n")
        done = run.completed
        self.assertEqual(done["status"], "timed_out", done)
        self.assertGreaterEqual(done["execution_time"], 0.9)
        self.assertLess(run.elapsed, 8)
        self.assertEqual(await wait_group_gone(
            run.started["pgid"], 2.0), [])

    async def test_timeout_ignoring_sigterm_ends_by_sigkill(self):
        c = await self.connect()
        run = await c.run({"command": fake_cmd("--ignore-term",
                                               "--sleep-ms", "20000"),
                           "timeout": 1})
        done = run.completed
        self.assertEqual(done["status"], "timed_out", done)
        self.assertEqual(done["signal"], 9, done)
        self.assertEqual(done["exit_code"], -9, done)
        self.assertLess(run.elapsed, 8)

    async def test_fractional_timeout(self):
        c = await self.connect()
        run = await c.run({"command": fake_cmd("--sleep-ms", "20000"),
                           "timeout": 0.5})
        self.assertEqual(run.completed["status"], "timed_out")
        self.assertLess(run.elapsed, 6)

    async def test_timeout_not_reached(self):
        c = await self.connect()
        run = await c.run({"command": "echo quick", "timeout": 30})
        self.assertCompleted(run)
        self.assertEqual(run.text(), "quick\n")

    async def test_timeouts_beyond_the_maximum_refused(self):
        # 1e10 s and more overflowed the clocks' nanoseconds: the process
        # was killed as timed_out after 0.00 s.
        c = await self.connect()
        for key in ("timeout", "idle_timeout"):
            for value in (1e10, 1e19, 1e300):
                err = await c.call_error("execute", {"command": "true",
                                                     key: value}, code=-32602)
                self.assertEqual(
                    err["message"], f"Invalid params: '{key}' must be at "
                    "most 1000000000 seconds")
        self.assertIsNone((await c.call("status"))["process"])

    async def test_largest_timeouts_do_not_kill_at_once(self):
        c = await self.connect()
        run = await c.start({"command": fake_cmd("--text", "begin",
                                                 "--sleep-ms", "20000"),
                             "timeout": 1e9, "idle_timeout": 1e9})
        await c.collect_until(run, "process.output")
        # The clocks' arithmetic on pause and resume must not wrap either.
        await c.call("control", {"type": "PAUSE"})
        await c.call("control", {"type": "RESUME"})
        await c.call("control", {"type": "CANCEL"})
        await c.collect(run)
        self.assertEqual(run.completed["status"], "canceled", run.completed)
        self.assertEqual(run.text(), "begin\n")

    async def test_idle_timeout(self):
        c = await self.connect()
        run = await c.run({"command": fake_cmd("--interval-ms", "100",
                                               "--ticks", "3",
                                               "--sleep-ms", "20000"),
                           "idle_timeout": 1})
        self.assertEqual(run.text(), "tick 1\ntick 2\ntick 3\n")
        self.assertEqual(run.completed["status"], "timed_out", run.completed)
        self.assertGreaterEqual(run.completed["execution_time"], 1.1)
        self.assertLess(run.elapsed, 8)

    async def test_idle_timeout_reset_by_output(self):
        # Ticks every 300 ms for 1.8 s: never 1 s without output.
        c = await self.connect()
        run = await c.run({"command": fake_cmd("--interval-ms", "300",
                                               "--ticks", "7"),
                           "idle_timeout": 1})
        self.assertCompleted(run)
        self.assertEqual(len(run.lines()), 7)


if __name__ == "__main__":
    main()
