// ctest mcp_auth_origin: the bearer token (--auth-token-file) and the
// Origin/Host checks against DNS rebinding, on /mcp over Streamable HTTP and
// WebSocket.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import {
  ACCEPT_BOTH, callTool, connectHttp, connectWs, disconnect, httpRequest, initializeRequest,
  startServer, writeTokenFile, wsUpgrade,
} from './harness.mjs';
import { SERVER_ARGS } from './tool_cases.mjs';

const EVIL = 'http://evil.example';

function initialize(server, headers = {}) {
  return httpRequest(server, { headers: { Accept: ACCEPT_BOTH, ...headers }, body: initializeRequest() });
}

describe('bearer token (--auth-token-file)', () => {
  const token = crypto.randomBytes(16).toString('hex');
  let server;
  let conn;

  before(async () => {
    server = await startServer([...SERVER_ARGS, '--auth-token-file', writeTokenFile(token)]);
  });

  after(async () => {
    const problems = server ? await server.stop() : [];
    assert.deepEqual(problems, [], 'the server ran and stopped cleanly');
  });

  afterEach(async () => {
    await disconnect(conn);
    conn = undefined;
  });

  it('no token: 401 with WWW-Authenticate: Bearer', async () => {
    const r = await initialize(server);
    assert.equal(r.status, 401, r.body);
    assert.match(String(r.headers['www-authenticate'] ?? ''), /^Bearer\b/i);
    assert.equal(r.headers['mcp-session-id'], undefined, 'no session for a refused request');
  });

  it('a wrong token: 401', async () => {
    const r = await initialize(server, { Authorization: 'Bearer not-the-token' });
    assert.equal(r.status, 401, r.body);
    assert.match(String(r.headers['www-authenticate'] ?? ''), /^Bearer\b/i);
  });

  it('Authorization: Bearer T works (SDK client over HTTP)', async () => {
    conn = await connectHttp(server, { headers: { Authorization: `Bearer ${token}` } });
    await conn.client.listTools();
    const r = await callTool(conn.client, 'run_command', { command: 'echo authorized' });
    assert.equal(r.stdout, 'authorized\n');
  });

  it('a request of a session still needs the token', async () => {
    conn = await connectHttp(server, { headers: { Authorization: `Bearer ${token}` } });
    const r = await httpRequest(server, {
      headers: { Accept: ACCEPT_BOTH, 'Mcp-Session-Id': conn.transport.sessionId, 'MCP-Protocol-Version': '2025-06-18' },
      body: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} },
    });
    assert.equal(r.status, 401, r.body);
  });

  it('WebSocket: ?token=T works (SDK client), without it the upgrade gets 401', async () => {
    conn = await connectWs(server, { token });
    assert.deepEqual(await conn.client.ping(), {});
    const r = await callTool(conn.client, 'run_command', { command: 'echo over ws' });
    assert.equal(r.stdout, 'over ws\n');

    await assert.rejects(connectWs(server), /could not connect/);
    await assert.rejects(connectWs(server, { token: 'not-the-token' }), /could not connect/);
    assert.equal((await wsUpgrade(server)).status, 401);
    assert.equal((await wsUpgrade(server, { path: '/mcp?token=wrong' })).status, 401);
    assert.equal((await wsUpgrade(server, { headers: { Authorization: `Bearer ${token}` } })).status, 101);
  });
});

describe('Origin and Host checks (no --allowed-origin)', () => {
  let server;

  before(async () => {
    server = await startServer(SERVER_ARGS);
  });

  after(async () => {
    const problems = server ? await server.stop() : [];
    assert.deepEqual(problems, [], 'the server ran and stopped cleanly');
  });

  it(`Origin: ${EVIL} is 403`, async () => {
    const r = await initialize(server, { Origin: EVIL });
    assert.equal(r.status, 403, r.body);
    assert.equal(r.headers['mcp-session-id'], undefined);
  });

  it('look-alike origins are 403', async () => {
    for (const origin of [
      `http://localhost.evil.example:${server.port}`, `http://127.0.0.1.evil.example:${server.port}`,
      'http://evil.example:80', `https://evil.example:${server.port}`, 'null',
    ]) {
      const r = await initialize(server, { Origin: origin });
      assert.equal(r.status, 403, `Origin: ${origin}: ${r.body}`);
    }
  });

  it('loopback origins and no Origin are accepted', async () => {
    for (const origin of [
      undefined, `http://127.0.0.1:${server.port}`, `http://localhost:${server.port}`, `http://[::1]:${server.port}`,
    ]) {
      const r = await initialize(server, origin ? { Origin: origin } : {});
      assert.equal(r.status, 200, `Origin: ${origin ?? '(none)'}: ${r.body}`);
      assert.ok(r.headers['mcp-session-id']);
    }
  });

  it('a foreign Host is refused (4xx); loopback Hosts are accepted', async () => {
    const bad = await initialize(server, { Host: 'evil.example.com' });
    assert.ok(bad.status >= 400 && bad.status < 500, `Host: evil.example.com: HTTP ${bad.status} ${bad.body}`);
    const both = await initialize(server, { Host: 'evil.example.com', Origin: 'http://evil.example.com' });
    assert.ok(both.status >= 400 && both.status < 500, `Host and Origin evil: HTTP ${both.status}`);
    for (const host of [`localhost:${server.port}`, `127.0.0.1:${server.port}`, `[::1]:${server.port}`]) {
      const ok = await initialize(server, { Host: host, Origin: `http://${host}` });
      assert.equal(ok.status, 200, `Host: ${host}: ${ok.body}`);
    }
  });

  it('WebSocket: a foreign Origin gets 403; loopback or none is upgraded with subprotocol mcp', async () => {
    assert.equal((await wsUpgrade(server, { headers: { Origin: EVIL } })).status, 403);
    for (const origin of [undefined, `http://127.0.0.1:${server.port}`, `http://localhost:${server.port}`]) {
      const r = await wsUpgrade(server, { headers: origin ? { Origin: origin } : {} });
      assert.equal(r.status, 101, `Origin: ${origin ?? '(none)'}`);
      assert.equal(r.headers['sec-websocket-protocol'], 'mcp');
    }
  });

  it('the SDK clients connect without an Origin (HTTP and WebSocket)', async () => {
    const h = await connectHttp(server);
    await disconnect(h);
    const w = await connectWs(server);
    await disconnect(w);
  });
});

describe('Origin with --allowed-origin', () => {
  const allowed = 'https://app.example';
  let server;

  before(async () => {
    server = await startServer([...SERVER_ARGS, '--allowed-origin', allowed]);
  });

  after(async () => {
    const problems = server ? await server.stop() : [];
    assert.deepEqual(problems, [], 'the server ran and stopped cleanly');
  });

  it('the listed origin is accepted, another one is 403', async () => {
    const ok = await initialize(server, { Origin: allowed });
    assert.equal(ok.status, 200, ok.body);
    const bad = await initialize(server, { Origin: EVIL });
    assert.equal(bad.status, 403, bad.body);
    assert.equal((await wsUpgrade(server, { headers: { Origin: EVIL } })).status, 403);
    assert.equal((await wsUpgrade(server, { headers: { Origin: allowed } })).status, 101);
  });
});
