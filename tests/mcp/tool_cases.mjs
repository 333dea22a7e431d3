// The tool tests that hold over either transport: defineToolTests('http')
// runs them with StreamableHTTPClientTransport (sdk_http.test.mjs),
// defineToolTests('ws') with WebSocketClientTransport (sdk_ws.test.mjs).
// One server per transport file; each test opens its own client.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

import { EmptyResultSchema, ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';

import {
  TOOL_NAMES, callTool, callToolError, connect, disconnect, firstDifference,
  killPid, pidAlive, procStat, readToEof, startServer, tickerCommand, tickerOutput,
  tmpPath, waitPidsGone, waitUntil, withTimeout, REQUEST_TIMEOUT,
} from './harness.mjs';

// Cancellation and timeouts escalate TERM -> KILL after this grace; short,
// so a child that ignores SIGTERM still goes within the tests' bounds.
export const SERVER_ARGS = ['--cancel-grace-ms', '2000'];

/** Asserts that `promise` rejects with a JSON-RPC error `code`. */
export async function assertRpcError(promise, code, what) {
  let err;
  try {
    const value = await promise;
    assert.fail(`${what}: expected JSON-RPC error ${code}, got a result: ${JSON.stringify(value).slice(0, 300)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  assert.ok(err instanceof McpError, `${what}: expected an McpError ${code}, got ${err?.stack ?? err}`);
  assert.equal(err.code, code, `${what}: error code (message: ${err.message})`);
  return err;
}

/** The pid a shell wrote to `file` (a background child of a command). */
async function pidFromFile(file, ms = REQUEST_TIMEOUT) {
  const text = await waitUntil(() => {
    try {
      const t = fs.readFileSync(file, 'utf8');
      return t.endsWith('\n') ? t : null;
    } catch {
      return null;
    }
  }, ms);
  assert.ok(text, `the command did not write its child's pid to ${file} within ${ms} ms`);
  return Number(text.trim());
}

export function defineToolTests(kind) {
  describe(`MCP tools over ${kind === 'ws' ? 'WebSocket' : 'Streamable HTTP'}`, () => {
    let server;
    let conn;
    const leftPids = [];

    before(async () => {
      server = await startServer(SERVER_ARGS);
    });

    after(async () => {
      for (const pid of leftPids) killPid(pid);
      const problems = server ? await server.stop() : [];
      assert.deepEqual(problems, [], 'the server ran and stopped cleanly');
    });

    afterEach(async () => {
      await disconnect(conn);
      conn = undefined;
    });

    /** A connected client whose tool list is cached, so that the SDK checks
     * every structuredContent against the tool's outputSchema. */
    async function client() {
      conn = await connect(kind, server);
      await conn.client.listTools(undefined, { timeout: REQUEST_TIMEOUT });
      return conn.client;
    }

    it('initialize: serverInfo actorexec, tools and logging capabilities, instructions', async () => {
      conn = await connect(kind, server);
      const info = conn.client.getServerVersion();
      assert.equal(info?.name, 'actorexec');
      assert.equal(typeof info.version, 'string');
      assert.ok(info.version.length > 0, 'serverInfo.version is not empty');
      const caps = conn.client.getServerCapabilities();
      assert.ok(caps?.tools, `capabilities.tools: ${JSON.stringify(caps)}`);
      assert.notEqual(caps.tools.listChanged, true, 'tools.listChanged is false');
      assert.ok(caps.logging, `capabilities.logging: ${JSON.stringify(caps)}`);
      const instructions = conn.client.getInstructions();
      assert.equal(typeof instructions, 'string');
      assert.ok(instructions.length > 20, `instructions say how to use the tools: ${instructions}`);
    });

    it('tools/list: the five tools, each with description, inputSchema, outputSchema, annotations', async () => {
      conn = await connect(kind, server);
      const { tools } = await conn.client.listTools(undefined, { timeout: REQUEST_TIMEOUT });
      assert.deepEqual(tools.map((t) => t.name).sort(), TOOL_NAMES);
      for (const t of tools) {
        assert.equal(typeof t.description, 'string', `${t.name}.description`);
        assert.ok(t.description.length > 0, `${t.name}.description is not empty`);
        assert.equal(t.inputSchema?.type, 'object', `${t.name}.inputSchema.type`);
        assert.equal(t.outputSchema?.type, 'object', `${t.name}.outputSchema.type`);
        assert.equal(typeof t.annotations, 'object', `${t.name}.annotations`);
        assert.ok(t.annotations !== null, `${t.name}.annotations`);
      }
      const run = tools.find((t) => t.name === 'run_command');
      for (const p of ['command', 'argv', 'cwd', 'env', 'stdin', 'timeout_s', 'wait_s', 'max_output_bytes', 'on_overflow']) {
        assert.ok(run.inputSchema.properties?.[p], `run_command.inputSchema has ${p}`);
      }
      for (const p of ['process_id', 'pid', 'status', 'exit_code', 'stdout', 'stderr', 'cursor']) {
        assert.ok(run.outputSchema.properties?.[p], `run_command.outputSchema has ${p}`);
      }
    });

    it('run_command echo hello: exited, exit_code 0, stdout "hello\\n"', async () => {
      const c = await client();
      const r = await callTool(c, 'run_command', { command: 'echo hello' });
      assert.equal(r.status, 'exited');
      assert.equal(r.exit_code, 0);
      assert.equal(r.stdout, 'hello\n');
      assert.equal(r.stderr, '');
      assert.equal(typeof r.process_id, 'string');
      assert.ok(Number.isInteger(r.pid) && r.pid > 0, `pid ${r.pid}`);
      assert.ok(r.cursor !== undefined, 'a cursor');
    });

    it('run_command: a failing command reports its exit code', async () => {
      const c = await client();
      const r = await callTool(c, 'run_command', { command: 'echo about to fail; exit 3' });
      assert.equal(r.status, 'exited');
      assert.equal(r.exit_code, 3);
      assert.equal(r.stdout, 'about to fail\n');
    });

    it('run_command: stderr is captured apart from stdout', async () => {
      const c = await client();
      const r = await callTool(c, 'run_command', { command: 'echo out; echo err >&2; echo out2' });
      assert.equal(r.exit_code, 0);
      assert.equal(r.stdout, 'out\nout2\n');
      assert.equal(r.stderr, 'err\n');
    });

    it('run_command argv form: no shell splitting or expansion', async () => {
      const c = await client();
      const r = await callTool(c, 'run_command', { argv: ['printf', '%s|', 'a b', '$HOME', '*'] });
      assert.equal(r.status, 'exited');
      assert.equal(r.exit_code, 0);
      assert.equal(r.stdout, 'a b|$HOME|*|');
    });

    it('run_command: cwd, env and stdin', async () => {
      const c = await client();
      const r = await callTool(c, 'run_command', {
        command: 'pwd; echo "$MCP_TEST_VAR"; cat', cwd: '/tmp', env: { MCP_TEST_VAR: 'from env' }, stdin: 'from stdin\n',
      });
      assert.equal(r.exit_code, 0);
      assert.equal(r.stdout, '/tmp\nfrom env\nfrom stdin\n');
    });

    it('run_command timeout_s: a command past its timeout is timed_out', async () => {
      const c = await client();
      const r = await callTool(c, 'run_command', { command: 'sleep 100', timeout_s: 1, wait_s: 30 }, { timeout: 45_000 });
      leftPids.push(r.pid);
      assert.equal(r.status, 'timed_out');
      assert.deepEqual(await waitPidsGone([r.pid]), [], 'the timed-out process is gone');
    });

    it('read_output pages a 200,000-line output to eof: byte-exact, each byte once, in order', async () => {
      const c = await client();
      const expected = Array.from({ length: 200_000 }, (_, i) => `${i + 1}\n`).join('');
      // wait_s 1: the child soon blocks on its unread output (on_overflow
      // block); waiting the default 10 s would only make the test slower.
      const r = await callTool(c, 'run_command', { command: 'seq 1 200000', wait_s: 1 });
      leftPids.push(r.pid);
      assert.equal(r.stderr, '');
      const first = r.stdout;
      assert.ok(first.length <= expected.length);
      const rest = await readToEof(c, r.process_id, r.cursor);
      const got = first + rest.stdout;
      const diff = firstDifference(got, expected);
      assert.equal(diff, null, `stdout of seq 1 200000 over ${rest.pages} read_output pages: ${diff}`);
      assert.equal(rest.stderr, '');
      assert.equal(rest.last.eof, true);
      assert.equal(rest.last.status, 'exited');
      assert.equal(rest.last.exit_code, 0);
      assert.equal(r.dropped_bytes + rest.dropped, 0, 'nothing dropped (on_overflow block)');
      // Past eof there is nothing more.
      const again = await callTool(c, 'read_output', { process_id: r.process_id, cursor: rest.cursor, wait_s: 0 });
      assert.equal(again.stdout, '');
      assert.equal(again.eof, true);
    });

    it('read_output without a cursor reads from the start', async () => {
      const c = await client();
      // Nothing is printed before the input comes, so run_command's own
      // page is empty and every byte is still there to read.
      const r = await callTool(c, 'run_command', { command: 'cat; echo two >&2; echo three', wait_s: 0 });
      leftPids.push(r.pid);
      assert.equal(r.stdout + r.stderr, '', 'no output before the input');
      await callTool(c, 'send_input', { process_id: r.process_id, data: 'one\n', eof: true });
      const all = await readToEof(c, r.process_id, undefined);
      assert.equal(all.stdout, 'one\nthree\n');
      assert.equal(all.stderr, 'two\n');
    });

    it('on_overflow drop_oldest: the oldest output is dropped and counted', async () => {
      const c = await client();
      // 6.9 MB: more than any retention limit of the server keeps.
      const expected = Array.from({ length: 1_000_000 }, (_, i) => `${i + 1}\n`).join('');
      const r = await callTool(c, 'run_command', {
        command: 'seq 1 1000000', max_output_bytes: 65536, on_overflow: 'drop_oldest', wait_s: 60,
      }, { timeout: 75_000 });
      leftPids.push(r.pid);
      // Not blocked on a reader: it ends without one.
      assert.equal(r.status, 'exited', 'seq ends without anybody reading its output');
      assert.equal(r.exit_code, 0);
      const rest = await readToEof(c, r.process_id, r.cursor);
      // run_command's page and each read_output page count the bytes
      // dropped before their own.
      const dropped = r.dropped_bytes + rest.dropped;
      assert.ok(dropped > 0, `dropped_bytes ${dropped}`);
      const got = r.stdout + rest.stdout;
      assert.equal(got.length + dropped, expected.length, 'what was read plus what was dropped is the whole output');
      assert.ok(expected.endsWith(got), `the bytes kept are the newest ones, in order: ${firstDifference(got, expected.slice(expected.length - got.length))}`);
    });

    it('send_input and eof: cat echoes what it was sent, then exits', async () => {
      const c = await client();
      const r = await callTool(c, 'run_command', { command: 'cat', wait_s: 0 });
      leftPids.push(r.pid);
      assert.equal(r.status, 'running');
      const a = await callTool(c, 'send_input', { process_id: r.process_id, data: 'line one\nline two\n' });
      assert.equal(a.accepted_bytes, 18);
      assert.equal(a.stdin_open, true);
      const b = await callTool(c, 'send_input', { process_id: r.process_id, data: 'last', eof: true });
      assert.equal(b.accepted_bytes, 4);
      assert.equal(b.stdin_open, false);
      const rest = await readToEof(c, r.process_id, r.cursor);
      assert.equal(r.stdout + rest.stdout, 'line one\nline two\nlast');
      assert.equal(rest.last.status, 'exited');
      assert.equal(rest.last.exit_code, 0);
    });

    it('list_processes lists the runs of the session with their fields', async () => {
      const c = await client();
      const r = await callTool(c, 'run_command', { command: 'echo listed' });
      const l = await callTool(c, 'list_processes', {});
      assert.ok(Array.isArray(l.processes));
      const p = l.processes.find((x) => x.process_id === r.process_id);
      assert.ok(p, `process ${r.process_id} in ${JSON.stringify(l.processes).slice(0, 500)}`);
      assert.equal(p.pid, r.pid);
      assert.equal(p.status, 'exited');
      assert.equal(p.exit_code, 0);
      assert.equal(p.stdout_bytes, 'listed\n'.length);
      assert.equal(p.stderr_bytes, 0);
      assert.ok(String(p.command).includes('echo listed'), `command ${p.command}`);
      assert.ok(p.started_at, 'started_at');
    });

    for (const action of ['cancel', 'kill']) {
      it(`signal_process ${action}: the process and its children are gone`, async () => {
        const c = await client();
        const pidFile = tmpPath('child.pid');
        const r = await callTool(c, 'run_command', { command: `sleep 100 & echo $! > ${pidFile}; wait`, wait_s: 0 });
        leftPids.push(r.pid);
        assert.equal(r.status, 'running');
        const child = await pidFromFile(pidFile);
        leftPids.push(child);
        assert.ok(pidAlive(r.pid), 'the shell runs');
        assert.ok(pidAlive(child), 'its sleep runs');
        const s = await callTool(c, 'signal_process', { process_id: r.process_id, action });
        assert.equal(s.pid, r.pid);
        assert.equal(typeof s.status, 'string');
        assert.deepEqual(await waitPidsGone([r.pid, child]), [], `no process left after ${action}`);
        const end = await readToEof(c, r.process_id, r.cursor);
        assert.equal(end.last.eof, true);
        assert.equal(end.last.status, 'killed');
      });
    }

    it('signal_process pause and resume', async () => {
      const c = await client();
      // `exec`: the leader is `sleep` itself. sh may vfork it instead, and a
      // SIGSTOP between that vfork and the exec leaves the leader waiting in
      // state D (not T) for its stopped child.
      const r = await callTool(c, 'run_command', { command: 'exec sleep 100', wait_s: 0 });
      leftPids.push(r.pid);
      await callTool(c, 'signal_process', { process_id: r.process_id, action: 'pause' });
      assert.ok(await waitUntil(() => ['T', 't'].includes(procStateOf(r.pid)), 10_000), `stopped after pause: ${JSON.stringify(procStat(r.pid))}`);
      await callTool(c, 'signal_process', { process_id: r.process_id, action: 'resume' });
      assert.ok(await waitUntil(() => ['S', 'R'].includes(procStateOf(r.pid)), 10_000), 'running after resume');
      await callTool(c, 'signal_process', { process_id: r.process_id, action: 'kill' });
      assert.deepEqual(await waitPidsGone([r.pid]), []);
    });

    it('notifications/cancelled for a waiting run_command kills its process tree', async () => {
      const c = await client();
      const pidFile = tmpPath('cancelled.pid');
      const marker = `cancel-me-${Date.now()}`;
      const abort = new AbortController();
      const call = c.callTool({
        name: 'run_command',
        arguments: { command: `echo ${marker}; sleep 100 & echo $! > ${pidFile}; wait`, wait_s: 120 },
      }, undefined, { signal: abort.signal, timeout: 150_000 });
      const settled = call.then(() => 'result', (e) => e);
      const child = await pidFromFile(pidFile);
      leftPids.push(child);
      // The shell's own pid, from a second request while the first waits.
      const listed = await waitUntil(async () => {
        const l = await callTool(c, 'list_processes', {});
        return l.processes.find((p) => String(p.command).includes(marker));
      }, REQUEST_TIMEOUT, 100);
      assert.ok(listed, 'the waiting run is in list_processes');
      leftPids.push(listed.pid);
      assert.ok(pidAlive(listed.pid) && pidAlive(child), 'the tree runs before the cancel');
      abort.abort('test cancels');
      const outcome = await withTimeout(settled, 10_000, 'the aborted callTool');
      assert.notEqual(outcome, 'result', 'the aborted call does not resolve');
      assert.deepEqual(await waitPidsGone([listed.pid, child]), [], 'no process left after notifications/cancelled');
    });

    it('progress: a waiting call with a progressToken gets growing progress with the latest line', async () => {
      const c = await client();
      const progress = [];
      const r = await callTool(c, 'run_command', { command: tickerCommand(15, 200), wait_s: 60 }, {
        timeout: 90_000, onprogress: (p) => progress.push(p),
      });
      assert.equal(r.status, 'exited');
      assert.equal(r.stdout, tickerOutput(15));
      assert.ok(progress.length >= 2, `at least 2 progress notifications, got ${JSON.stringify(progress)}`);
      let lastTick = 0;
      for (let i = 0; i < progress.length; i++) {
        const p = progress[i];
        if (i > 0) assert.ok(p.progress > progress[i - 1].progress, `progress grows: ${JSON.stringify(progress)}`);
        assert.ok(p.progress <= r.stdout.length, `progress (bytes seen) ${p.progress} <= ${r.stdout.length}`);
        const m = /^tick (\d+)\n?$/.exec(p.message ?? '');
        assert.ok(m, `message is the latest line: ${JSON.stringify(p)}`);
        const n = Number(m[1]);
        assert.ok(n >= lastTick, `messages follow the output: ${JSON.stringify(progress)}`);
        lastTick = n;
      }
    });

    it('ping and logging/setLevel answer {}', async () => {
      conn = await connect(kind, server);
      assert.deepEqual(await conn.client.ping({ timeout: REQUEST_TIMEOUT }), {});
      assert.deepEqual(await conn.client.setLoggingLevel('info', { timeout: REQUEST_TIMEOUT }), {});
      assert.deepEqual(await conn.client.setLoggingLevel('debug', { timeout: REQUEST_TIMEOUT }), {});
    });

    it('an unknown method is JSON-RPC error -32601', async () => {
      conn = await connect(kind, server);
      await assertRpcError(conn.client.request({ method: 'no/such-method', params: {} }, EmptyResultSchema,
        { timeout: REQUEST_TIMEOUT }), ErrorCode.MethodNotFound, 'no/such-method');
    });

    it('tools/call of an unknown tool is JSON-RPC error -32602', async () => {
      const c = await client();
      await assertRpcError(c.callTool({ name: 'no_such_tool', arguments: {} }, undefined, { timeout: REQUEST_TIMEOUT }),
        ErrorCode.InvalidParams, 'no_such_tool');
    });

    it('wrong argument types are JSON-RPC error -32602', async () => {
      const c = await client();
      const cases = [
        ['run_command', { command: 42 }],
        ['run_command', { argv: 'echo not an array' }],
        ['run_command', { command: 'echo x', wait_s: 'soon' }],
        ['run_command', {}],
        ['read_output', { process_id: 7 }],
        ['send_input', { process_id: 'p', data: 5 }],
        ['signal_process', { process_id: 'p', action: 'explode' }],
      ];
      for (const [name, args] of cases) {
        await assertRpcError(c.callTool({ name, arguments: args }, undefined, { timeout: REQUEST_TIMEOUT }),
          ErrorCode.InvalidParams, `${name} ${JSON.stringify(args)}`);
      }
    });

    it('tool errors are results with isError and a one-line reason', async () => {
      const c = await client();
      for (const [name, args] of [
        ['read_output', { process_id: 'no-such-process' }],
        ['send_input', { process_id: 'no-such-process', data: 'x' }],
        ['signal_process', { process_id: 'no-such-process', action: 'kill' }],
      ]) {
        const text = await callToolError(c, name, args);
        assert.ok(!text.trim().includes('\n'), `${name}: one line: ${JSON.stringify(text)}`);
      }
    });
  });
}

function procStateOf(pid) {
  try {
    const raw = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return raw.slice(raw.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return null;
  }
}
