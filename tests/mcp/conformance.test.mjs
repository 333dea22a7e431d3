// ctest mcp_conformance: the MCP conformance suite's server scenarios
// (@modelcontextprotocol/conformance, `conformance server`) against /mcp,
// with the baseline conformance-baseline.yml of the scenarios that need
// what actorexec does not offer (the suite's sample tools, resources,
// prompts, completions, sampling, elicitation). The run fails on a scenario
// that fails and is not in the baseline, and on one in the baseline that
// passes ("stale baseline"): then edit the baseline.
//
// The suite runs with the pinned Node 22 (process.execPath: run.sh starts
// this file with it).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startServer, tmpPath } from './harness.mjs';
import { SERVER_ARGS } from './tool_cases.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.join(here, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const BASELINE = path.join(here, 'conformance-baseline.yml');
const RUN_TIMEOUT = 400_000; // the whole suite; each scenario is a few requests

/** Runs the CLI with `args`; resolves {code, output}. Killed after `ms`. */
function runCli(args, ms) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: here, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`conformance ${args.join(' ')} did not finish within ${ms} ms; output tail:\n${output.slice(-4000)}`));
    }, ms);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code: code ?? signal, output }); });
  });
}

describe('MCP conformance suite (server scenarios)', () => {
  let server;

  before(async () => {
    // No token: the suite's client sends none (dns-rebinding-protection
    // also needs a server that answers without one).
    server = await startServer(SERVER_ARGS);
  });

  after(async () => {
    const problems = server ? await server.stop() : [];
    assert.deepEqual(problems, [], 'the server ran and stopped cleanly');
  });

  it('conformance server --suite all: every failure is in the baseline, every baseline entry fails', { timeout: RUN_TIMEOUT + 30_000 }, async () => {
    // ctest keeps the per-scenario checks.json in the build tree.
    const out = process.env.MCP_CONFORMANCE_RESULTS || tmpPath('conformance-results');
    const { code, output } = await runCli([
      'server', '--url', server.httpUrl(), '--suite', 'all', '--expected-failures', BASELINE, '--output-dir', out,
    ], RUN_TIMEOUT);
    // The summary: which scenarios failed as expected, which did not.
    const summary = output.slice(Math.max(0, output.lastIndexOf('=== SUMMARY ===')));
    console.log(summary.length < 20_000 ? summary : summary.slice(-20_000));
    assert.equal(code, 0, `conformance exited with ${code} (results in ${out}); output tail:\n${output.slice(-8000)}`);
  });
});
