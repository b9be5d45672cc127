import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../../src/worker/worker.ts';

// Histories recorded from earlier versions of the workflow code (test/support/record-histories.ts for runAction;
// application-*.json from the application tests' runs before consistency groups existed, group-*.json from the
// consistency-group test). A change to workflows/ that would make running workflows misbehave on replay fails
// here, before it reaches a worker.
const DIR = join(import.meta.dirname, '../../fixtures/histories');

it('the current workflow code replays every recorded history without nondeterminism', async () => {
  const files = (await readdir(DIR)).filter((f) => f.endsWith('.json')).sort();
  assert.ok(files.length >= 5, 'history fixtures are present');
  // Replayed under its own workflow ID: child workflow IDs are derived from it.
  const histories = await Promise.all(files.map(async (file) => {
    const history = JSON.parse(await readFile(join(DIR, file), 'utf8')) as { events: { workflowExecutionStartedEventAttributes?: { workflowId?: string } }[] };
    return { workflowId: history.events[0]?.workflowExecutionStartedEventAttributes?.workflowId ?? file, file, history };
  }));
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH, replayName: 'cairn-determinism' }, histories)) {
    if (result.error) failures.push(`${histories.find((h) => h.workflowId === result.workflowId)?.file ?? result.workflowId}: ${result.error.message}`);
  }
  assert.deepEqual(failures, []);
});

it('the replay check fails on a history that the code cannot have produced', async () => {
  const history = JSON.parse(await readFile(join(DIR, 'backup-scoped-parallel.json'), 'utf8')) as { events: { activityTaskScheduledEventAttributes?: { activityId: string } }[] };
  // Swap the order in which two phases were scheduled: the workflow code would schedule them differently.
  const scheduled = history.events.filter((e) => e.activityTaskScheduledEventAttributes?.activityId?.startsWith('phase/'));
  const [a, b] = [scheduled[0]!.activityTaskScheduledEventAttributes!, scheduled[1]!.activityTaskScheduledEventAttributes!];
  [a.activityId, b.activityId] = [b.activityId, a.activityId];
  await assert.rejects(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH, replayName: 'cairn-determinism-negative' }, history), /[Nn]ondeterminism|DeterminismViolation/);
});
