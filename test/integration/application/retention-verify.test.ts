import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { Repository } from '../../../activities/kopia/repository.ts';
import type { OpenedLocation } from '../../../activities/location/location.ts';
import type { RestorePoint } from '../../../src/location/restore-point.ts';
import type { VerifyInput, VerifyReport } from '../../../src/retention/types.ts';
import { pseudoRandom } from '../../support/data-functions.ts';
import { runningWorker, type RunningWorker, type TemporalFixture } from '../../support/temporal.ts';
import { readSnapshot } from '../location/location-testing.ts';
import { componentPoint, localLocation, packFiles, streamSnapshot } from './retention-testing.ts';

// verifyRepository on a real filesystem location: three backups verify clean; one byte flipped in the pack
// holding the second backup's data fails the workflow, naming that snapshot and its restore point and no
// other — although the worker's kopia cache still holds that data from an earlier read.
const APP = 'ledger';
let serving: RunningWorker;
let fixture: TemporalFixture;
let location: OpenedLocation;
let repository: Repository;
let kopiaDir: string;
const points: { point: RestorePoint; packs: string[] }[] = [];

before(async () => {
  const local = await localLocation('verify', APP);
  ({ location, repository } = local);
  kopiaDir = join(local.root, 'repositories', APP, 'kopia');
  for (let day = 1; day <= 3; day++) {
    const packsBefore = new Set(await packFiles(kopiaDir));
    const snapshotID = await streamSnapshot(repository, pseudoRandom(`verify-${day}`, 3 * 1024 * 1024), `cairn-verify${day}-stream`);
    const packs = (await packFiles(kopiaDir)).filter((file) => !packsBefore.has(file));
    points.push({ point: await componentPoint(location, APP, `2026-10-0${day}T02:00:00.000Z`, snapshotID, `verify${day}`), packs });
  }
  serving = await runningWorker('retention-verify');
  fixture = serving.fixture;
});

after(async () => {
  await serving?.stop();
});

function verify(input: Omit<VerifyInput, 'application' | 'profile'>, id: string): Promise<VerifyReport> {
  return fixture.client.workflow.execute('verifyRepository', {
    taskQueue: fixture.taskQueue,
    workflowId: `${fixture.taskQueue}-${id}`,
    args: [{ application: APP, profile: 'local', ...input } satisfies VerifyInput],
  }) as Promise<VerifyReport>;
}

it('a good repository verifies OK, every sampled snapshot read back in full', async () => {
  const report = await verify({ filesPercent: 100 }, 'good');
  assert.equal(report.ok, true, JSON.stringify(report.failures));
  assert.equal(report.restorePoints, 3);
  assert.deepEqual(report.checkedRestorePoints, points.map((p) => p.point.id));
  assert.equal(report.checkedSnapshots, 3);
  assert.deepEqual(report.failures, []);

  const sampled = await verify({ sample: 1, filesPercent: 0 }, 'sample');
  assert.deepEqual(sampled.checkedRestorePoints, [points[2]!.point.id], 'a sample of one is the newest point');
});

it('a byte flipped in a pack fails verification, naming the snapshot and restore point it belongs to', async () => {
  const victim = points[1]!;
  assert.ok(victim.packs.length > 0, 'the second backup wrote its own pack');
  // Read it once through the worker's own kopia connection: its cache now holds these contents.
  assert.equal((await readSnapshot(repository, victim.point.snapshots[0]!.id)).code, 0);
  const pack = await open(victim.packs[0]!, 'r+');
  try {
    const { size } = await pack.stat();
    const at = Math.floor(size / 2);
    const byte = Buffer.alloc(1);
    await pack.read(byte, 0, 1, at);
    byte[0] = byte[0]! ^ 0xff;
    await pack.write(byte, 0, 1, at);
  } finally {
    await pack.close();
  }

  const snapshotID = victim.point.snapshots[0]!.id;
  await assert.rejects(verify({ filesPercent: 100 }, 'corrupt'), (error: WorkflowFailedError) => {
    const failure = error.cause as Error & { type?: string; details?: unknown[] };
    assert.equal(failure.type, 'VerificationFailed');
    assert.match(failure.message, new RegExp(`snapshot ${snapshotID} of restore point ${victim.point.id}`));
    const report = failure.details?.[0] as VerifyReport;
    assert.equal(report.ok, false);
    assert.deepEqual(report.failures.map((f) => f.snapshotID), [snapshotID], 'only the damaged snapshot fails');
    assert.match(report.failures[0]!.error, /checksum|decrypt|unable/i);
    return true;
  });
  // The other restore points are intact, and still restore.
  for (const other of [points[0]!, points[2]!]) assert.equal((await readSnapshot(repository, other.point.snapshots[0]!.id)).code, 0);
});
