// ctest mcp_sdk_http: the tools through the official SDK client over
// Streamable HTTP (http://127.0.0.1:PORT/mcp), then what only HTTP has:
// sessions found again by Mcp-Session-Id, DELETE and expiry killing a
// session's processes, and a dropped SSE stream resumed by the SDK.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';

import {
  ACCEPT_BOTH, REQUEST_TIMEOUT, callTool, childrenOf, connectHttp, disconnect, httpRequest, httpSuite, killPid,
  pidAlive, startServer, tickerCommand, tickerOutput, waitPidsGone, waitUntil,
} from './harness.mjs';
import { SERVER_ARGS, defineToolTests } from './tool_cases.mjs';

defineToolTests('http');

/** A loopback TCP proxy to `server` that cuts, once, the connection that
 * carries a tools/call with a progressToken, right after it forwarded the
 * first progress notification of its SSE answer. Records the requests that
 * carry Last-Event-ID (the client's resumption). */
class CuttingProxy {
  constructor(server) {
    this.server = server;
    this.cut = false;
    this.resumeRequests = [];
    this.sockets = new Set();
  }

  start() {
    this.listener = net.createServer((sock) => this._connection(sock));
    return new Promise((resolve, reject) => {
      this.listener.once('error', reject);
      this.listener.listen(0, '127.0.0.1', () => {
        this.port = this.listener.address().port;
        resolve(this);
      });
    });
  }

  url() { return `http://127.0.0.1:${this.port}/mcp`; }

  _connection(client) {
    const upstream = net.connect(this.server.port, '127.0.0.1');
    this.sockets.add(client);
    this.sockets.add(upstream);
    let victim = false;
    const closeBoth = () => { client.destroy(); upstream.destroy(); };
    client.on('data', (d) => {
      const text = d.toString('latin1');
      if (!this.cut && text.includes('"tools/call"') && text.includes('progressToken')) victim = true;
      const m = /^last-event-id:\s*(.*)$/im.exec(text);
      if (m) this.resumeRequests.push(m[1].trim());
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (victim && !this.cut && d.toString('latin1').includes('notifications/progress')) {
        this.cut = true;
        client.write(d, closeBoth);
        return;
      }
      client.write(d);
    });
    for (const s of [client, upstream]) {
      s.on('error', closeBoth);
      s.on('close', () => { closeBoth(); this.sockets.delete(s); });
    }
  }

  close() {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.listener.close(() => resolve()));
  }
}

describe('MCP sessions and streams over Streamable HTTP (SDK client)', () => {
  const suite = httpSuite(SERVER_ARGS);
  const { open, leftPids } = suite;

  async function statusOfSession(sessionId) {
    const r = await httpRequest(suite.server(), {
      headers: { Accept: ACCEPT_BOTH, 'Mcp-Session-Id': sessionId, 'MCP-Protocol-Version': '2025-06-18' },
      body: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} },
    });
    return r.status;
  }

  it('a second client with the same Mcp-Session-Id finds the processes of the first', async () => {
    const a = await open();
    const sessionId = a.transport.sessionId;
    assert.ok(sessionId, 'initialize issued an Mcp-Session-Id');
    const run = await callTool(a.client, 'run_command', { command: 'echo started; sleep 100', wait_s: 0 });
    leftPids.push(run.pid);
    assert.equal(run.status, 'running');
    // The first client goes away without DELETE: its session lingers.
    await disconnect(a, { terminate: false });
    assert.ok(pidAlive(run.pid), 'the process outlives the first client');

    const b = await open({ sessionId, protocolVersion: a.transport.protocolVersion });
    const listed = await callTool(b.client, 'list_processes', {});
    const p = listed.processes.find((x) => x.process_id === run.process_id);
    assert.ok(p, `the second client lists ${run.process_id}: ${JSON.stringify(listed.processes).slice(0, 500)}`);
    assert.equal(p.pid, run.pid);
    assert.equal(p.status, 'running');
    // Where the first client's page ended, the second one goes on reading.
    let stdout = run.stdout;
    let cursor = run.cursor;
    let last = null;
    await waitUntil(async () => {
      last = await callTool(b.client, 'read_output', { process_id: run.process_id, cursor, wait_s: 2 });
      stdout += last.stdout;
      cursor = last.cursor;
      return stdout.length >= 'started\n'.length;
    }, REQUEST_TIMEOUT);
    assert.equal(stdout, 'started\n', 'the second client reads the output of the first one\'s process');
    assert.equal(last.eof, false);

    // DELETE ends the session and kills its processes.
    await b.transport.terminateSession();
    assert.deepEqual(await waitPidsGone([run.pid]), [], 'no process left after DELETE');
    assert.equal(await statusOfSession(sessionId), 404, 'an ended session is unknown');
  });

  it('DELETE kills the process tree of every run of the session', async () => {
    const a = await open();
    const runs = [];
    for (let i = 0; i < 3; i++) {
      const r = await callTool(a.client, 'run_command', { command: 'sleep 100 & sleep 100; wait', wait_s: 0 });
      leftPids.push(r.pid);
      runs.push(r);
    }
    // Each shell forks two sleeps.
    const forked = await waitUntil(() => runs.every((r) => childrenOf(r.pid).length === 2), REQUEST_TIMEOUT);
    assert.ok(forked, 'each run forked its two children');
    const children = runs.flatMap((r) => childrenOf(r.pid));
    children.forEach((pid) => leftPids.push(pid));
    await a.transport.terminateSession();
    assert.deepEqual(await waitPidsGone([...runs.map((r) => r.pid), ...children]), [], 'no orphan after DELETE');
  });

  it('a dropped SSE stream is resumed with Last-Event-ID and nothing is lost', async () => {
    const proxy = await new CuttingProxy(suite.server()).start();
    try {
      const a = await open({
        url: proxy.url(),
        reconnectionOptions: { initialReconnectionDelay: 100, maxReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1.5, maxRetries: 5 },
      });
      await a.client.listTools(undefined, { timeout: REQUEST_TIMEOUT });
      const progress = [];
      const r = await callTool(a.client, 'run_command', { command: tickerCommand(15, 200), wait_s: 60 }, {
        timeout: 90_000, onprogress: (p) => progress.push(p),
      });
      assert.ok(proxy.cut, 'the proxy cut the SSE answer of the call');
      assert.ok(proxy.resumeRequests.length >= 1, 'the SDK reconnected with Last-Event-ID');
      assert.equal(r.status, 'exited');
      assert.equal(r.stdout, tickerOutput(15), 'the call\'s result arrived whole after the resumption');
      for (let i = 1; i < progress.length; i++) {
        assert.ok(progress[i].progress > progress[i - 1].progress,
          `each progress notification once, in order: ${JSON.stringify(progress)}`);
      }
    } finally {
      await proxy.close();
    }
  });
});

describe('session expiry (--session-linger-ms)', () => {
  let server;
  const leftPids = [];

  before(async () => {
    server = await startServer([...SERVER_ARGS, '--session-linger-ms', '1000']);
  });

  after(async () => {
    for (const pid of leftPids) killPid(pid);
    const problems = server ? await server.stop() : [];
    assert.deepEqual(problems, [], 'the server ran and stopped cleanly');
  });

  it('a session nobody comes back to expires and its processes are killed', async () => {
    const a = await connectHttp(server);
    const sessionId = a.transport.sessionId;
    const run = await callTool(a.client, 'run_command', { command: 'sleep 100', wait_s: 0 });
    leftPids.push(run.pid);
    await disconnect(a, { terminate: false });
    assert.deepEqual(await waitPidsGone([run.pid], 30_000), [], 'the process of an expired session is gone');
    const r = await httpRequest(server, {
      headers: { Accept: ACCEPT_BOTH, 'Mcp-Session-Id': sessionId, 'MCP-Protocol-Version': '2025-06-18' },
      body: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} },
    });
    assert.equal(r.status, 404, 'an expired session is unknown');
  });
});
