import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { openNamedLocation } from '../../../activities/location/location.ts';
import { listRestorePoints } from '../../../activities/location/restore-points.ts';
import { scheduleCommand } from '../../../src/cli/schedule.ts';
import { describeSchedule, existingKinds, listApplicationSchedules } from '../../../src/schedule/schedules.ts';
import { scheduleId } from '../../../src/schedule/types.ts';
import { ensureStack, kubeClients, testNamespace, type TestNamespace } from '../../support/stack.ts';
import { runningWorker, type RunningWorker, type TemporalFixture } from '../../support/temporal.ts';

// The real path from `cairn schedule create` to workflows run by a Cairn worker: Temporal Schedules made by the
// CLI fire on their interval, trigger-now starts a run at once (even while paused), pause stops the firing,
// delete removes the schedules. The scheduled workflow here is verifyRepository of an application with no
// restore points (cheap, and it runs through the worker's real activities); backups stay on a yearly cron.
// Then the backup schedule of a stateless Application (one Deployment, no blueprint) given as a file: each
// firing is a backupApplication that writes an application restore point into the location.
let fixture: TemporalFixture;
let appNamespace: TestNamespace | undefined;
let serving: RunningWorker;
const application = `sched-${randomBytes(3).toString('hex')}`;
const verifyId = scheduleId(application, 'verify');

function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: (text: string) => void (stdout += text), stderr: (text: string) => void (stderr += text) };
  return scheduleCommand([...argv, '--address', fixture.address, '--namespace', fixture.namespace, '--task-queue', fixture.taskQueue], io).then((code) => ({ code, stdout, stderr }));
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Workflows the schedule started, as Temporal's visibility lists them. */
async function scheduledRuns(id = verifyId): Promise<Array<{ workflowId: string; type: string; status: string }>> {
  const runs: Array<{ workflowId: string; type: string; status: string }> = [];
  for await (const execution of fixture.client.workflow.list({ query: `TemporalScheduledById = '${id}'` })) {
    runs.push({ workflowId: execution.workflowId, type: execution.type, status: execution.status.name });
  }
  return runs;
}

before(async () => {
  serving = await runningWorker('sched');
  fixture = serving.fixture;
});

after(async () => {
  // Never leave a schedule firing on the shared Temporal.
  for (const name of [application, appNamespace?.name]) {
    if (!name) continue;
    for (const kind of await existingKinds(fixture.client, name).catch(() => [])) await fixture.client.schedule.getHandle(scheduleId(name, kind)).delete().catch(() => undefined);
  }
  await appNamespace?.cleanup();
  await serving?.stop();
});

it('creates the schedules, fires every few seconds, triggers now, pauses and deletes', async () => {
  const created = await cli('create', application, '--cron', '0 2 1 1 *', '--verify', '2s', '--overlap', 'buffer-one', '--output', 'json');
  assert.equal(created.code, 0, created.stderr);
  assert.deepEqual(JSON.parse(created.stdout), { application, schedules: [scheduleId(application, 'backup'), verifyId] });

  const again = await cli('create', application, '--every', '1h');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /exists already/);

  // Fires on its own, at least twice, each run a verifyRepository of this application through the worker.
  const fired = await until('two scheduled runs', async () => {
    const state = await describeSchedule(fixture.client, application, 'verify');
    return state && (state.numActionsTaken ?? 0) >= 2 ? state : undefined;
  });
  assert.equal(fired.overlap, 'BUFFER_ONE');
  assert.deepEqual(fired.spec, ['every 2s']);
  assert.ok(fired.recentActions.length >= 2);
  for (const action of fired.recentActions) assert.match(action.workflowId, new RegExp(`^${verifyId}-\\d{4}-\\d\\d-\\d\\dT`));
  const runs = await until('the runs in visibility, closed', async () => {
    const found = await scheduledRuns();
    return found.filter((run) => run.status !== 'RUNNING').length >= 2 ? found : undefined;
  });
  assert.ok(runs.every((run) => run.type === 'verifyRepository'));
  const first = await fixture.client.workflow.getHandle(fired.recentActions[0]!.workflowId).fetchHistory();
  const input = first.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
  assert.deepEqual(JSON.parse(Buffer.from(input!).toString('utf8')), { application });

  // The list (visibility) and describe show both schedules.
  const listed = await until('the schedules listed', async () => {
    const all = await listApplicationSchedules(fixture.client, application);
    return all.length === 2 ? all : undefined;
  });
  assert.deepEqual(listed.map((s) => [s.scheduleId, s.kind, s.paused]), [
    [scheduleId(application, 'backup'), 'backup', false],
    [verifyId, 'verify', false],
  ]);
  const text = await cli('describe', application, '--kind', 'backup');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /when: +0 2 1 1 \* \(UTC\)/);

  // Pause: no more runs on the interval.
  const paused = await cli('pause', application, '--kind', 'verify', '--note', 'maintenance window');
  assert.equal(paused.code, 0, paused.stderr);
  const atPause = await describeSchedule(fixture.client, application, 'verify');
  assert.equal(atPause?.paused, true);
  assert.equal(atPause?.note, 'maintenance window');
  const takenAtPause = atPause!.numActionsTaken!;
  await new Promise((resolve) => setTimeout(resolve, 6000)); // three intervals
  assert.equal((await describeSchedule(fixture.client, application, 'verify'))!.numActionsTaken, takenAtPause);

  // Trigger now starts one at once, even while paused.
  const triggered = await cli('trigger', application, '--kind', 'verify');
  assert.equal(triggered.code, 0, triggered.stderr);
  assert.match(triggered.stdout, new RegExp(`triggered ${verifyId}`));
  await until('the triggered run', async () => ((await describeSchedule(fixture.client, application, 'verify'))!.numActionsTaken! > takenAtPause ? true : undefined), 30_000);

  // Resume, then delete every schedule of the application.
  assert.equal((await cli('resume', application)).code, 0);
  assert.equal((await describeSchedule(fixture.client, application, 'verify'))?.paused, false);
  const deleted = await cli('delete', application, '--output', 'json');
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.deepEqual(JSON.parse(deleted.stdout), { application, deleted: [scheduleId(application, 'backup'), verifyId] });
  assert.deepEqual(await existingKinds(fixture.client, application), []);
  const gone = await cli('trigger', application);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /no schedule/);
});

it('refuses a cron expression Temporal cannot read, creating nothing', async () => {
  const name = `${application}-bad`;
  const result = await cli('create', name, '--cron', '0 2 * * *', '--drill', '61 25 * * *');
  assert.equal(result.code, 1);
  assert.match(result.stderr, new RegExp(`cannot create schedule ${scheduleId(name, 'drill')}: .*Minute is not in range`));
  // The backup schedule, created first, was removed again: all or nothing.
  assert.deepEqual(await existingKinds(fixture.client, name), []);
});

it('a backup schedule of an Application file writes a restore point each time it fires, and on trigger', async () => {
  const clients = kubeClients(await ensureStack());
  appNamespace = await testNamespace('sched-app');
  const name = appNamespace.name;
  await clients.apps.createNamespacedDeployment({
    namespace: name,
    body: {
      metadata: { name: 'web' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } },
    },
  });
  const dir = await mkdtemp(join(tmpdir(), 'cairn-schedule-app-'));
  const file = join(dir, 'web.yaml');
  await writeFile(file, `apiVersion: cairn.io/v1alpha1\nkind: Application\nmetadata: {name: ${name}}\nspec:\n  namespace: ${name}\n  components: [{name: web, workload: {kind: Deployment, name: web}}]\n`);
  const backupId = scheduleId(name, 'backup');
  const location = await openNamedLocation(undefined);
  const restorePoints = async () => (await listRestorePoints(location, { application: name })).points.filter((p) => p.scope === 'application');

  const created = await cli('create', file, '--every', '3s', '--output', 'json');
  assert.equal(created.code, 0, created.stderr);
  assert.deepEqual(JSON.parse(created.stdout), { application: name, schedules: [backupId] });

  const completed = await until('two scheduled backups completed', async () => {
    const runs = (await scheduledRuns(backupId)).filter((run) => run.status === 'COMPLETED');
    return runs.length >= 2 ? runs : undefined;
  }, 180_000);
  assert.ok(completed.every((run) => run.type === 'backupApplication' && run.workflowId.startsWith(`${backupId}-`)));
  assert.ok((await restorePoints()).length >= 2);

  // Paused, then triggered: exactly one more backup, and one more restore point once it is done.
  assert.equal((await cli('pause', name)).code, 0);
  await until('runs in flight to finish', async () => ((await describeSchedule(fixture.client, name, 'backup'))!.runningWorkflows!.length === 0 ? true : undefined));
  const takenBefore = (await describeSchedule(fixture.client, name, 'backup'))!.numActionsTaken!;
  const pointsBefore = (await restorePoints()).length;
  assert.equal((await cli('trigger', name)).code, 0);
  const triggered = await until('the triggered backup', async () => {
    const state = (await describeSchedule(fixture.client, name, 'backup'))!;
    return state.numActionsTaken! === takenBefore + 1 ? state.recentActions.at(-1)!.workflowId : undefined;
  }, 30_000);
  await fixture.client.workflow.getHandle(triggered).result();
  assert.equal((await restorePoints()).length, pointsBefore + 1);

  assert.equal((await cli('delete', name)).code, 0);
  assert.deepEqual(await existingKinds(fixture.client, name), []);
});
