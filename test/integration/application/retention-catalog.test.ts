import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Repository } from '../../../activities/kopia/repository.ts';
import { listSnapshotEntries } from '../../../activities/kopia/snapshots.ts';
import type { OpenedLocation } from '../../../activities/location/location.ts';
import { listRestorePoints } from '../../../activities/location/restore-points.ts';
import type { ApplicationSpec } from '../../../src/application/types.ts';
import { main } from '../../../src/cli/main.ts';
import type { RestorePoint } from '../../../src/location/restore-point.ts';
import type { RetireResult, VerifyReport } from '../../../src/retention/types.ts';
import { pseudoRandom } from '../../support/data-functions.ts';
import { runningWorker, type RunningWorker, type TemporalFixture } from '../../support/temporal.ts';
import { applicationPoint, componentPoint, localLocation, streamSnapshot } from './retention-testing.ts';

// The catalog and the retention commands as a user runs them (the CLI's entry point, in process): list,
// describe and delete restore points from the location; retention apply and verify through Temporal.
const APP = 'catalog';
let serving: RunningWorker;
let fixture: TemporalFixture;
let location: OpenedLocation;
let repository: Repository;
let temporalFlags: string[];
const points: RestorePoint[] = [];

before(async () => {
  const local = await localLocation('catalog', APP);
  ({ location, repository } = local);
  process.env.KUBECONFIG = local.stack.kube.kubeconfig;
  for (let day = 1; day <= 2; day++) {
    const snapshotID = await streamSnapshot(repository, pseudoRandom(`catalog-${day}`, 256 * 1024), `cairn-catalog${day}-stream`);
    points.push(await componentPoint(location, APP, `2026-09-0${day}T02:00:00.000Z`, snapshotID, `catalog${day}`));
  }
  const db = await streamSnapshot(repository, pseudoRandom('catalog-app-db', 64 * 1024), 'cairn-catalog-app-db');
  const resources = await streamSnapshot(repository, Buffer.from('{"kind":"ConfigMap"}'), 'cairn-catalog-app-resources', 'resources');
  const spec: ApplicationSpec = {
    apiVersion: 'cairn.io/v1alpha1',
    kind: 'Application',
    metadata: { name: APP },
    spec: { namespace: 'shop', components: [{ name: 'db', workload: { kind: 'StatefulSet', name: 'db' }, blueprint: 'stream-db' }], retention: { keepLast: 1 } },
  };
  points.push(await applicationPoint(location, APP, '2026-09-03T03:00:00.000Z', db, resources, 'catalog-app', spec));
  serving = await runningWorker('retention-catalog');
  fixture = serving.fixture;
  temporalFlags = ['--address', fixture.address, '--namespace', fixture.namespace, '--task-queue', fixture.taskQueue];
});

after(async () => {
  await serving?.stop();
});

async function cairn(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { code, stdout, stderr };
}

it('list and describe read the catalog from the location, as text and JSON', async () => {
  const list = await cairn('restore-points', 'list', '--profile', 'local', '--application', APP, '--output', 'json');
  assert.equal(list.code, 0, list.stderr);
  const listed = JSON.parse(list.stdout) as { restorePoints: RestorePoint[] };
  assert.deepEqual(listed.restorePoints.map((p) => [p.id, p.scope ?? 'component']), [
    [points[0]!.id, 'component'],
    [points[1]!.id, 'component'],
    [points[2]!.id, 'application'],
  ]);
  const text = await cairn('restore-points', 'list', '--profile', 'local');
  assert.match(text.stdout, new RegExp(`${APP}/${points[2]!.id}\\s+namespace/shop\\s+application\\s+2\\s+.*\\s+application\\n`));

  const app = points[2]!;
  const described = await cairn('restore-points', 'describe', `${APP}/${app.id}`, '--profile', 'local');
  assert.equal(described.code, 0, described.stderr);
  assert.match(described.stdout, /scope:\s+application/);
  assert.match(described.stdout, /components \(1\):\n\s+db\s+statefulset\/shop\/db\s+blueprint stream-db/);
  assert.match(described.stdout, new RegExp(`resources:\\s+1 object\\(s\\) in snapshot ${app.resources!.snapshotID}\\n\\s+ConfigMap\\s+1`));
  for (const snapshot of app.snapshots) assert.ok(described.stdout.includes(snapshot.id), `describe lists snapshot ${snapshot.id}`);
  const json = await cairn('restore-points', 'describe', APP, app.id, '--profile', 'local', '-o', 'json');
  assert.deepEqual(JSON.parse(json.stdout), app);

  const missing = await cairn('restore-points', 'describe', `${APP}/20200101T000000.000Z-00000000`, '--profile', 'local');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no restore point/);
});

it('retention apply --dry-run, with no counts, plans by the retention of the stored Application spec and deletes nothing; an empty policy is a usage error', async () => {
  const dry = await cairn('retention', 'apply', APP, '--dry-run', '--profile', 'local', '--orphan-grace', '0s', '-o', 'json', ...temporalFlags);
  assert.equal(dry.code, 0, dry.stderr);
  const result = JSON.parse(dry.stdout) as RetireResult;
  assert.equal(result.dryRun, true);
  assert.deepEqual(result.plan.policy, { keepLast: 1 });
  assert.equal(result.plan.policySource, `spec of restore point ${points[2]!.id}`);
  assert.deepEqual(result.plan.expire.map((p) => p.id), [points[0]!.id]);
  assert.equal((await listRestorePoints(location, { application: APP })).points.length, 3);

  const empty = await cairn('retention', 'apply', APP, '--keep-last', '0', ...temporalFlags);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /keeps nothing/);
});

it('verify reports OK through the workflow', async () => {
  const verified = await cairn('verify', APP, '--profile', 'local', '--files-percent', '100', '-o', 'json', ...temporalFlags);
  assert.equal(verified.code, 0, verified.stderr);
  const report = JSON.parse(verified.stdout) as VerifyReport;
  assert.equal(report.ok, true);
  assert.equal(report.checkedSnapshots, 4);
});

it('delete asks for --yes, then removes the manifest and its snapshots; an unknown id deletes nothing', async () => {
  const victim = points[0]!;
  const unconfirmed = await cairn('restore-points', 'delete', APP, victim.id, '--profile', 'local');
  assert.equal(unconfirmed.code, 2);
  assert.match(unconfirmed.stderr, /would delete[\s\S]*add --yes/);
  assert.equal((await listRestorePoints(location, { application: APP })).points.length, 3);

  const unknown = await cairn('restore-points', 'delete', APP, victim.id, '20200101T000000.000Z-00000000', '--profile', 'local', '--yes');
  assert.equal(unknown.code, 1);
  assert.equal((await listRestorePoints(location, { application: APP })).points.length, 3, 'nothing deleted when one id is unknown');

  const deleted = await cairn('restore-points', 'delete', APP, victim.id, '--profile', 'local', '--yes', '--reclaim', '-o', 'json');
  assert.equal(deleted.code, 0, deleted.stderr);
  const output = JSON.parse(deleted.stdout) as { deleted: { id: string; deletedSnapshots: string[] }[]; maintenance?: unknown };
  assert.deepEqual(output.deleted.map((d) => [d.id, d.deletedSnapshots]), [[victim.id, [victim.snapshots[0]!.id]]]);
  assert.ok(output.maintenance, '--reclaim ran maintenance');
  assert.deepEqual((await listRestorePoints(location, { application: APP })).points.map((p) => p.id), [points[1]!.id, points[2]!.id]);
  const present = new Set((await listSnapshotEntries(repository)).map((s) => s.id));
  assert.ok(!present.has(victim.snapshots[0]!.id));
  assert.ok(present.has(points[1]!.snapshots[0]!.id));
});
