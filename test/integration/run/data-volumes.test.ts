import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listSnapshots, type Repository } from '../../../activities/kopia/repository.ts';
import { findSnapshot } from '../../../activities/kopia/snapshots.ts';
import { applicationRepository, runStep, snapshotsUnder, treeManifest, writeAwkwardTree } from '../../support/data-functions.ts';
import { claimVolumeDir } from '../../support/pod-runtime/testing.ts';
import { ensureStack, kubeClients, testNamespace, type KubeClients, type StackInfo, type TestNamespace } from '../../support/stack.ts';
import { runningWorker, type RunningWorker, type TemporalFixture } from '../../support/temporal.ts';

// CopyVolumeData of a PVC provisioned by the stack's CSI driver (a real directory), restored into another PVC
// with RestoreData; then DeleteData and LocationDelete remove snapshots from the location, idempotently.
let stack: StackInfo;
let clients: KubeClients;
let fixture: TemporalFixture;
let namespace: TestNamespace;
let serving: RunningWorker;
let repository: Repository;
let ns: string;

async function createClaim(name: string): Promise<string> {
  await clients.core.createNamespacedPersistentVolumeClaim({
    namespace: ns,
    body: { metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'cairn-csi', resources: { requests: { storage: '1Gi' } } } },
  });
  return claimVolumeDir(clients, stack.state, ns, name);
}

async function dataPods(): Promise<string[]> {
  return (await clients.core.listNamespacedPod({ namespace: ns, labelSelector: 'cairn.io/pod-role=data' })).items.map((p) => p.metadata!.name!);
}

async function waitNoDataPods(): Promise<void> {
  for (let i = 0; i < 100 && (await dataPods()).length > 0; i++) await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(await dataPods(), []);
}

before(async () => {
  stack = await ensureStack();
  clients = kubeClients(stack);
  namespace = await testNamespace('data-volumes');
  ns = namespace.name;
  repository = await applicationRepository(clients, ns);
  serving = await runningWorker('data-volumes');
  fixture = serving.fixture;
});

after(async () => {
  await serving?.stop();
  await namespace?.cleanup();
});

describe('CopyVolumeData', () => {
  it("copies a PVC's files through a one-off pod, and RestoreData puts them into another PVC exactly", async () => {
    const source = await createClaim('source');
    writeAwkwardTree(source, 'volume');
    const original = treeManifest(source);
    const copy = await runStep(fixture, ns, 'CopyVolumeData', { namespace: ns, volume: 'source', dataArtifactPrefix: 'bucket/volumes/source' });
    assert.ok(copy.ok, copy.ok ? '' : copy.message);
    assert.match(String(copy.outputs.backupID), /^[0-9a-f]{32}$/);
    assert.equal(copy.outputs.backupRoot, '/mnt/vol_data/source');
    assert.equal(copy.outputs.backupArtifactLocation, 'bucket/volumes/source');
    assert.match(String(copy.outputs.backupTag), /^cairn-[0-9a-f]{10}-copy-volume-[0-9a-f]{6}$/);
    assert.ok(Number(copy.outputs.size) > 300_000);
    await waitNoDataPods();

    // Kanister's pattern: mount the new PVC where the old one was (backupRoot) and restore to /.
    const target = await createClaim('target');
    const restore = await runStep(fixture, ns, 'RestoreData', {
      namespace: ns,
      image: 'busybox:1.36',
      backupArtifactPrefix: String(copy.outputs.backupArtifactLocation),
      backupTag: String(copy.outputs.backupTag),
      volumes: { target: String(copy.outputs.backupRoot) },
    });
    assert.ok(restore.ok, restore.ok ? '' : restore.message);
    assert.deepEqual(treeManifest(target), original);
    await waitNoDataPods();
  });

  it('names a missing PVC and creates no pod', async () => {
    const outcome = await runStep(fixture, ns, 'CopyVolumeData', { namespace: ns, volume: 'no-such-claim', dataArtifactPrefix: 'bucket/volumes/none' });
    assert.ok(!outcome.ok);
    assert.match(outcome.message, new RegExp(`PVC ${ns}/no-such-claim not found`));
    assert.deepEqual(await dataPods(), []);
  });

  it('deletes its pod also when tar fails in it, and writes no snapshot', async () => {
    await createClaim('broken');
    // podOverride puts a `tar` that fails after some output first on the pod's PATH.
    const bin = join(stack.state, 'test-bin', ns);
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'tar'), '#!/bin/sh\nhead -c 100000 /dev/zero\necho "tar: simulated failure" >&2\nexit 2\n');
    chmodSync(join(bin, 'tar'), 0o755);
    const outcome = await runStep(fixture, ns, 'CopyVolumeData', {
      namespace: ns,
      volume: 'broken',
      dataArtifactPrefix: 'bucket/volumes/broken',
      podOverride: { containers: [{ name: 'container', env: [{ name: 'PATH', value: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` }] }] },
    });
    rmSync(bin, { recursive: true, force: true });
    assert.ok(!outcome.ok);
    assert.match(outcome.message, /tar exited 2 in .* after 100000 bytes; no snapshot was written; stderr:\ntar: simulated failure/);
    await waitNoDataPods();
    assert.deepEqual(await snapshotsUnder(repository, 'bucket/volumes/broken'), []);
  });
});

describe('DeleteData and LocationDelete', () => {
  async function backup(prefix: string): Promise<{ backupID: string; backupTag: string }> {
    const outcome = await runStep(fixture, ns, 'CopyVolumeData', { namespace: ns, volume: 'source', dataArtifactPrefix: prefix });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
    return { backupID: String(outcome.outputs.backupID), backupTag: String(outcome.outputs.backupTag) };
  }

  it('deletes by backupTag; the snapshot is gone from the listing and a second delete succeeds', async () => {
    const { backupID, backupTag } = await backup('bucket/delete/by-tag');
    const first = await runStep(fixture, ns, 'DeleteData', { namespace: ns, backupArtifactPrefix: 'bucket/delete/by-tag', backupTag, reclaimSpace: true });
    assert.ok(first.ok, first.ok ? '' : first.message);
    assert.deepEqual(first.outputs.deletedSnapshots, [backupID]);
    assert.match(String(first.outputs.spaceFreed), /^\d+ B$/);
    assert.equal(await findSnapshot(repository, backupID), undefined);
    assert.ok(!(await listSnapshots(repository)).some((snapshot) => snapshot.id === backupID), 'repository.ts listSnapshots agrees');
    const again = await runStep(fixture, ns, 'DeleteData', { namespace: ns, backupArtifactPrefix: 'bucket/delete/by-tag', backupTag });
    assert.ok(again.ok, again.ok ? '' : again.message);
    assert.deepEqual(again.outputs.deletedSnapshots, []);
  });

  it("deletes Kanister's space-separated lists of IDs, one prefix each, and refuses a prefix that does not match", async () => {
    const one = await backup('bucket/delete/one');
    const two = await backup('bucket/delete/two');
    const refused = await runStep(fixture, ns, 'DeleteData', { namespace: ns, backupArtifactPrefix: 'bucket/delete/one', backupID: `${one.backupID} ${two.backupID}` });
    assert.ok(!refused.ok);
    assert.match(refused.message, /is stored under \/bucket\/delete\/two, not under backupArtifactPrefix \/bucket\/delete\/one; nothing was deleted/);
    assert.ok(await findSnapshot(repository, one.backupID), 'nothing deleted when one item is refused');
    const outcome = await runStep(fixture, ns, 'DeleteData', { namespace: ns, backupArtifactPrefix: 'bucket/delete/one bucket/delete/two', backupID: `${one.backupID} ${two.backupID}` });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
    assert.deepEqual(outcome.outputs.deletedSnapshots, [one.backupID, two.backupID]);
    assert.deepEqual([...(await snapshotsUnder(repository, 'bucket/delete/one')), ...(await snapshotsUnder(repository, 'bucket/delete/two'))], []);
  });

  it('LocationDelete removes a snapshot by ID, then everything under an artifact path, and nothing else', async () => {
    const byId = await backup('bucket/location/by-id');
    const a = await backup('bucket/location/tree/a');
    const b = await backup('bucket/location/tree/b');
    const kept = await backup('bucket/location/treehouse');

    const deletedOne = await runStep(fixture, ns, 'LocationDelete', { artifact: byId.backupID });
    assert.ok(deletedOne.ok, deletedOne.ok ? '' : deletedOne.message);
    assert.deepEqual(deletedOne.outputs.deletedSnapshots, [byId.backupID]);
    assert.equal(await findSnapshot(repository, byId.backupID), undefined);

    const deletedTree = await runStep(fixture, ns, 'LocationDelete', { artifact: 's3://bucket/location/tree' });
    assert.ok(deletedTree.ok, deletedTree.ok ? '' : deletedTree.message);
    assert.deepEqual([...(deletedTree.outputs.deletedSnapshots as string[])].sort(), [a.backupID, b.backupID].sort());
    assert.ok(await findSnapshot(repository, kept.backupID), 'a sibling path that merely starts with the same letters is kept');

    const again = await runStep(fixture, ns, 'LocationDelete', { artifact: 's3://bucket/location/tree' });
    assert.ok(again.ok, again.ok ? '' : again.message);
    assert.deepEqual(again.outputs.deletedSnapshots, []);
    const everything = await runStep(fixture, ns, 'LocationDelete', { artifact: 's3://' });
    assert.ok(!everything.ok);
    assert.match(everything.message, /names the whole location/);
  });
});
