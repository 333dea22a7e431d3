#!/usr/bin/python3
"""Security (spec section 10): the command allow-list (first word, no shell
control operators nor expansions that execute, argv[0]) and the request
`env` it checks (issue 25: no BASH_FUNC_*, loader, shell start-up
variables; --allowed-env), the bearer token on the upgrade (401), the
Origin allow-list (403), children not inheriting the server's secrets, a
non-loopback bind refused without a token unless --insecure, and --run-as
(children as an unprivileged user; refused unless the server is root)."""

import os
import pwd
import re
import tempfile
import unittest

import websockets

from harness import (Server, ServerTestCase, fake_cmd, main)


class AllowListTest(ServerTestCase):
    server_args = ["--allowed-commands", "echo"]

    async def test_allowed_command_runs(self):
        c = await self.connect()
        run = await c.run({"command": "echo ok"})
        self.assertEqual(run.text(), "ok\n")
        run = await c.run({"command": "  echo   spaced"})
        self.assertEqual(run.text(), "spaced\n")

    async def test_command_not_listed(self):
        c = await self.connect()
        err = await c.call_error("execute", {"command": "ls"}, code=-32001)
        self.assertEqual(err["message"], "Command 'ls' is not allowed")
        err = await c.call_error("execute", {"command": "ls -la /"},
                                 code=-32001)
        self.assertEqual(err["message"], "Command 'ls' is not allowed")
        await c.call_error("execute", {"command": "echoo x"}, code=-32001)

    async def test_shell_operators_rejected(self):
        c = await self.connect()
        with tempfile.TemporaryDirectory() as d:
            marker = os.path.join(d, "marker")
            for command in (f"echo ok; touch {marker}",
                            f"echo ok && touch {marker}",
                            f"echo ok || touch {marker}",
                            f"echo ok | tee {marker}",
                            f"echo ok & touch {marker}",
                            f"echo $(touch {marker})",
                            f"echo `touch {marker}`",
                            f"echo ok > {marker}",
                            f"echo ok >> {marker}",
                            f"echo ok < {marker}",
                            f"echo ok\ntouch {marker}"):
                await c.call_error("execute", {"command": command},
                                   code=-32001)
            self.assertFalse(os.path.exists(marker),
                             "a rejected command ran anyway")
        # The session is still fine.
        run = await c.run({"command": "echo fine"})
        self.assertEqual(run.text(), "fine\n")

    async def test_argv_checked_against_executable(self):
        c = await self.connect()
        run = await c.run({"argv": ["echo", "x"]})
        self.assertEqual(run.text(), "x\n")
        # Arguments are not shell: operators in them are harmless.
        run = await c.run({"argv": ["echo", "a;b", "$(id)"]})
        self.assertEqual(run.text(), "a;b $(id)\n")
        err = await c.call_error("execute", {"argv": ["ls"]}, code=-32001)
        self.assertIn("ls", err["message"])
        await c.call_error("execute", {"argv": ["bash", "-c", "echo x"]},
                           code=-32001)

    async def test_empty_command_still_reported_as_empty(self):
        c = await self.connect()
        err = await c.call_error("execute", {"command": ""}, code=-32001)
        self.assertEqual(err["message"], "Command cannot be empty")


def processes_started(server):
    """actorexec_processes_started_total from /metrics (no token set)."""
    status, _, body = server.http_get("/metrics")
    assert status == 200, status
    found = re.search(rb"^actorexec_processes_started_total (\d+)$", body,
                      re.MULTILINE)
    return int(found.group(1))


class AllowListBypassTest(ServerTestCase):
    """Issue 25: with `--allowed-commands echo`, each of these ran code of
    the client's choosing. Each payload would create a marker file; each
    request must be refused with nothing started."""

    server_args = ["--allowed-commands", "echo"]

    async def asyncSetUp(self):
        await super().asyncSetUp()
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name
        self.marker = os.path.join(self.dir, "marker")

    async def assert_refused(self, params, code, text, server=None):
        server = server or self.server
        c = await self.connect(server)
        before = processes_started(server)
        err = await c.call_error("execute", params, code=code)
        self.assertIn(text, err["message"])
        # Had anything started, this would be "A process is already
        # running"; once it completed, the counter says it was the only one.
        run = await c.run({"command": "echo still fine"})
        self.assertEqual(run.text(), "still fine\n")
        self.assertEqual(processes_started(server), before + 1)
        self.assertFalse(os.path.exists(self.marker),
                         "the refused request's payload ran")
        return err

    async def test_bash_function_in_env(self):
        payload = f"() {{ touch {self.marker}; }}"
        err = await self.assert_refused(
            {"command": "echo hi", "env": {"BASH_FUNC_echo%%": payload}},
            -32602, "env variable 'BASH_FUNC_echo%%' is not allowed")
        self.assertEqual(
            err["message"],
            "Invalid params: env variable 'BASH_FUNC_echo%%' is not allowed "
            "when ALLOWED_COMMANDS is set: bash imports shell functions "
            "from it")
        # argv is checked alike (the allowed program may be a shell script).
        await self.assert_refused(
            {"argv": ["echo", "hi"], "env": {"BASH_FUNC_echo%%": payload}},
            -32602, "'BASH_FUNC_echo%%'")

    async def test_prompt_transformation(self):
        err = await self.assert_refused(
            {"command": "echo ${x@P}", "env": {"x": f"$(touch {self.marker})"}},
            -32001, "parameter expansion '${x@'")
        self.assertEqual(
            err["message"],
            "Command 'echo ${x@P}' is not allowed: parameter expansion "
            "'${x@' is not permitted when ALLOWED_COMMANDS is set")

    async def test_arithmetic_on_a_subscript(self):
        value = f"a[$(touch {self.marker})0]"
        await self.assert_refused({"command": "echo $[x]", "env": {"x": value}},
                                  -32001, "arithmetic expansion '$['")
        await self.assert_refused(
            {"command": "echo $((x))", "env": {"x": value}},
            -32001, "arithmetic expansion '$(('")
        await self.assert_refused(
            {"command": "echo ${y:x}", "env": {"x": value, "y": "abc"}},
            -32001, "parameter expansion '${y:'")
        await self.assert_refused(
            {"command": "echo ${!x}", "env": {"x": value}},
            -32001, "parameter expansion '${!'")

    async def test_ld_preload(self):
        # No library of ours to preload: the refusal and the counter show
        # that nothing started (before the fix, echo ran with it).
        await self.assert_refused(
            {"argv": ["echo", "hi"],
             "env": {"LD_PRELOAD": os.path.join(self.dir, "evil.so")}},
            -32602, "env variable 'LD_PRELOAD' is not allowed")

    async def test_bash_env(self):
        script = os.path.join(self.dir, "rc")
        with open(script, "w") as f:
            f.write(f"touch {self.marker}\n")
        await self.assert_refused(
            {"command": "echo hi", "env": {"BASH_ENV": script}},
            -32602, "env variable 'BASH_ENV' is not allowed")

    async def test_shellopts_and_ps4(self):
        # bash takes PS4 from the environment only when it does not run as
        # root: as root, the payload runs in a child as nobody.
        server = self.server
        if os.geteuid() == 0 and NOBODY is not None:
            os.chmod(self.dir, 0o777)
            server = self.start_server(*self.server_args, "--run-as", "nobody")
        await self.assert_refused(
            {"command": "echo hi",
             "env": {"SHELLOPTS": "xtrace", "PS4": f"$(touch {self.marker})"}},
            -32602, "env variable 'SHELLOPTS' is not allowed", server)

    async def test_allowed_command_with_harmless_env_runs(self):
        c = await self.connect()
        before = processes_started(self.server)
        # The value is not evaluated: a plain reference only substitutes it.
        value = f"$(touch {self.marker}) `id` ${{x@P}}"
        run = await c.run({"command": "echo \"$GREETING\" '${x@P}; | >'",
                           "env": {"GREETING": value, "LANG": "C"}})
        self.assertEqual(run.text(), value + " ${x@P}; | >\n")
        run = await c.run({"argv": ["echo", "argv"], "env": {"TZ": "UTC"}})
        self.assertEqual(run.text(), "argv\n")
        self.assertEqual(processes_started(self.server), before + 2)
        self.assertFalse(os.path.exists(self.marker))


class AllowedEnvTest(ServerTestCase):
    server_args = ["--allowed-commands", "echo",
                   "--allowed-env", "GREETING, LD_PRELOAD"]

    async def test_only_listed_names_pass(self):
        c = await self.connect()
        run = await c.run({"command": "echo $GREETING",
                           "env": {"GREETING": "hello"}})
        self.assertEqual(run.text(), "hello\n")
        err = await c.call_error("execute", {"command": "echo $OTHER",
                                             "env": {"OTHER": "x"}},
                                 code=-32602)
        self.assertEqual(err["message"],
                         "Invalid params: env variable 'OTHER' is not "
                         "allowed when ALLOWED_COMMANDS is set: it is not "
                         "in --allowed-env")
        # Listing a loader variable does not make it safe.
        err = await c.call_error("execute", {"argv": ["echo"],
                                             "env": {"LD_PRELOAD": "x.so"}},
                                 code=-32602)
        self.assertIn("the dynamic loader", err["message"])


class AllowedEnvAloneTest(unittest.TestCase):
    def test_refused_without_allowed_commands(self):
        srv = Server(["--allowed-env", "GREETING"])
        srv.exit_expected = True
        srv.spawn()
        try:
            self.assertEqual(srv.wait_exit(10), 2)
            self.assertIsNone(srv.port)
        finally:
            srv.stop()
        self.assertIn("--allowed-env needs --allowed-commands",
                      "\n".join(srv.stderr_lines))


class NoAllowListTest(ServerTestCase):
    async def test_everything_allowed_without_list(self):
        c = await self.connect()
        run = await c.run({"command": "echo a; echo b | cat"})
        self.assertEqual(run.text(), "a\nb\n")

    async def test_env_unchecked_without_list(self):
        c = await self.connect()
        run = await c.run({"command": "echo ${x@Q} $IFS_TEST",
                           "env": {"x": "a b", "PS4": "+ ",
                                   "IFS_TEST": "ok"}})
        self.assertEqual(run.text(), "'a b' ok\n")


TOKEN = "s3cret-token-for-tests"


class AuthTokenTest(ServerTestCase):
    start_server_in_setup = False

    async def asyncSetUp(self):
        await super().asyncSetUp()
        fd, self.token_file = tempfile.mkstemp()
        os.write(fd, (TOKEN + "\n").encode())
        os.close(fd)
        self.addCleanup(os.unlink, self.token_file)
        self.server = self.start_server("--auth-token-file", self.token_file)

    async def assert_refused(self, status, **kwargs):
        with self.assertRaises(websockets.InvalidStatusCode) as ctx:
            await self.connect(**kwargs)
        self.assertEqual(ctx.exception.status_code, status)

    async def test_missing_token_401(self):
        await self.assert_refused(401)

    async def test_wrong_token_401(self):
        await self.assert_refused(
            401, extra_headers={"Authorization": "Bearer wrong"})
        await self.assert_refused(401, path="/ws/mcp?token=wrong")
        await self.assert_refused(
            401, extra_headers={"Authorization": "Basic " + TOKEN})

    async def test_bearer_header_accepted(self):
        c = await self.connect(
            extra_headers={"Authorization": f"Bearer {TOKEN}"})
        self.assertTrue((await c.call("ping"))["pong"])

    async def test_query_token_accepted(self):
        c = await self.connect(path=f"/ws/mcp?token={TOKEN}")
        self.assertTrue((await c.call("ping"))["pong"])

    async def test_children_do_not_inherit_the_token(self):
        c = await self.connect(
            extra_headers={"Authorization": f"Bearer {TOKEN}"})
        run = await c.run({"command": "env | grep -c -e s3cret -e "
                                      "'^ACTOREXEC_' || true"})
        self.assertEqual(run.text(), "0\n")


class EnvTokenTest(ServerTestCase):
    server_env = {"ACTOREXEC_AUTH_TOKEN": TOKEN,
                  "ACTOREXEC_LOG_LEVEL": "info"}

    async def test_env_token_required_and_not_inherited(self):
        with self.assertRaises(websockets.InvalidStatusCode) as ctx:
            await self.connect()
        self.assertEqual(ctx.exception.status_code, 401)
        c = await self.connect(
            extra_headers={"Authorization": f"Bearer {TOKEN}"})
        run = await c.run({"command": fake_cmd("--getenv",
                                               "ACTOREXEC_AUTH_TOKEN",
                                               "--getenv",
                                               "ACTOREXEC_LOG_LEVEL")})
        self.assertEqual(run.text(), "ACTOREXEC_AUTH_TOKEN unset\n"
                                     "ACTOREXEC_LOG_LEVEL unset\n")


class OriginTest(ServerTestCase):
    server_args = ["--allowed-origin", "http://good.example",
                   "--allowed-origin", "http://also-good.example:8080"]

    async def test_origin_mismatch_403(self):
        with self.assertRaises(websockets.InvalidStatusCode) as ctx:
            await self.connect(origin="http://evil.example")
        self.assertEqual(ctx.exception.status_code, 403)

    async def test_listed_origins_accepted(self):
        for origin in ("http://good.example", "http://also-good.example:8080"):
            c = await self.connect(origin=origin)
            self.assertTrue((await c.call("ping"))["pong"])


class BindTest(unittest.TestCase):
    def test_non_loopback_without_token_refused(self):
        srv = Server([], host="0.0.0.0")
        srv.exit_expected = True
        srv.spawn()
        try:
            rc = srv.wait_exit(10)
            self.assertIsNotNone(rc, "server listened on 0.0.0.0 without a "
                                     "token or --insecure")
            self.assertNotEqual(rc, 0)
            self.assertIsNone(srv.port)
        finally:
            srv.stop()

    def test_non_loopback_with_insecure_listens(self):
        srv = Server(["--insecure"], host="0.0.0.0")
        try:
            srv.start()
            srv.host = "127.0.0.1"  # reach it over loopback
            self.assertEqual(srv.http_get("/healthz")[0], 200)
        finally:
            srv.stop()


def _nobody():
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        return None


NOBODY = _nobody()
RUN_AS_SKIP = ("--run-as needs the server to run as root"
               if os.geteuid() != 0 else
               "no user 'nobody' on this machine" if NOBODY is None else None)


@unittest.skipIf(RUN_AS_SKIP, RUN_AS_SKIP)
class RunAsTest(ServerTestCase):
    server_args = ["--run-as", "nobody"]

    async def test_child_runs_as_the_user(self):
        c = await self.connect()
        run = await c.run({"command": "id -u; id -g; id -G; "
                                      "echo \"$HOME|$USER|$LOGNAME\""})
        uid, gid, groups, identity = run.text().splitlines()
        self.assertEqual(int(uid), NOBODY.pw_uid)
        self.assertEqual(int(gid), NOBODY.pw_gid)
        self.assertNotIn("0", groups.split())  # root's group is gone
        self.assertEqual(identity, f"{NOBODY.pw_dir}|nobody|nobody")
        # The request's env still wins over the user's HOME.
        run = await c.run({"command": "echo $HOME", "env": {"HOME": "/tmp"}})
        self.assertEqual(run.text(), "/tmp\n")

    async def test_child_cannot_signal_server_or_write_root_files(self):
        c = await self.connect()
        with tempfile.TemporaryDirectory() as d:
            os.chmod(d, 0o755)
            path = os.path.join(d, "root-owned")
            with open(path, "w") as f:
                f.write("original\n")
            os.chmod(path, 0o644)  # owner root
            pid = self.server.pid
            run = await c.run({"argv": [
                "/bin/sh", "-c",
                f"kill -0 $$; echo self=$?; kill -0 {pid} 2>/dev/null; "
                f"echo server=$?; (echo pwned > {path}) 2>/dev/null; "
                f"echo write=$?"]})
            lines = run.text().splitlines()
            self.assertEqual(lines[0], "self=0")  # kill itself works
            self.assertNotEqual(lines[1], "server=0", "signalled the server")
            self.assertNotEqual(lines[2], "write=0", "wrote a root file")
            with open(path) as f:
                self.assertEqual(f.read(), "original\n")
        self.assertTrue(self.server.running())


class RunAsRefusedTest(unittest.TestCase):
    def refused(self, srv, message):
        srv.exit_expected = True
        srv.spawn()
        try:
            rc = srv.wait_exit(10)
            self.assertIsNotNone(rc, "server started despite a bad --run-as")
            self.assertEqual(rc, 2)
            self.assertIsNone(srv.port)
            srv.stop()
            self.assertIn(message, "\n".join(srv.stderr_lines))
        finally:
            srv.stop()

    @unittest.skipIf(os.geteuid() != 0, "as non-root every --run-as is "
                     "refused for that reason (tested below)")
    def test_unknown_user_refused(self):
        self.refused(Server(["--run-as", "no-such-user-actorexec"]),
                     "no such user 'no-such-user-actorexec'")

    def test_refused_when_not_root(self):
        srv = Server(["--run-as", "nobody"])
        if os.geteuid() == 0:
            if NOBODY is None:
                self.skipTest("no user 'nobody' to run the server as")
            # Run the server itself as nobody.
            base = srv.command
            srv.command = lambda: ["setpriv", f"--reuid={NOBODY.pw_uid}",
                                   f"--regid={NOBODY.pw_gid}",
                                   "--clear-groups", *base()]
        self.refused(srv, "needs the server to run as root")


if __name__ == "__main__":
    main()
