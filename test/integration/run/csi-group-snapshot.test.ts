import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import type { SnapshotRecord } from '../../support/csi-driver/store.ts';
import { ensureStack, kubeClients, testNamespace, type KubeClients, type StackInfo, type TestNamespace } from '../../support/stack.ts';
import { runningWorker, type RunningWorker, type TemporalFixture } from '../../support/temporal.ts';
import { failure, GROUP_SNAPSHOT_API, listSnapshots, outputFile as output, runner, SNAPSHOT_API, succeeded, task, type Phase, type VolumeSnapshot } from './csi-blueprints.ts';

// CreateCSIGroupSnapshot over two PVCs through a real worker: a VolumeGroupSnapshot taken by the stack's
// snapshot controllers (one cut by the driver), and the fallback of one VolumeSnapshot per PVC; each member
// restores into a PVC a pod reads; DeleteCSISnapshot removes a group by its name.
let stack: StackInfo;
let clients: KubeClients;
let fixture: TemporalFixture;
let namespace: TestNamespace;
let serving: RunningWorker;
let run: ReturnType<typeof runner>;
const snapshots = (labelSelector?: string) => listSnapshots(clients, namespace.name, labelSelector);

const group = (id: string, extra: Record<string, unknown> = {}): Phase => ({ name: id, func: 'CreateCSIGroupSnapshot', retry: { maxAttempts: 1 }, args: { namespace: '{{Namespace}}', pvcs: ['alpha', 'beta'], ...extra } });
const restore = (name: string, snapshot: string, pvc: string): Phase => ({ name, func: 'RestoreCSISnapshot', args: { namespace: '{{Namespace}}', name: snapshot, pvc, storageClass: 'other-class' } });
const deleteGroup = (name: string): Phase => ({ name: 'delete', func: 'DeleteCSISnapshot', args: { namespace: '{{Namespace}}', name, group: true } });

async function groupSnapshots(): Promise<{ metadata: { name: string; uid: string } }[]> {
  return ((await clients.custom.listNamespacedCustomObject({ ...GROUP_SNAPSHOT_API, namespace: namespace.name, plural: 'volumegroupsnapshots' })) as { items: { metadata: { name: string; uid: string } }[] }).items;
}

/** The driver's record of the snapshot behind a VolumeSnapshot (docs/dev-stack-csi.md, storage layout). */
async function driverRecord(snapshot: string): Promise<SnapshotRecord> {
  const found = (await clients.custom.getNamespacedCustomObject({ ...SNAPSHOT_API, namespace: namespace.name, plural: 'volumesnapshots', name: snapshot })) as VolumeSnapshot;
  const content = (await clients.custom.getClusterCustomObject({ ...SNAPSHOT_API, plural: 'volumesnapshotcontents', name: found.status!.boundVolumeSnapshotContentName! })) as {
    status: { snapshotHandle: string };
  };
  return JSON.parse(readFileSync(join(stack.state, 'csi', 'snapshots', `${content.status.snapshotHandle}.json`), 'utf8')) as SnapshotRecord;
}

async function claimLabels(name: string): Promise<string[]> {
  return Object.keys((await clients.core.readNamespacedPersistentVolumeClaim({ namespace: namespace.name, name })).metadata?.labels ?? {});
}

before(async () => {
  stack = await ensureStack();
  clients = kubeClients(stack);
  namespace = await testNamespace('csi-group');
  for (const name of ['alpha', 'beta']) {
    await clients.core.createNamespacedPersistentVolumeClaim({
      namespace: namespace.name,
      body: { metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'cairn-csi', resources: { requests: { storage: '1Gi' } } } },
    });
  }
  serving = await runningWorker('csi-group');
  fixture = serving.fixture;
  run = runner(fixture, () => namespace.name);
});

after(async () => {
  await serving?.stop();
  await namespace?.cleanup();
});

it('takes one VolumeGroupSnapshot of two PVCs in one cut; each member restores the files of that moment', async () => {
  const result = succeeded(
    await run('vgs', [
      task('write', 'echo alpha-1 > /mnt/alpha/v.txt; echo beta-1 > /mnt/beta/v.txt', { alpha: 'alpha', beta: 'beta' }),
      group('group', { labels: { purpose: 'vgs' } }),
      task('change', 'echo alpha-2 > /mnt/alpha/v.txt; echo beta-2 > /mnt/beta/v.txt', { alpha: 'alpha', beta: 'beta' }),
      restore('restoreAlpha', '{{index Phases.group.Output.snapshots "alpha"}}', 'alpha-restored'),
      restore('restoreBeta', '{{index Phases.group.Output.snapshots "beta"}}', 'beta-restored'),
      task('check', `${output('alpha', '/mnt/a/v.txt')}; ${output('beta', '/mnt/b/v.txt')}`, { a: 'alpha-restored', b: 'beta-restored' }),
    ]),
  );
  const outputs = result.phaseOutputs.group!;
  assert.equal(outputs.method, 'VolumeGroupSnapshot');
  assert.match(String(outputs.name), /^cairn-[0-9a-f]{10}-group$/);
  assert.deepEqual(Object.keys(outputs.snapshots as object).sort(), ['alpha', 'beta']);
  assert.deepEqual(outputs.restoreSizes, { alpha: '1Gi', beta: '1Gi' });
  assert.deepEqual(result.phaseOutputs.check, { alpha: 'alpha-1', beta: 'beta-1' });

  const members = (await snapshots()).filter((s) => s.status?.volumeGroupSnapshotName === outputs.name);
  assert.deepEqual(members.map((m) => m.metadata.name).sort(), Object.values(outputs.snapshots as Record<string, string>).sort());
  const records = await Promise.all(members.map((m) => driverRecord(m.metadata.name)));
  assert.equal(new Set(records.map((r) => r.creationTime)).size, 1, 'one cut: one creation time for both');
  assert.ok(records.every((r) => r.groupSnapshotId), 'taken by the driver as a group');
  for (const pvc of ['alpha', 'beta']) {
    assert.deepEqual((await claimLabels(pvc)).filter((key) => key.startsWith('cairn.io/snapshot-group')), [], `the selection label is gone from ${pvc}`);
  }

  // A member cannot go alone; the group goes as one.
  const member = (outputs.snapshots as Record<string, string>).alpha!;
  const alone = failure(await run('vgs-member', [{ name: 'delete', func: 'DeleteCSISnapshot', args: { namespace: '{{Namespace}}', name: member } }]));
  assert.match(alone, new RegExp(`belongs to VolumeGroupSnapshot ${outputs.name}: delete the group`));
  const deleted = succeeded(await run('vgs-delete', [deleteGroup(String(outputs.name))]));
  assert.equal(deleted.phaseOutputs.delete?.deleted, true);
  assert.deepEqual(await groupSnapshots(), []);
  assert.deepEqual((await snapshots()).filter((s) => s.status?.volumeGroupSnapshotName === outputs.name), [], 'its members went with it');
});

it('a retried CreateCSIGroupSnapshot adopts the group of the earlier attempt', async () => {
  const first = succeeded(await run('vgs-retry', [group('group')]));
  const [created] = await groupSnapshots();
  const second = succeeded(await run('vgs-retry', [group('group')]));
  assert.deepEqual(second.phaseOutputs.group, first.phaseOutputs.group);
  assert.deepEqual((await groupSnapshots()).map((g) => g.metadata.uid), [created!.metadata.uid], 'still the one group');
  succeeded(await run('vgs-retry-delete', [deleteGroup(String(first.phaseOutputs.group!.name))]));
});

it('without the group API (method: VolumeSnapshots) cuts one snapshot per PVC, tied by a label, deleted as a group', async () => {
  const result = succeeded(
    await run('separate', [
      task('write', 'echo alpha-3 > /mnt/alpha/v.txt; echo beta-3 > /mnt/beta/v.txt', { alpha: 'alpha', beta: 'beta' }),
      group('group', { method: 'VolumeSnapshots', pvcs: 'alpha, beta', snapshotClass: 'cairn-snapclass' }),
      task('change', 'echo alpha-4 > /mnt/alpha/v.txt', { alpha: 'alpha' }),
      restore('restoreAlpha', '{{index Phases.group.Output.snapshots "alpha"}}', 'alpha-separate'),
      task('check', output('alpha', '/mnt/a/v.txt'), { a: 'alpha-separate' }),
    ]),
  );
  const outputs = result.phaseOutputs.group!;
  assert.equal(outputs.method, 'VolumeSnapshots');
  assert.deepEqual(outputs.snapshots, { alpha: `${outputs.name}-alpha`, beta: `${outputs.name}-beta` });
  assert.deepEqual(result.phaseOutputs.check, { alpha: 'alpha-3' });
  const labelled = await snapshots(`cairn.io/snapshot-group=${outputs.name}`);
  assert.deepEqual(labelled.map((s) => s.spec.source.persistentVolumeClaimName).sort(), ['alpha', 'beta']);
  assert.ok(labelled.every((s) => s.status?.readyToUse), 'both ready when the phase ended');
  assert.deepEqual(await groupSnapshots(), [], 'no VolumeGroupSnapshot was made');

  const deleted = succeeded(await run('separate-delete', [deleteGroup(String(outputs.name))]));
  assert.equal(deleted.phaseOutputs.delete?.deleted, true);
  assert.deepEqual(await snapshots(`cairn.io/snapshot-group=${outputs.name}`), []);
});

it('a missing PVC or group class fails before anything is created or labelled', async () => {
  const before = (await snapshots()).length;
  const missing = failure(await run('missing-pvc', [group('group', { pvcs: ['alpha', 'missing'] })]));
  assert.match(missing, new RegExp(`pvcs: PersistentVolumeClaim ${namespace.name}/missing not found`));
  const noClass = failure(await run('missing-class', [group('group', { groupSnapshotClass: 'no-such-class' })]));
  assert.match(noClass, /groupSnapshotClass: VolumeGroupSnapshotClass "no-such-class" not found \(the cluster has .*cairn-groupsnapclass.*\)/);
  assert.deepEqual(await groupSnapshots(), []);
  assert.equal((await snapshots()).length, before);
  assert.deepEqual((await claimLabels('alpha')).filter((key) => key.startsWith('cairn.io/')), []);
});
