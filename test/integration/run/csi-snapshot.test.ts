import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { waitUntil } from '../../../scripts/stack/process.ts';
import { claimVolumeDir } from '../../support/pod-runtime/testing.ts';
import { ensureStack, kubeClients, testNamespace, type KubeClients, type StackInfo, type TestNamespace } from '../../support/stack.ts';
import { runningWorker, type RunningWorker, type TemporalFixture } from '../../support/temporal.ts';
import { failure, listSnapshots, outputFile as output, runner, SNAPSHOT_API, succeeded, task } from './csi-blueprints.ts';

// The CSI snapshot functions through a real worker running blueprints, against the stack's real
// external-snapshotter and external-provisioner over the test-side driver; files are written and read by
// pods the pod runtime plays.
let stack: StackInfo;
let clients: KubeClients;
let fixture: TemporalFixture;
let namespace: TestNamespace;
let serving: RunningWorker;
let run: ReturnType<typeof runner>;
const clusterObjects: { kind: 'PersistentVolume' | 'VolumeSnapshotContent'; name: string }[] = [];
const snapshots = (labelSelector?: string) => listSnapshots(clients, namespace.name, labelSelector);

async function createClaim(name: string, storage = '1Gi'): Promise<void> {
  await clients.core.createNamespacedPersistentVolumeClaim({
    namespace: namespace.name,
    body: { metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'cairn-csi', resources: { requests: { storage } } } },
  });
}

const snapshotArgs = (extra: Record<string, unknown> = {}) => ({ namespace: '{{Namespace}}', pvc: 'data', snapshotClass: 'cairn-snapclass', ...extra });

before(async () => {
  stack = await ensureStack();
  clients = kubeClients(stack);
  namespace = await testNamespace('csi-snapshot');
  await createClaim('data');
  serving = await runningWorker('csi-snapshot');
  fixture = serving.fixture;
  run = runner(fixture, () => namespace.name);
});

after(async () => {
  await serving?.stop();
  await namespace?.cleanup();
  for (const object of clusterObjects) {
    if (object.kind === 'PersistentVolume') await clients.core.deletePersistentVolume({ name: object.name }).catch(() => undefined);
    else {
      // No sidecar of its driver ever runs, so nobody removes the controller's bound-protection finalizer.
      await clients.custom.deleteClusterCustomObject({ ...SNAPSHOT_API, plural: 'volumesnapshotcontents', name: object.name }).catch(() => undefined);
      await clients.custom
        .patchClusterCustomObject({ ...SNAPSHOT_API, plural: 'volumesnapshotcontents', name: object.name, body: { metadata: { finalizers: null } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
        .catch(() => undefined);
    }
  }
});

describe('CreateCSISnapshot → WaitForSnapshotReady → RestoreCSISnapshot → DeleteCSISnapshot', () => {
  it('restores the files of snapshot time into a larger PVC of another class, then deletes the snapshot and its content', async () => {
    const result = succeeded(
      await run('flow', [
        task('write', 'echo before > /mnt/data/hello.txt', { data: 'data' }),
        { name: 'snap', func: 'CreateCSISnapshot', args: snapshotArgs({ waitForReady: false, labels: { purpose: 'flow' } }) },
        { name: 'ready', func: 'WaitForSnapshotReady', args: { namespace: '{{Namespace}}', name: '{{Phases.snap.Output.name}}', timeout: '2m' } },
        task('change', 'echo after > /mnt/data/hello.txt', { data: 'data' }),
        {
          name: 'restore',
          func: 'RestoreCSISnapshot',
          args: { namespace: '{{Namespace}}', name: '{{Phases.snap.Output.name}}', pvc: 'restored', storageClass: 'other-class', restoreSize: '2Gi', labels: { purpose: 'flow' } },
        },
        task('check', output('content', '/mnt/restored/hello.txt'), { restored: 'restored' }),
        { name: 'delete', func: 'DeleteCSISnapshot', args: { namespace: '{{Namespace}}', name: '{{Phases.snap.Output.name}}' } },
      ]),
    );
    const { snap, ready, restore, check, delete: deleted } = result.phaseOutputs;
    assert.equal(snap?.pvc, 'data');
    assert.equal(snap?.namespace, namespace.name);
    assert.match(String(snap?.name), /^cairn-[0-9a-f]{10}-data-snapshot$/);
    assert.equal(ready?.restoreSize, '1Gi');
    assert.match(String(ready?.snapshotContent), /^snapcontent-/);
    assert.deepEqual(check, { content: 'before' }, 'the restored PVC holds the file as it was at snapshot time');
    assert.deepEqual(restore, { name: 'restored', namespace: namespace.name, storageClass: 'other-class', restoreSize: '2Gi', volumeName: restore?.volumeName });

    const claim = await clients.core.readNamespacedPersistentVolumeClaim({ namespace: namespace.name, name: 'restored' });
    assert.equal(claim.status?.phase, 'Bound');
    assert.equal(claim.spec?.storageClassName, 'other-class');
    assert.equal(claim.spec?.resources?.requests?.storage, '2Gi');
    assert.deepEqual({ ...claim.spec?.dataSource }, { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: snap?.name });
    const source = await claimVolumeDir(clients, stack.state, namespace.name, 'data');
    assert.equal(readFileSync(join(source, 'hello.txt'), 'utf8'), 'after\n', 'the source PVC kept its later change');

    assert.deepEqual(deleted, { name: snap?.name, namespace: namespace.name, deleted: true });
    assert.deepEqual(await snapshots('purpose=flow'), [], 'the snapshot is gone when DeleteCSISnapshot returns');
    const content = await clients.custom
      .getClusterCustomObject({ ...SNAPSHOT_API, plural: 'volumesnapshotcontents', name: String(ready?.snapshotContent) })
      .then(() => 'exists', (error: { code?: number }) => (error.code === 404 ? 'gone' : `error ${error.code}`));
    assert.equal(content, 'gone', 'its VolumeSnapshotContent (deletionPolicy Delete) is gone too');
  });

  it('deleting a snapshot that is already gone succeeds', async () => {
    const result = succeeded(await run('delete-gone', [{ name: 'delete', func: 'DeleteCSISnapshot', args: { namespace: '{{Namespace}}', name: 'never-existed' } }]));
    assert.deepEqual(result.phaseOutputs.delete, { name: 'never-existed', namespace: namespace.name, deleted: false });
  });
});

describe('retries find what the earlier attempt created', () => {
  it('a retried CreateCSISnapshot adopts its own snapshot, and a retried RestoreCSISnapshot its own PVC', async () => {
    // The first attempt creates the snapshot and ends before it is ready (as an attempt that died would).
    const first = succeeded(await run('retry', [{ name: 'snap', func: 'CreateCSISnapshot', args: snapshotArgs({ waitForReady: false, labels: { purpose: 'retry' } }) }]));
    const created = await snapshots('purpose=retry');
    assert.equal(created.length, 1);

    // Same workflow ID and phase: the same resource names, as for a retried attempt.
    const phases = [
      { name: 'snap', func: 'CreateCSISnapshot', args: snapshotArgs({ labels: { purpose: 'retry' } }) },
      { name: 'restore', func: 'RestoreCSISnapshot', args: { namespace: '{{Namespace}}', name: '{{Phases.snap.Output.name}}', pvc: 'retry-copy' } },
    ];
    const second = succeeded(await run('retry', phases));
    assert.equal(second.phaseOutputs.snap?.name, first.phaseOutputs.snap?.name);
    assert.match(String(second.phaseOutputs.snap?.snapshotContent), /^snapcontent-/, 'the adopted snapshot was waited on until ready');
    const afterSecond = await snapshots('purpose=retry');
    assert.deepEqual(afterSecond.map((s) => s.metadata.uid), created.map((s) => s.metadata.uid), 'still one snapshot: the first one');
    const copy = await clients.core.readNamespacedPersistentVolumeClaim({ namespace: namespace.name, name: 'retry-copy' });
    assert.equal(copy.spec?.storageClassName, 'cairn-csi', 'no storageClass: the cluster default');
    assert.equal(copy.spec?.resources?.requests?.storage, '1Gi', 'no restoreSize: the snapshot’s');

    const third = succeeded(await run('retry', phases));
    assert.deepEqual(third.phaseOutputs, second.phaseOutputs);
    assert.deepEqual((await snapshots('purpose=retry')).map((s) => s.metadata.uid), created.map((s) => s.metadata.uid));
    const copyAgain = await clients.core.readNamespacedPersistentVolumeClaim({ namespace: namespace.name, name: 'retry-copy' });
    assert.equal(copyAgain.metadata?.uid, copy.metadata?.uid, 'the PVC of the earlier run was found, not recreated');
  });

  it('a snapshot of that name made by someone else is neither adopted nor deleted', async () => {
    await clients.custom.createNamespacedCustomObject({
      ...SNAPSHOT_API,
      namespace: namespace.name,
      plural: 'volumesnapshots',
      body: { apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', metadata: { name: 'theirs', labels: { purpose: 'theirs' } }, spec: { volumeSnapshotClassName: 'cairn-snapclass', source: { persistentVolumeClaimName: 'data' } } },
    });
    const message = failure(await run('theirs', [{ name: 'snap', func: 'CreateCSISnapshot', retry: { maxAttempts: 1 }, args: snapshotArgs({ name: 'theirs' }) }]));
    assert.match(message, /VolumeSnapshot .*\/theirs already exists and was not created by this phase/);
    assert.equal((await snapshots('purpose=theirs')).length, 1, 'their snapshot is still there');
  });
});

describe('failures are clear and leave nothing behind', () => {
  it('a missing snapshot class fails before anything is created', async () => {
    const before = (await snapshots()).length;
    const message = failure(await run('no-class', [{ name: 'snap', func: 'CreateCSISnapshot', args: snapshotArgs({ snapshotClass: 'no-such-class' }) }]));
    assert.match(message, /snapshotClass: VolumeSnapshotClass "no-such-class" not found \(the cluster has .*cairn-snapclass.*\)/);
    assert.equal((await snapshots()).length, before);
  });

  it('a missing PVC fails before anything is created', async () => {
    const before = (await snapshots()).length;
    const message = failure(await run('no-pvc', [{ name: 'snap', func: 'CreateCSISnapshot', args: snapshotArgs({ pvc: 'missing' }) }]));
    assert.match(message, new RegExp(`pvc: PersistentVolumeClaim ${namespace.name}/missing not found`));
    assert.equal((await snapshots()).length, before);
  });

  it('a snapshot the driver cannot take fails with the controller’s error, and is deleted', async () => {
    // A PVC bound to a volume the storage has lost: the CSI CreateSnapshot call answers NotFound.
    const pv = `${namespace.name}-lost`;
    clusterObjects.push({ kind: 'PersistentVolume', name: pv });
    await clients.core.createPersistentVolume({
      body: {
        metadata: { name: pv },
        spec: {
          capacity: { storage: '1Gi' },
          accessModes: ['ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Retain',
          storageClassName: 'cairn-csi',
          csi: { driver: 'csi.cairn.dev', volumeHandle: `pvc-${namespace.name}-lost` },
          claimRef: { namespace: namespace.name, name: 'lost' },
        },
      },
    });
    await clients.core.createNamespacedPersistentVolumeClaim({
      namespace: namespace.name,
      body: { metadata: { name: 'lost' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'cairn-csi', volumeName: pv, resources: { requests: { storage: '1Gi' } } } },
    });
    await claimVolumeDir(clients, stack.state, namespace.name, 'lost'); // waits until Bound

    const message = failure(await run('lost', [{ name: 'snap', func: 'CreateCSISnapshot', retry: { maxAttempts: 1 }, args: snapshotArgs({ pvc: 'lost', labels: { purpose: 'lost' } }) }]));
    assert.match(message, /VolumeSnapshot .* failed: .*source volume pvc-.*-lost does not exist/);
    await waitUntil('the failed snapshot to be deleted', async () => (await snapshots('purpose=lost')).length === 0, 120_000);

    // WaitForSnapshotReady reports the same error for a snapshot made by hand.
    await clients.custom.createNamespacedCustomObject({
      ...SNAPSHOT_API,
      namespace: namespace.name,
      plural: 'volumesnapshots',
      body: { apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', metadata: { name: 'lost-by-hand' }, spec: { volumeSnapshotClassName: 'cairn-snapclass', source: { persistentVolumeClaimName: 'lost' } } },
    });
    const waited = failure(await run('lost-wait', [{ name: 'ready', func: 'WaitForSnapshotReady', retry: { maxAttempts: 1 }, args: { namespace: '{{Namespace}}', name: 'lost-by-hand' } }]));
    assert.match(waited, /VolumeSnapshot .*\/lost-by-hand failed: .*does not exist/);
  });

  it('WaitForSnapshotReady gives up after its timeout on a snapshot that never becomes ready', async () => {
    // Pre-provisioned content of a driver nobody runs: bound, never ready, no error.
    const content = `${namespace.name}-orphan`;
    clusterObjects.push({ kind: 'VolumeSnapshotContent', name: content });
    await clients.custom.createClusterCustomObject({
      ...SNAPSHOT_API,
      plural: 'volumesnapshotcontents',
      body: {
        apiVersion: 'snapshot.storage.k8s.io/v1',
        kind: 'VolumeSnapshotContent',
        metadata: { name: content },
        spec: { deletionPolicy: 'Retain', driver: 'nobody.cairn.dev', source: { snapshotHandle: 'nothing' }, volumeSnapshotRef: { name: 'orphan', namespace: namespace.name } },
      },
    });
    await clients.custom.createNamespacedCustomObject({
      ...SNAPSHOT_API,
      namespace: namespace.name,
      plural: 'volumesnapshots',
      body: { apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', metadata: { name: 'orphan' }, spec: { source: { volumeSnapshotContentName: content } } },
    });
    const message = failure(await run('timeout', [{ name: 'ready', func: 'WaitForSnapshotReady', args: { namespace: '{{Namespace}}', name: 'orphan', timeout: '3s' } }]));
    assert.match(message, /timed out after 3s waiting for VolumeSnapshot .*\/orphan to be ready to use/);
    const missing = failure(await run('wait-missing', [{ name: 'ready', func: 'WaitForSnapshotReady', args: { namespace: '{{Namespace}}', name: 'nothing-here' } }]));
    assert.match(missing, /VolumeSnapshot .*\/nothing-here not found/);
  });

  it('RestoreCSISnapshot refuses to overwrite a PVC it did not create, a size below the snapshot’s, and a missing snapshot', async () => {
    const snap = succeeded(await run('restore-refusals', [{ name: 'snap', func: 'CreateCSISnapshot', args: snapshotArgs({ labels: { purpose: 'refusals' } }) }])).phaseOutputs.snap!;
    const restore = (args: Record<string, unknown>) => [{ name: 'restore', func: 'RestoreCSISnapshot', args: { namespace: '{{Namespace}}', name: snap.name, ...args } }];
    const dataBefore = await clients.core.readNamespacedPersistentVolumeClaim({ namespace: namespace.name, name: 'data' });

    assert.match(failure(await run('overwrite', restore({ pvc: 'data' }))), /PersistentVolumeClaim .*\/data already exists and was not restored by this phase; refusing to overwrite it/);
    const dataAfter = await clients.core.readNamespacedPersistentVolumeClaim({ namespace: namespace.name, name: 'data' });
    assert.equal(dataAfter.metadata?.resourceVersion, dataBefore.metadata?.resourceVersion, 'the existing PVC was not touched');

    assert.match(failure(await run('too-small', restore({ pvc: 'small', restoreSize: '500Mi' }))), /restoreSize: 500Mi is smaller than the snapshot's restore size 1Gi/);
    assert.match(failure(await run('no-class', restore({ pvc: 'nowhere', storageClass: 'no-such-class' }))), /storageClass: StorageClass "no-such-class" not found/);
    assert.match(failure(await run('no-snapshot', [{ name: 'restore', func: 'RestoreCSISnapshot', args: { namespace: '{{Namespace}}', name: 'no-such-snapshot', pvc: 'x' } }])), /name: VolumeSnapshot .*\/no-such-snapshot not found/);
    const claims = (await clients.core.listNamespacedPersistentVolumeClaim({ namespace: namespace.name })).items.map((c) => c.metadata?.name);
    for (const name of ['small', 'nowhere', 'x']) assert.ok(!claims.includes(name), `no PVC ${name} was created`);
  });
});
