import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import type { RunActionResult } from '../../../src/run/types.ts';
import { killSpawnedWorkers, phaseTimeline, spawnWorker, temporalFixture, TEST_BLUEPRINT_ARGS, type TemporalFixture } from '../../support/temporal.ts';

let fixture: TemporalFixture;
before(async () => {
  fixture = await temporalFixture('worker-crash');
});
after(async () => {
  await killSpawnedWorkers();
  await fixture.close();
});

/** Lines of a worker's JSON log that say a phase attempt started. */
function phaseStarts(log: string, phase: string): number {
  return log.split('\n').filter((line) => line.includes('"message":"phase started"') && line.includes(`"phase":"${phase}"`)).length;
}

it('a run survives a SIGKILLed worker: finished phases do not run again and the interrupted one resumes from its heartbeat', async () => {
  const first = await spawnWorker(fixture, { args: TEST_BLUEPRINT_ARGS });
  await first.ready;
  const handle = await fixture.client.workflow.start('runAction', {
    taskQueue: fixture.taskQueue,
    workflowId: `${fixture.taskQueue}-crash`,
    args: [{ blueprint: { name: 'sleepy' }, action: 'backup', target: 'statefulset/shop/db', options: { first: '100ms', second: '12s', third: '100ms' }, heartbeatTimeout: '3s' }],
  });

  // Wait until the long middle phase has reported at least 3 s of progress, then kill the worker outright.
  let sleptBeforeCrash = 0;
  for (let i = 0; i < 300 && sleptBeforeCrash < 3000; i++) {
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    const payload = pending.find((a) => a.activityId === 'phase/second')?.heartbeatDetails?.payloads?.[0];
    if (payload) sleptBeforeCrash = (defaultPayloadConverter.fromPayload(payload) as { sleptMs: number }).sleptMs;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(sleptBeforeCrash >= 3000, 'the middle phase heartbeated before the crash');
  first.child.kill('SIGKILL');
  await first.exited;
  const firstLog = await first.log();

  const second = await spawnWorker(fixture, { args: TEST_BLUEPRINT_ARGS });
  try {
    await second.ready;
    const result = (await handle.result()) as RunActionResult;
    const secondLog = await second.log();

    assert.equal(phaseStarts(firstLog, 'first') + phaseStarts(secondLog, 'first'), 1, 'the phase finished before the crash ran once');
    assert.equal(phaseStarts(secondLog, 'first'), 0);
    assert.equal(phaseStarts(firstLog, 'second'), 1);
    assert.equal(phaseStarts(secondLog, 'second'), 1, 'the interrupted phase was retried on the new worker');
    assert.ok(Number(result.phaseOutputs.second?.resumedFromMs) >= 3000, `resumed from ${result.phaseOutputs.second?.resumedFromMs} ms, not from zero`);
    assert.ok(Number(result.phaseOutputs.second?.sleptMs) <= 12_000 - 3000);
    assert.equal(phaseStarts(secondLog, 'third'), 1);
    assert.deepEqual(phaseTimeline(await handle.fetchHistory()).filter((e) => e.startsWith('completed:')), ['completed:first', 'completed:second', 'completed:third']);
  } finally {
    second.child.kill('SIGTERM');
    await second.exited;
  }
});

it('a worker stopped with SIGTERM hands its running phase back instead of losing it', async () => {
  const first = await spawnWorker(fixture, { args: TEST_BLUEPRINT_ARGS });
  await first.ready;
  const handle = await fixture.client.workflow.start('runAction', {
    taskQueue: fixture.taskQueue,
    workflowId: `${fixture.taskQueue}-sigterm`,
    args: [{ blueprint: { name: 'sleepy' }, action: 'backup', target: 'statefulset/shop/db', options: { first: '10ms', second: '30s', third: '10ms' }, heartbeatTimeout: '3s' }],
  });
  for (let i = 0; i < 300; i++) {
    if ((await first.log()).includes('"phase":"second"')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const stoppedAt = Date.now();
  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0, 'the worker exits cleanly');
  assert.ok(Date.now() - stoppedAt < 20_000, 'within its shutdown grace period');
  assert.match(await first.log(), /shutting down/);

  const second = await spawnWorker(fixture, { args: TEST_BLUEPRINT_ARGS });
  try {
    await second.ready;
    for (let i = 0; i < 300 && phaseStarts(await second.log(), 'second') === 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(phaseStarts(await second.log(), 'second'), 1, 'the phase was taken up again by the new worker');
    await handle.cancel();
    await assert.rejects(handle.result());
    assert.equal((await handle.describe()).status.name, 'CANCELLED');
  } finally {
    second.child.kill('SIGTERM');
    await second.exited;
  }
});
