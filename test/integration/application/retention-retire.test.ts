import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import type { Repository } from '../../../activities/kopia/repository.ts';
import { listSnapshotEntries } from '../../../activities/kopia/snapshots.ts';
import type { OpenedLocation } from '../../../activities/location/location.ts';
import { listRestorePoints } from '../../../activities/location/restore-points.ts';
import { deleteRestorePoint } from '../../../activities/retention/delete.ts';
import type { RestorePoint } from '../../../src/location/restore-point.ts';
import type { RetireInput, RetireResult } from '../../../src/retention/types.ts';
import { pseudoRandom } from '../../support/data-functions.ts';
import { runningWorker, type RunningWorker, type TemporalFixture } from '../../support/temporal.ts';
import { readSnapshot } from '../location/location-testing.ts';
import { applicationPoint, componentPoint, directoryBytes, localLocation, streamSnapshot } from './retention-testing.ts';

// Retention end to end, on a real filesystem location, real kopia and the Temporal dev server: six daily
// component backups (13 MB of distinct data each, so each fills its own kopia pack) and three Application
// backups (a component snapshot and a resources bundle each) are retired to keepLast 2 per series; expired
// manifests and snapshots are gone, kept ones restore byte for byte, and the repository shrinks on disk
// after maintenance. Then a delete cut short after its manifest went is finished by the next retirement —
// but a young snapshot without a manifest (a backup still running) is left alone.
const APP = 'shop';
const POINT_BYTES = 13 * 1024 * 1024;
let serving: RunningWorker;
let fixture: TemporalFixture;
let location: OpenedLocation;
let repository: Repository;
let repositoryDir: string;
const components: { point: RestorePoint; data: Buffer }[] = [];
const applications: RestorePoint[] = [];

before(async () => {
  const local = await localLocation('retention', APP);
  ({ location, repository } = local);
  repositoryDir = join(local.root, 'repositories', APP);
  for (let day = 1; day <= 6; day++) {
    const data = pseudoRandom(`retention-day-${day}`, POINT_BYTES);
    const snapshotID = await streamSnapshot(repository, data, `cairn-day${day}-stream`);
    components.push({ point: await componentPoint(location, APP, `2026-11-0${day}T02:00:00.000Z`, snapshotID, `day${day}`), data });
  }
  for (let day = 1; day <= 3; day++) {
    const db = await streamSnapshot(repository, pseudoRandom(`app-db-${day}`, 64 * 1024), `cairn-app${day}-db`);
    const resources = await streamSnapshot(repository, Buffer.from(`{"kind":"ConfigMap","day":${day}}`), `cairn-app${day}-resources`, 'resources');
    applications.push(await applicationPoint(location, APP, `2026-11-0${day}T03:00:00.000Z`, db, resources, `app${day}`));
  }
  serving = await runningWorker('retention-retire');
  fixture = serving.fixture;
});

after(async () => {
  await serving?.stop();
});

function retire(input: Omit<RetireInput, 'application' | 'profile'>, id: string): Promise<RetireResult> {
  return fixture.client.workflow.execute('retireRestorePoints', {
    taskQueue: fixture.taskQueue,
    workflowId: `${fixture.taskQueue}-${id}`,
    args: [{ application: APP, profile: 'local', ...input } satisfies RetireInput],
  }) as Promise<RetireResult>;
}

async function manifestIds(): Promise<string[]> {
  return (await listRestorePoints(location, { application: APP })).points.map((point) => point.id);
}

async function snapshotIds(): Promise<Set<string>> {
  return new Set((await listSnapshotEntries(repository)).map((snapshot) => snapshot.id));
}

it('a dry run plans per series with the reason each point is kept, and deletes nothing', async () => {
  const before = await manifestIds();
  const result = await retire({ policy: { keepLast: 2 }, dryRun: true, orphanGraceMs: 0 }, 'dry');
  assert.equal(result.dryRun, true);
  assert.deepEqual(result.plan.series.map((s) => s.key), ['application namespace/shop application', 'component namespace/shop stream-db']);
  const component = result.plan.series[1]!;
  assert.deepEqual(component.keep.map((d) => [d.id, d.reasons]), [
    [components[5]!.point.id, ['last 1/2']],
    [components[4]!.point.id, ['last 2/2']],
  ]);
  assert.equal(component.expire.length, 4);
  assert.deepEqual(result.plan.series[0]!.expire.map((d) => d.id), [applications[0]!.id]);
  assert.deepEqual(result.plan.expire.find((p) => p.id === applications[0]!.id)?.snapshotIDs, applications[0]!.snapshots.map((s) => s.id), 'an Application point owns its component and resources snapshots');
  assert.deepEqual(result.plan.orphans, []);
  assert.deepEqual(result.deleted, []);
  assert.equal(result.maintenance, undefined);
  assert.deepEqual(await manifestIds(), before);
});

it('retiring to keepLast 2 leaves exactly 2 manifests per series, removes the expired snapshots, keeps the rest restorable, and maintenance shrinks the repository', async () => {
  const bytesBefore = await directoryBytes(repositoryDir);
  const result = await retire({ policy: { keepLast: 2 }, orphanGraceMs: 0, maintenance: { safety: 'none' } }, 'apply');

  const expiredComponents = components.slice(0, 4).map((c) => c.point);
  const keptComponents = components.slice(4);
  assert.deepEqual(await manifestIds(), [...[components[4]!.point.id, components[5]!.point.id], ...[applications[1]!.id, applications[2]!.id]].sort());
  assert.deepEqual(result.deleted.map((d) => d.id).sort(), [...expiredComponents.map((p) => p.id), applications[0]!.id].sort());
  assert.ok(result.deleted.every((d) => d.manifestRemoved && d.sharedSnapshots.length === 0));

  const present = await snapshotIds();
  for (const point of [...expiredComponents, applications[0]!]) for (const snapshot of point.snapshots) assert.ok(!present.has(snapshot.id), `expired snapshot ${snapshot.id} of ${point.id} is gone from kopia`);
  for (const point of [applications[1]!, applications[2]!]) for (const snapshot of point.snapshots) assert.ok(present.has(snapshot.id), `kept Application snapshot ${snapshot.id} is still there`);
  for (const { point, data } of keptComponents) {
    const restored = await readSnapshot(repository, point.snapshots[0]!.id);
    assert.equal(restored.code, 0, restored.stderr);
    assert.ok(restored.bytes.equals(data), `restore point ${point.id} restores its data byte for byte`);
  }

  // Four 13 MB points went: the repository on disk must have given most of that back.
  const bytesAfter = await directoryBytes(repositoryDir);
  assert.ok(result.maintenance, 'maintenance ran');
  assert.ok(bytesAfter < bytesBefore - 3.5 * POINT_BYTES, `repository shrank from ${bytesBefore} to ${bytesAfter} bytes`);
  assert.ok(result.maintenance.storedBytesAfter < result.maintenance.storedBytesBefore, 'the workflow reports the shrink');
});

it('a delete cut short after its manifest went is finished by the next retirement; a young snapshot without a manifest is left alone', async () => {
  const victim = components[4]!.point;
  // The real delete, with a location whose store fails right after the manifest is removed (a worker dying there).
  let removed = false;
  const dying: OpenedLocation = {
    ...location,
    store: {
      ...location.store,
      read: (key) => location.store.read(key),
      write: (key, bytes, options) => location.store.write(key, bytes, options),
      remove: async (key) => {
        await location.store.remove(key);
        removed = true;
      },
      list: async (prefix) => {
        if (removed) throw new Error('worker died');
        return location.store.list(prefix);
      },
    },
  };
  await assert.rejects(deleteRestorePoint(dying, APP, victim.id), /worker died/);
  assert.ok(!(await manifestIds()).includes(victim.id), 'the manifest went first: the point is no longer listed');
  assert.ok((await snapshotIds()).has(victim.snapshots[0]!.id), 'its snapshot is still in kopia');

  // A backup in progress: its finished phase's snapshot is complete, but its manifest comes only at the end.
  const orphanStart = new Date((await listSnapshotEntries(repository)).find((s) => s.id === victim.snapshots[0]!.id)!.startTime).getTime();
  const waitMs = orphanStart + 6000 - Date.now();
  if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  const inFlight = await streamSnapshot(repository, pseudoRandom('in-flight', 4096), 'cairn-running-stream');
  const inFlightStart = new Date((await listSnapshotEntries(repository)).find((s) => s.id === inFlight)!.startTime).getTime();

  // A grace period longer than the in-flight snapshot's age, shorter than the orphan's.
  const graceMs = Date.now() - inFlightStart + 3000;
  const result = await retire({ policy: { keepLast: 2 }, orphanGraceMs: graceMs, maintenance: { safety: 'none' } }, 'orphans');
  assert.deepEqual(result.deleted, [], 'no restore point expired this time');
  assert.deepEqual(result.plan.orphans.map((o) => [o.id, o.mark]), [[victim.snapshots[0]!.id, 'pin cairn']]);
  assert.equal(result.plan.youngOrphans, 1);
  assert.deepEqual(result.orphansDeleted, [victim.snapshots[0]!.id]);
  const present = await snapshotIds();
  assert.ok(!present.has(victim.snapshots[0]!.id), 'the interrupted delete is complete');
  assert.ok(present.has(inFlight), 'the running backup keeps its snapshot');
  const kept = components[5]!;
  assert.ok((await readSnapshot(repository, kept.point.snapshots[0]!.id)).bytes.equals(kept.data), 'the newest point still restores');

  // Deleting again is a no-op, not an error.
  const again = await deleteRestorePoint(location, APP, victim.id, victim.snapshots.map((s) => s.id));
  assert.deepEqual(again, { id: victim.id, manifestRemoved: false, deletedSnapshots: [], sharedSnapshots: [] });
});

it('a policy that keeps nothing is refused before anything is touched', async () => {
  const before = await manifestIds();
  await assert.rejects(retire({ policy: { keepLast: 0 } }, 'empty'), (error: Error & { cause?: Error & { cause?: Error } }) => /keeps nothing/.test(String(error.cause?.cause?.message ?? error.cause?.message)));
  assert.deepEqual(await manifestIds(), before);
});
