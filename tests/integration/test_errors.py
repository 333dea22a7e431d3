#!/usr/bin/python3
"""Errors (spec sections 2 and 8): parse error, batch, non-object, missing
method, unknown method, invalid params naming the param, empty command, a
second execute while one runs, control/input with no process, the error
object's shape; the connection stays open after each."""

import unittest

from harness import ProcessRun, NO_ID, ServerTestCase, fake_cmd, main


class ErrorTest(ServerTestCase):
    async def assert_still_open(self, c):
        self.assertTrue((await c.call("ping"))["pong"])

    def assert_error_shape(self, frame, code):
        self.assertEqual(frame.get("jsonrpc"), "2.0", frame)
        self.assertNotIn("result", frame)
        err = frame.get("error")
        self.assertIsInstance(err, dict, frame)
        self.assertEqual(err.get("code"), code, frame)
        self.assertIsInstance(err.get("message"), str, frame)
        self.assertIn("data", err, frame)
        self.assertTrue(err["data"] is None or isinstance(err["data"], dict),
                        frame)
        return err

    async def next_response(self, c):
        return await c.wait_for(lambda f: "method" not in f
                                and ("error" in f or "result" in f))

    async def test_parse_error(self):
        c = await self.connect()
        for text in ("{not json", '{"jsonrpc":"2.0","method":"ping","id":1',
                     "", "\u00e9"):
            await c.send_raw(text)
            f = await self.next_response(c)
            self.assert_error_shape(f, -32700)
            self.assertNotIn("id", f, "parse error must not carry an id")
        await self.assert_still_open(c)

    async def test_batch_rejected(self):
        c = await self.connect()
        await c.send_raw('[{"jsonrpc":"2.0","method":"ping","id":1},'
                         '{"jsonrpc":"2.0","method":"ping","id":2}]')
        f = await self.next_response(c)
        self.assert_error_shape(f, -32600)
        await self.assert_still_open(c)

    async def test_non_object(self):
        c = await self.connect()
        for text in ("42", '"execute"', "null", "true", "[]"):
            await c.send_raw(text)
            f = await self.next_response(c)
            self.assert_error_shape(f, -32600)
        await self.assert_still_open(c)

    async def test_missing_method(self):
        c = await self.connect()
        await c.send({"jsonrpc": "2.0", "id": 5, "params": {}})
        f = await self.next_response(c)
        self.assert_error_shape(f, -32600)
        self.assertEqual(f.get("id"), 5)
        await c.send({"jsonrpc": "2.0", "id": "m", "method": 17})
        f = await self.next_response(c)
        self.assert_error_shape(f, -32600)
        self.assertEqual(f.get("id"), "m")
        await self.assert_still_open(c)

    async def test_unknown_method(self):
        c = await self.connect()
        resp = await c.request("frobnicate", {}, id=7)
        err = self.assert_error_shape(resp, -32601)
        self.assertEqual(err["message"], "Unknown method: frobnicate")
        self.assertEqual(resp["id"], 7)
        resp = await c.request("Execute", {"command": "echo x"}, id="case")
        err = self.assert_error_shape(resp, -32601)
        self.assertEqual(err["message"], "Unknown method: Execute")
        await self.assert_still_open(c)

    async def test_unknown_notification_ignored(self):
        c = await self.connect()
        await c.send(c.message("some.notification", {"x": 1}, id=NO_ID))
        await c.send(c.message("ping", id="after"))
        f = await self.next_response(c)
        self.assertEqual(f.get("id"), "after", f)

    async def test_invalid_execute_params(self):
        c = await self.connect()
        cases = [
            ({"command": 5}, "command"),
            ({"command": ["echo", "x"]}, "command"),
            ({"command": "echo x", "timeout": "soon"}, "timeout"),
            ({"command": "echo x", "timeout": -1}, "timeout"),
            ({"command": "echo x", "idle_timeout": "x"}, "idle_timeout"),
            ({"argv": "echo x"}, "argv"),
            ({"argv": ["echo", 1]}, "argv"),
            ({"command": "echo x", "cwd": 5}, "cwd"),
            ({"command": "echo x", "env": ["A=1"]}, "env"),
            ({"command": "echo x", "env": {"A": 1}}, "env"),
            ({"command": "echo x", "stdin": "yes"}, "stdin"),
            ({"command": "echo x", "framing": "bytes"}, "framing"),
            ({"command": "echo x", "on_overflow": "explode"}, "on_overflow"),
        ]
        for params, name in cases:
            err = await c.call_error("execute", params, code=-32602)
            self.assertIn(name, err["message"], f"{params}: {err}")
        await c.call_error("execute", [1, 2], code=-32602)
        # Nothing was started by any of these.
        self.assertEqual((await c.call("status"))["process"], None)
        await self.assert_still_open(c)

    async def test_invalid_control_params(self):
        # With a process running, so that only the params can be at fault.
        c = await self.connect()
        run = await c.start({"command": fake_cmd("--sleep-ms", 20000)})
        for params in ({"type": "STOP"}, {}, {"type": 3}):
            err = await c.call_error("control", params, code=-32602)
            self.assertIn("type", err["message"], f"{params}: {err}")
        await c.call("control", {"type": "CANCEL"})
        await c.collect(run)
        self.assertEqual(run.completed["status"], "canceled")

    async def test_empty_command(self):
        c = await self.connect()
        err = await c.call_error("execute", {"command": ""}, code=-32001)
        self.assertEqual(err["message"], "Command cannot be empty")
        err = await c.call_error("execute", {"command": "   "}, code=-32001)
        self.assertEqual(err["message"], "Command cannot be empty")
        # No command at all, or an empty argv: refused, as -32001 or -32602.
        for params in ({}, {"argv": []}, {"timeout": 5}):
            resp = await c.request("execute", params)
            self.assertIn("error", resp, f"{params}: {resp}")
            self.assertIn(resp["error"]["code"], (-32001, -32602), resp)
        await self.assert_still_open(c)

    async def test_second_execute_while_running(self):
        c = await self.connect()
        run = await c.start({"command": fake_cmd("--sleep-ms", 1000,
                                                   "--text", "first")})
        err = await c.call_error("execute", {"command": "echo second"},
                                 code=-32602)
        self.assertEqual(err["message"], "A process is already running")
        await c.collect(run)
        self.assertCompleted(run)
        self.assertEqual(run.text(), "first\n")
        self.assertNotIn("process.started", run.methods()[1:])
        # Allowed again once the process completed.
        run = await c.run({"command": "echo third"})
        self.assertEqual(run.text(), "third\n")

    async def test_no_process(self):
        c = await self.connect()
        for t in ("PAUSE", "RESUME", "CANCEL"):
            err = await c.call_error("control", {"type": t}, code=-32002)
            self.assertIsInstance(err["message"], str)
        await c.call_error("input", {"data": "x"}, code=-32002)
        await self.assert_still_open(c)

    async def test_error_ids_echoed(self):
        c = await self.connect()
        resp = await c.request("nope", id="str-id")
        self.assertEqual(resp["id"], "str-id")
        resp = await c.request("nope", id=99)
        self.assertEqual(resp["id"], 99)
        # An error of a known method sent without id: no id key.
        resp = await c.request("control", {"type": "PAUSE"}, id=NO_ID)
        self.assertNotIn("id", resp)
        self.assert_error_shape(resp, -32002)


class UnknownParamsTest(ServerTestCase):
    """Issue 26: a misspelt param is named in the response and the log."""

    async def test_warned_and_ignored(self):
        c = await self.connect()
        res = await c.call("execute", {"command": "echo ok", "timout": 0.1})
        self.assertEqual(res["status"], "started")
        self.assertEqual(res["warnings"],
                         ["unknown param 'timout' was ignored"])
        run = await c.collect(ProcessRun())
        self.assertCompleted(run)
        self.server.wait_log(lambda e: e["event"] == "unknown_params" and
                             e["params"] == ["timout"] and
                             e["method"] == "execute", timeout=5)
        ack = await c.call("ack", {"seq": 1, "sequence": 2})
        self.assertEqual(ack["warnings"],
                         ["unknown param 'sequence' was ignored"])
        # Without unknown params, no warnings key.
        res = await c.call("execute", {"command": "true"})
        self.assertNotIn("warnings", res)
        await c.collect(ProcessRun())


class StrictParamsTest(ServerTestCase):
    server_args = ["--strict-params"]

    async def test_refused_and_nothing_runs(self):
        c = await self.connect()
        err = await c.call_error("execute", {"command": "echo ok",
                                             "timout": 0.1, "colour": 1},
                                 code=-32602)
        self.assertEqual(err["message"],
                         "Invalid params: unknown param 'timout'")
        self.assertEqual(err["data"], {"unknown_params": ["timout", "colour"]})
        status = await c.call("status")
        self.assertIsNone(status["process"])
        res = await c.call("execute", {"command": "true"})
        self.assertEqual(res["status"], "started")
        await c.collect(ProcessRun())


if __name__ == "__main__":
    main()
