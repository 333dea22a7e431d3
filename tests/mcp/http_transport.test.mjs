// ctest mcp_http_transport: the Streamable HTTP transport of /mcp by hand
// (node:http, no SDK), for what a library client never sends: status codes
// of sessions and protocol versions, bad bodies, content types, and an SSE
// stream resumed with Last-Event-ID.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';

import {
  ACCEPT_BOTH, LATEST_PROTOCOL_VERSION, PROTOCOL_VERSIONS, REQUEST_TIMEOUT, SseRequest,
  httpRequest, initializeRequest, rawId, rawSession, startServer, tickerCommand, tickerOutput,
} from './harness.mjs';
import { SERVER_ARGS } from './tool_cases.mjs';

const toolsList = (id = rawId()) => ({ jsonrpc: '2.0', id, method: 'tools/list', params: {} });

function contentType(res) {
  return String(res.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

describe('MCP Streamable HTTP transport (raw requests)', () => {
  let server;

  before(async () => {
    server = await startServer(SERVER_ARGS);
  });

  after(async () => {
    const problems = server ? await server.stop() : [];
    assert.deepEqual(problems, [], 'the server ran and stopped cleanly');
  });

  for (const version of PROTOCOL_VERSIONS) {
    it(`initialize with protocol ${version}: 200, the same version, an Mcp-Session-Id, JSON`, async () => {
      const init = initializeRequest(version);
      const r = await httpRequest(server, { headers: { Accept: ACCEPT_BOTH }, body: init });
      assert.equal(r.status, 200, r.body);
      assert.equal(contentType(r), 'application/json', 'a request without progressToken is answered with JSON');
      assert.equal(r.json.id, init.id);
      assert.equal(r.json.result.protocolVersion, version);
      assert.equal(r.json.result.serverInfo.name, 'actorexec');
      const sid = r.headers['mcp-session-id'];
      assert.match(sid ?? '', /^[\x21-\x7e]+$/, 'a session id of visible ASCII');
    });
  }

  it('initialize with an unknown protocol version answers one it supports', async () => {
    const r = await httpRequest(server, { headers: { Accept: ACCEPT_BOTH }, body: initializeRequest('1999-01-01') });
    assert.equal(r.status, 200, r.body);
    assert.ok(PROTOCOL_VERSIONS.includes(r.json.result.protocolVersion), r.body);
  });

  it('each initialize gets its own session id', async () => {
    const a = await rawSession(server);
    const b = await rawSession(server);
    assert.notEqual(a.sessionId, b.sessionId);
  });

  it('notifications and responses POSTed get 202', async () => {
    const s = await rawSession(server); // notifications/initialized: 202 checked there
    const r = await httpRequest(server, {
      headers: s.headers(), body: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 12345 } },
    });
    assert.equal(r.status, 202, r.body);
    const resp = await httpRequest(server, { headers: s.headers(), body: { jsonrpc: '2.0', id: 'srv-1', result: {} } });
    assert.equal(resp.status, 202, resp.body);
  });

  it('a request after initialize without Mcp-Session-Id is 400', async () => {
    await rawSession(server);
    const r = await httpRequest(server, {
      headers: { Accept: ACCEPT_BOTH, 'MCP-Protocol-Version': LATEST_PROTOCOL_VERSION }, body: toolsList(),
    });
    assert.equal(r.status, 400, r.body);
  });

  it('a request with an unknown Mcp-Session-Id is 404', async () => {
    const r = await httpRequest(server, {
      headers: { Accept: ACCEPT_BOTH, 'Mcp-Session-Id': 'no-such-session-0123456789', 'MCP-Protocol-Version': LATEST_PROTOCOL_VERSION },
      body: toolsList(),
    });
    assert.equal(r.status, 404, r.body);
  });

  it('an unsupported MCP-Protocol-Version is 400; every supported one, or none, is accepted', async () => {
    const s = await rawSession(server);
    const bad = await httpRequest(server, { headers: s.headers({ 'MCP-Protocol-Version': '1999-01-01' }), body: toolsList() });
    assert.equal(bad.status, 400, bad.body);
    for (const version of PROTOCOL_VERSIONS) {
      const ok = await httpRequest(server, { headers: s.headers({ 'MCP-Protocol-Version': version }), body: toolsList() });
      assert.equal(ok.status, 200, `${version}: ${ok.body}`);
      assert.ok(Array.isArray(ok.json.result.tools));
    }
    const h = s.headers();
    delete h['MCP-Protocol-Version'];
    const none = await httpRequest(server, { headers: h, body: toolsList() });
    assert.equal(none.status, 200, `without MCP-Protocol-Version: ${none.body}`);
  });

  it('a body that is not JSON is 400 with JSON-RPC error -32700', async () => {
    const s = await rawSession(server);
    const r = await httpRequest(server, { headers: s.headers(), body: '{"jsonrpc": "2.0", "id": 1, "method": ' });
    assert.equal(r.status, 400, r.body);
    assert.equal(r.json?.error?.code, -32700, r.body);
    assert.equal(r.json.id, null);
  });

  it('an unknown method is JSON-RPC error -32601', async () => {
    const s = await rawSession(server);
    const id = rawId();
    const r = await httpRequest(server, { headers: s.headers(), body: { jsonrpc: '2.0', id, method: 'no/such-method', params: {} } });
    assert.equal(r.json?.id, id, r.body);
    assert.equal(r.json?.error?.code, -32601, r.body);
  });

  it('tools/call is JSON without a progressToken and SSE with one; every SSE event has an id', async () => {
    const s = await rawSession(server);
    const call = (meta) => ({
      jsonrpc: '2.0', id: rawId(), method: 'tools/call',
      params: { name: 'run_command', arguments: { command: 'echo plain' }, ...(meta ? { _meta: meta } : {}) },
    });
    const plain = await httpRequest(server, { headers: s.headers(), body: call() });
    assert.equal(plain.status, 200, plain.body);
    assert.equal(contentType(plain), 'application/json');
    assert.equal(plain.json.result.structuredContent.stdout, 'plain\n');

    const body = call({ progressToken: 'p-sse' });
    const sse = new SseRequest(server, { method: 'POST', headers: s.headers(), body });
    const head = await sse.open();
    assert.equal(head.status, 200);
    assert.equal(String(head.headers['content-type']).split(';')[0], 'text/event-stream');
    let response = null;
    while (!response) {
      const ev = await sse.next();
      assert.ok(ev, 'the SSE answer ends with the call\'s response');
      assert.ok(ev.id, `every SSE event has an id: ${JSON.stringify(ev)}`);
      if (!ev.data) continue;
      const msg = JSON.parse(ev.data);
      if (msg.id === body.id) response = msg;
    }
    sse.abort();
    assert.equal(response.result.structuredContent.stdout, 'plain\n');
  });

  it('GET opens the server-to-client SSE stream; it needs a known session', async () => {
    const s = await rawSession(server);
    const h = s.headers({ Accept: 'text/event-stream' });
    const get = new SseRequest(server, { method: 'GET', headers: h });
    const head = await get.open();
    get.abort();
    assert.equal(head.status, 200);
    assert.equal(String(head.headers['content-type']).split(';')[0], 'text/event-stream');

    const noSession = { ...h };
    delete noSession['Mcp-Session-Id'];
    const r400 = await httpRequest(server, { method: 'GET', headers: noSession });
    assert.equal(r400.status, 400, r400.body);
    const r404 = await httpRequest(server, { method: 'GET', headers: { ...h, 'Mcp-Session-Id': 'no-such-session-0123456789' } });
    assert.equal(r404.status, 404, r404.body);
  });

  it('DELETE ends the session: then it is unknown (404)', async () => {
    const s = await rawSession(server);
    const del = await httpRequest(server, { method: 'DELETE', headers: s.headers() });
    assert.ok(del.status >= 200 && del.status < 300, `DELETE: HTTP ${del.status} ${del.body}`);
    const after = await httpRequest(server, { headers: s.headers(), body: toolsList() });
    assert.equal(after.status, 404, after.body);
    const again = await httpRequest(server, { method: 'DELETE', headers: s.headers() });
    assert.equal(again.status, 404, again.body);
  });

  it('an SSE answer cut mid-call is resumed by GET with Last-Event-ID: every later event exactly once', async () => {
    const s = await rawSession(server);
    const body = {
      jsonrpc: '2.0', id: rawId(), method: 'tools/call',
      params: { name: 'run_command', arguments: { command: tickerCommand(25, 200), wait_s: 60 }, _meta: { progressToken: 'resume-me' } },
    };
    const post = new SseRequest(server, { method: 'POST', headers: s.headers(), body });
    const head = await post.open();
    assert.equal(head.status, 200);
    // The first events, up to the second progress notification (one comes
    // at least every second while output flows, and the command prints for
    // 5 s); then the connection is cut before the call ends.
    const seen = [];
    let dataEvents = 0;
    while (dataEvents < 2) {
      const ev = await post.next();
      assert.ok(ev, `the stream ended after ${seen.length} events, before 2 progress notifications`);
      assert.ok(ev.id, `every SSE event has an id: ${JSON.stringify(ev)}`);
      seen.push(ev);
      if (ev.data) {
        const msg = JSON.parse(ev.data);
        assert.equal(msg.method, 'notifications/progress', `an event before the response: ${ev.data}`);
        dataEvents++;
      }
    }
    post.abort();

    // Resume from the first progress notification: what came after it,
    // which this client had already got, comes again, then the rest.
    const from = seen.findIndex((e) => e.data);
    const lastEventId = seen[from].id;
    const get = new SseRequest(server, { method: 'GET', headers: s.headers({ Accept: 'text/event-stream', 'Last-Event-ID': lastEventId }) });
    const gHead = await get.open();
    assert.equal(gHead.status, 200, 'GET with Last-Event-ID');
    const resumed = [];
    let response = null;
    while (!response) {
      const ev = await get.next(60_000);
      assert.ok(ev, `the resumed stream ended after ${resumed.length} events without the call's response`);
      assert.ok(ev.id, `every SSE event has an id: ${JSON.stringify(ev)}`);
      resumed.push(ev);
      if (ev.data) {
        const msg = JSON.parse(ev.data);
        if (msg.id === body.id) response = msg;
      }
    }
    get.abort();

    const replayedWant = seen.slice(from + 1).filter((e) => e.data).map((e) => [e.id, e.data]);
    const resumedData = resumed.filter((e) => e.data);
    assert.deepEqual(resumedData.slice(0, replayedWant.length).map((e) => [e.id, e.data]), replayedWant,
      'the events after Last-Event-ID that the client had got come again, identical');
    const ids = resumedData.map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, `each event once: ${ids.join(' ')}`);
    assert.ok(!ids.includes(lastEventId) && !seen.slice(0, from + 1).some((e) => ids.includes(e.id)),
      'nothing up to Last-Event-ID comes again');
    const progress = [...seen.slice(0, from + 1), ...resumedData]
      .filter((e) => e.data).map((e) => JSON.parse(e.data)).filter((m) => m.method === 'notifications/progress')
      .map((m) => m.params);
    for (const p of progress) assert.equal(p.progressToken, 'resume-me');
    for (let i = 1; i < progress.length; i++) {
      assert.ok(progress[i].progress > progress[i - 1].progress, `progress grows: ${JSON.stringify(progress)}`);
    }
    assert.equal(response.result.structuredContent.status, 'exited');
    assert.equal(response.result.structuredContent.stdout, tickerOutput(25), 'the call\'s whole output');
  });

  it('three concurrent POSTs of one session are all answered', async () => {
    const s = await rawSession(server);
    const rs = await Promise.all([0, 1, 2].map(() => httpRequest(server, { headers: s.headers(), body: toolsList() })));
    for (const r of rs) {
      assert.equal(r.status, 200, r.body);
      assert.ok(Array.isArray(r.json.result.tools));
    }
  });

  it('another path next to /mcp is not MCP', async () => {
    const r = await httpRequest(server, { path: '/mcp/extra', headers: { Accept: ACCEPT_BOTH }, body: initializeRequest(), timeout: REQUEST_TIMEOUT });
    assert.notEqual(r.status, 200, r.body);
  });
});
