import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { WORKFLOW_INTERCEPTOR_MODULES, WORKFLOWS_PATH } from '../../../src/worker/worker.ts';

// The run-events interceptors only observe: every recorded history still replays with them installed, as the
// worker runs them (a sink call made on replay would be dropped, and none of them issues commands).
const DIR = join(import.meta.dirname, '../../fixtures/histories');

it('every recorded history replays with the metrics and audit interceptors installed', async () => {
  const files = (await readdir(DIR)).filter((f) => f.endsWith('.json')).sort();
  assert.ok(files.length >= 5, 'history fixtures are present');
  const histories = await Promise.all(files.map(async (file) => ({ workflowId: file, history: JSON.parse(await readFile(join(DIR, file), 'utf8')) as object })));
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH, interceptors: { workflowModules: WORKFLOW_INTERCEPTOR_MODULES }, replayName: 'cairn-interceptors' }, histories)) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  assert.deepEqual(failures, []);
});
