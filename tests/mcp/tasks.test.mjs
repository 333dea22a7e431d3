// ctest mcp_tasks: run_command as an MCP task (revision 2025-11-25) through
// the official SDK client's experimental tasks API over Streamable HTTP:
// callToolStream streams taskCreated, then the result with the output; a
// task found again by a second client of the session, listed and cancelled
// from there, leaves no process.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { callTool, httpSuite, waitPidsGone, waitUntil } from './harness.mjs';
import { SERVER_ARGS } from './tool_cases.mjs';
import { CreateTaskResultSchema } from '@modelcontextprotocol/sdk/types.js';

describe('MCP tasks (SDK client, Streamable HTTP)', () => {
  const { open, leftPids } = httpSuite(SERVER_ARGS);

  it('callToolStream streams taskCreated, then the result with the output', async () => {
    const { client } = await open();
    assert.ok(client.getServerCapabilities().tasks?.requests?.tools?.call, 'tasks.requests.tools.call');
    await client.listTools(); // the SDK learns run_command's taskSupport
    const kinds = [];
    let created;
    let result;
    const stream = client.experimental.tasks.callToolStream(
      { name: 'run_command', arguments: { command: 'echo one; sleep 0.2; echo two' } },
      undefined, { task: { ttl: 60_000 } });
    for await (const message of stream) {
      kinds.push(message.type);
      if (message.type === 'taskCreated') created = message.task;
      if (message.type === 'result') result = message.result;
      if (message.type === 'error') throw message.error;
    }
    assert.equal(kinds[0], 'taskCreated', `first message: ${kinds.join(', ')}`);
    assert.equal(kinds.at(-1), 'result');
    assert.equal(created.status, 'working');
    assert.equal(created.ttl, 60_000);
    assert.equal(result.structuredContent.stdout, 'one\ntwo\n');
    assert.equal(result.structuredContent.exit_code, 0);
    const task = await client.experimental.tasks.getTask(created.taskId);
    assert.equal(task.status, 'completed');
  });

  it('a task is found, listed and cancelled from a second client; no process is left', async () => {
    const a = await open();
    const created = await a.client.request(
      { method: 'tools/call',
        params: { name: 'run_command', arguments: { command: 'sleep 100' }, task: { ttl: 60_000 } } },
      CreateTaskResultSchema);
    const taskId = created.task.taskId;
    const pid = await waitUntil(async () => {
      const list = await callTool(a.client, 'list_processes', {});
      return list.processes[0]?.pid;
    }, 5_000);
    assert.ok(pid, 'the task process started');
    leftPids.push(pid);
    const b = await open({ sessionId: a.transport.sessionId, protocolVersion: '2025-11-25' });
    assert.equal((await b.client.experimental.tasks.getTask(taskId)).status, 'working');
    const listed = await b.client.experimental.tasks.listTasks();
    assert.deepEqual(listed.tasks.map((t) => t.taskId), [taskId]);
    const cancelled = await b.client.experimental.tasks.cancelTask(taskId);
    assert.equal(cancelled.status, 'cancelled');
    assert.deepEqual(await waitPidsGone([pid]), [], 'the cancelled task left no process');
    await assert.rejects(b.client.experimental.tasks.getTask('no-such-task'), (err) => err.code === -32602);
  });
});
