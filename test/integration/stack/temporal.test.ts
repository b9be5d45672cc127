import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { ensureStack, uniqueTaskQueue } from '../../support/stack.ts';
import * as activities from './fixtures/activities.ts';

// The worker's INFO lines (bundle created, state changes) would drown the test report.
Runtime.install({ logger: new DefaultLogger('WARN') });

const CairnBlueprint = defineSearchAttributeKey('CairnBlueprint', SearchAttributeType.KEYWORD);

test('a workflow started on the dev server completes on a real worker and carries a Cairn search attribute', async () => {
  const stack = await ensureStack();
  const taskQueue = uniqueTaskQueue('stack-temporal');
  const workerConnection = await NativeConnection.connect({ address: stack.temporal.address });
  const connection = await Connection.connect({ address: stack.temporal.address });
  try {
    const worker = await Worker.create({
      connection: workerConnection,
      namespace: stack.temporal.namespace,
      taskQueue,
      workflowsPath: fileURLToPath(new URL('./fixtures/workflows.ts', import.meta.url)),
      activities,
    });
    const client = new Client({ connection, namespace: stack.temporal.namespace });

    const result = await worker.runUntil(async () => {
      const handle = await client.workflow.start('greet', {
        taskQueue,
        workflowId: `${taskQueue}-greet`,
        args: ['cairn'],
        typedSearchAttributes: [{ key: CairnBlueprint, value: 'stack-test' }],
      });
      const output = await handle.result();
      const description = await handle.describe();
      return { output, blueprint: description.typedSearchAttributes.get(CairnBlueprint) };
    });

    assert.equal(result.output, 'hello, CAIRN');
    assert.equal(result.blueprint, 'stack-test');
  } finally {
    await connection.close();
    await workerConnection.close();
  }
});
