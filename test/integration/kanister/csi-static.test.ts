import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { readSnapshotContent } from '../../../activities/kube/snapshots.ts';
import { failure, outputFile as output, runner, SNAPSHOT_API, succeeded, task } from '../run/csi-blueprints.ts';
import { kanisterWorld, type KanisterWorld } from './world.ts';

// CreateCSISnapshotStatic and DeleteCSISnapshotContent against the stack's real snapshot controller and
// csi-snapshotter over the test-side driver: a storage snapshot outlives its VolumeSnapshot (Retain), is
// imported into another namespace by its handle, restored, and its contents deleted. And the deprecated Wait.
let world: KanisterWorld;
let run: ReturnType<typeof runner>;
let handle: string;
let retainedContent: string;
const DRIVER = 'csi.cairn.dev';

const content = (name: string) => readSnapshotContent(world.clients, name);

before(async () => {
  world = await kanisterWorld('kanister-csi-static');
  run = runner(world.fixture, () => world.ns);
  await world.clients.core.createNamespacedPersistentVolumeClaim({
    namespace: world.ns,
    body: { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'cairn-csi', resources: { requests: { storage: '1Gi' } } } },
  });
  // A storage snapshot with no VolumeSnapshot left: taken, its content set to Retain, the snapshot deleted.
  const taken = succeeded(
    await run('take', [
      task('write', 'echo "at the cut" > /mnt/data/hello.txt', { data: 'data' }),
      { name: 'snap', func: 'CreateCSISnapshot', args: { namespace: '{{Namespace}}', pvc: 'data', snapshotClass: 'cairn-snapclass' } },
    ]),
  );
  retainedContent = String(taken.phaseOutputs.snap!.snapshotContent);
  handle = (await content(retainedContent))!.status!.snapshotHandle!;
  await world.clients.custom.patchClusterCustomObject(
    { ...SNAPSHOT_API, plural: 'volumesnapshotcontents', name: retainedContent, body: { spec: { deletionPolicy: 'Retain' } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  succeeded(await run('drop', [{ name: 'delete', func: 'DeleteCSISnapshot', args: { namespace: '{{Namespace}}', name: String(taken.phaseOutputs.snap!.name) } }]));
});

after(async () => {
  await world?.close();
});

describe('CreateCSISnapshotStatic', () => {
  it('imports a storage snapshot by its handle through a pre-provisioned content, and it restores', async () => {
    assert.ok(await content(retainedContent), 'the retained content outlived its snapshot');
    const result = succeeded(
      await run('import', [
        { name: 'import', func: 'CreateCSISnapshotStatic', args: { name: 'imported', namespace: '{{Namespace}}', driver: DRIVER, snapshotHandle: handle, snapshotClass: 'cairn-snapclass' } },
        { name: 'restore', func: 'RestoreCSISnapshot', args: { namespace: '{{Namespace}}', name: '{{Phases.import.Output.name}}', pvc: 'restored' } },
        task('check', output('content', '/mnt/restored/hello.txt'), { restored: 'restored' }),
      ]),
    );
    const imported = result.phaseOutputs.import!;
    assert.equal(imported.name, 'imported');
    assert.equal(imported.namespace, world.ns);
    assert.match(String(imported.restoreSize), /^\d+/);
    const made = await content(String(imported.snapshotContent));
    assert.equal(made?.status?.snapshotHandle, handle);
    assert.equal(made?.spec.deletionPolicy, 'Delete');
    assert.equal(result.phaseOutputs.check!.content, 'at the cut');
  });

  it('adopts its own objects on a retry of the same run and phase', async () => {
    const again = succeeded(await run('import', [{ name: 'import', func: 'CreateCSISnapshotStatic', args: { name: 'imported', namespace: '{{Namespace}}', driver: DRIVER, snapshotHandle: handle, snapshotClass: 'cairn-snapclass' } }]));
    assert.equal(again.phaseOutputs.import!.name, 'imported');
    const other = await run('other', [{ name: 'import', func: 'CreateCSISnapshotStatic', args: { name: 'imported', namespace: '{{Namespace}}', driver: DRIVER, snapshotHandle: handle, snapshotClass: 'cairn-snapclass' } }]);
    assert.match(failure(other), /VolumeSnapshot .*\/imported already exists and was not created by this phase/);
  });

  it('fails with the controller\'s error for a handle the driver does not have, and leaves no object behind', async () => {
    const outcome = await run('bogus', [{ name: 'import', func: 'CreateCSISnapshotStatic', args: { name: 'bogus', namespace: '{{Namespace}}', driver: DRIVER, snapshotHandle: 'snapshot-does-not-exist', snapshotClass: 'cairn-snapclass' } }]);
    assert.match(failure(outcome), /VolumeSnapshot .*\/bogus failed: .*can not find snapshot for snapshotID snapshot-does-not-exist/);
    const left = (await world.clients.custom.listNamespacedCustomObject({ ...SNAPSHOT_API, namespace: world.ns, plural: 'volumesnapshots' })) as { items: { metadata: { name: string } }[] };
    for (let i = 0; i < 50 && left.items.some((item) => item.metadata.name === 'bogus'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      left.items = ((await world.clients.custom.listNamespacedCustomObject({ ...SNAPSHOT_API, namespace: world.ns, plural: 'volumesnapshots' })) as typeof left).items;
    }
    assert.equal(left.items.some((item) => item.metadata.name === 'bogus'), false);
    const contents = (await world.clients.custom.listClusterCustomObject({ ...SNAPSHOT_API, plural: 'volumesnapshotcontents' })) as { items: { metadata: { name: string }; spec: { volumeSnapshotRef?: { namespace?: string; name?: string } } }[] };
    assert.equal(contents.items.some((item) => item.spec.volumeSnapshotRef?.namespace === world.ns && item.spec.volumeSnapshotRef?.name === 'bogus'), false);
  });

  it("refuses a driver that is not the class's before creating anything", async () => {
    const outcome = await run('wrong-driver', [{ name: 'import', func: 'CreateCSISnapshotStatic', args: { name: 'wrong', namespace: '{{Namespace}}', driver: 'other.csi.example.com', snapshotHandle: handle, snapshotClass: 'cairn-snapclass' } }]);
    assert.match(failure(outcome), /VolumeSnapshotClass "cairn-snapclass" is for driver csi\.cairn\.dev, not other\.csi\.example\.com/);
  });
});

describe('DeleteCSISnapshotContent', () => {
  it('refuses a content still bound to an existing VolumeSnapshot', async () => {
    const snapshot = (await world.clients.custom.getNamespacedCustomObject({ ...SNAPSHOT_API, namespace: world.ns, plural: 'volumesnapshots', name: 'imported' })) as { status: { boundVolumeSnapshotContentName: string } };
    const outcome = await run('bound', [{ name: 'delete', func: 'DeleteCSISnapshotContent', args: { name: snapshot.status.boundVolumeSnapshotContentName } }]);
    assert.match(failure(outcome), new RegExp(`is bound to VolumeSnapshot ${world.ns}/imported, which still exists`));
  });

  it('deletes a content whose snapshot is gone, and succeeds when it is gone already', async () => {
    const first = succeeded(await run('delete-content', [{ name: 'delete', func: 'DeleteCSISnapshotContent', args: { name: retainedContent } }]));
    assert.deepEqual(first.phaseOutputs.delete, { name: retainedContent, deleted: true });
    assert.equal(await content(retainedContent), undefined);
    const again = succeeded(await run('delete-content-again', [{ name: 'delete', func: 'DeleteCSISnapshotContent', args: { name: retainedContent } }]));
    assert.deepEqual(again.phaseOutputs.delete, { name: retainedContent, deleted: false });
  });
});

describe('Wait', () => {
  it("runs Kanister's deprecated Wait with WaitV2's implementation", async () => {
    const ready = succeeded(
      await run('wait', [
        {
          name: 'wait',
          func: 'Wait',
          args: { timeout: '1m', conditions: { anyOf: [{ condition: '$.status.phase == "Bound"', objectReference: { apiVersion: 'v1', resource: 'persistentvolumeclaims', name: 'restored', namespace: '{{Namespace}}' } }] } },
        },
      ]),
    );
    assert.deepEqual(ready.phaseOutputs.wait, {});
    const timedOut = await run('wait-timeout', [
      { name: 'wait', func: 'Wait', retry: { maxAttempts: 1 }, args: { timeout: '2s', conditions: { allOf: [{ condition: '$.status.phase == "Lost"', objectReference: { apiVersion: 'v1', resource: 'persistentvolumeclaims', name: 'restored' } }] } } },
    ]);
    assert.match(failure(timedOut), /timed out after 2s waiting for all of the conditions; not holding:\n.*restored.*\$\.status\.phase == "Lost" \(observed \$\.status\.phase = "Bound"\)/);
  });
});
