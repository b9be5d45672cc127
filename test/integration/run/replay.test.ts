import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../../src/worker/worker.ts';
import { fileOf, HISTORIES_DIR, recordedHistories } from '../../support/histories.ts';

// Histories recorded from earlier versions of the workflow code (test/support/record-histories.ts for runAction;
// application-*.json from the application tests' runs before consistency groups existed, group-*.json from the
// consistency-group test). A change to workflows/ that would make running workflows misbehave on replay fails
// here, before it reaches a worker.

it('the current workflow code replays every recorded history without nondeterminism', async () => {
  const histories = await recordedHistories();
  assert.ok(histories.length >= 5, 'history fixtures are present');
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH, replayName: 'cairn-determinism' }, histories)) {
    if (result.error) failures.push(`${fileOf(histories, result.workflowId)}: ${result.error.message}`);
  }
  assert.deepEqual(failures, []);
});

it('the replay check fails on a history that the code cannot have produced', async () => {
  const history = JSON.parse(await readFile(join(HISTORIES_DIR, 'backup-scoped-parallel.json'), 'utf8')) as { events: { activityTaskScheduledEventAttributes?: { activityId: string } }[] };
  // Swap the order in which two phases were scheduled: the workflow code would schedule them differently.
  const scheduled = history.events.filter((e) => e.activityTaskScheduledEventAttributes?.activityId?.startsWith('phase/'));
  const [a, b] = [scheduled[0]!.activityTaskScheduledEventAttributes!, scheduled[1]!.activityTaskScheduledEventAttributes!];
  [a.activityId, b.activityId] = [b.activityId, a.activityId];
  await assert.rejects(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH, replayName: 'cairn-determinism-negative' }, history), /[Nn]ondeterminism|DeterminismViolation/);
});
