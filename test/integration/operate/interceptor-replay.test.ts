import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { WORKFLOW_INTERCEPTOR_MODULES, WORKFLOWS_PATH } from '../../../src/worker/worker.ts';
import { fileOf, recordedHistories } from '../../support/histories.ts';

// The run-events interceptors only observe: every recorded history still replays with them installed, as the
// worker runs them (a sink call made on replay would be dropped, and none of them issues commands).

it('every recorded history replays with the metrics and audit interceptors installed', async () => {
  const histories = await recordedHistories();
  assert.ok(histories.length >= 5, 'history fixtures are present');
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH, interceptors: { workflowModules: WORKFLOW_INTERCEPTOR_MODULES }, replayName: 'cairn-interceptors' }, histories)) {
    if (result.error) failures.push(`${fileOf(histories, result.workflowId)}: ${result.error.message}`);
  }
  assert.deepEqual(failures, []);
});
