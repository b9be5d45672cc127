import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { V1PersistentVolume, V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { SnapshotRecord } from '../../support/csi-driver/store.ts';
import { ensureStack, kubeClients, type KubeClients, type StackInfo, testNamespace, type TestNamespace } from '../../support/stack.ts';

/** `stack.json`'s `csi` section (scripts/stack/components/csi.ts `info()`). */
interface CsiInfo {
  driver: string;
  volumes: string;
  snapshots: string;
  storageClass: string;
  otherStorageClass: string;
  snapshotClass: string;
}

const SNAPSHOT_API = { group: 'snapshot.storage.k8s.io', version: 'v1' };
const GROUP_SNAPSHOT_API = { group: 'groupsnapshot.storage.k8s.io', version: 'v1' };

interface VolumeSnapshot {
  metadata: { name: string; namespace: string };
  spec: Record<string, unknown>;
  status?: { readyToUse?: boolean; boundVolumeSnapshotContentName?: string; restoreSize?: string; error?: { message?: string } };
}

interface VolumeSnapshotContent {
  metadata: { name: string };
  status?: { snapshotHandle?: string; readyToUse?: boolean; restoreSize?: number };
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 200));
  }
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(2)} s`;
}

describe('CSI layer: real provisioner and snapshot controllers over the test-side driver', () => {
  let stack: StackInfo;
  let kube: KubeClients;
  let csi: CsiInfo;
  let source: TestNamespace;
  let elsewhere: TestNamespace;
  let writer: ChildProcess | undefined;
  let sourceHandle = '';
  let snapshotHandle = '';
  const preboundContent = `cairn-test-prebound-${Date.now().toString(36)}`;

  const claim = (name: string, storageClassName: string, dataSource?: { apiGroup?: string; kind: string; name: string }): V1PersistentVolumeClaim => ({
    metadata: { name },
    spec: {
      accessModes: ['ReadWriteOnce'],
      storageClassName,
      resources: { requests: { storage: '1Gi' } },
      ...(dataSource ? { dataSource } : {}),
    },
  });

  async function createClaim(namespace: string, body: V1PersistentVolumeClaim): Promise<V1PersistentVolume> {
    await kube.core.createNamespacedPersistentVolumeClaim({ namespace, body });
    const name = body.metadata!.name!;
    const bound = await eventually(`PVC ${namespace}/${name} to be Bound`, async () => {
      const found = await kube.core.readNamespacedPersistentVolumeClaim({ namespace, name });
      return found.status?.phase === 'Bound' ? found : undefined;
    });
    return kube.core.readPersistentVolume({ name: bound.spec!.volumeName! });
  }

  function volumeDir(pv: V1PersistentVolume): string {
    return join(csi.volumes, pv.spec!.csi!.volumeHandle);
  }

  async function createSnapshot(namespace: string, name: string, spec: Record<string, unknown>): Promise<VolumeSnapshotContent> {
    await kube.custom.createNamespacedCustomObject({
      ...SNAPSHOT_API,
      namespace,
      plural: 'volumesnapshots',
      body: { apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', metadata: { name }, spec },
    });
    const ready = await eventually(`VolumeSnapshot ${namespace}/${name} to be ready`, async () => {
      const found = (await kube.custom.getNamespacedCustomObject({ ...SNAPSHOT_API, namespace, plural: 'volumesnapshots', name })) as VolumeSnapshot;
      if (found.status?.error?.message) throw new Error(found.status.error.message);
      return found.status?.readyToUse ? found : undefined;
    });
    return (await kube.custom.getClusterCustomObject({
      ...SNAPSHOT_API,
      plural: 'volumesnapshotcontents',
      name: ready.status!.boundVolumeSnapshotContentName!,
    })) as VolumeSnapshotContent;
  }

  before(async () => {
    stack = await ensureStack();
    kube = kubeClients(stack);
    csi = stack.csi as CsiInfo;
    source = await testNamespace('csi');
    elsewhere = await testNamespace('csi-elsewhere');
  });

  after(async () => {
    writer?.kill('SIGKILL');
    await kube?.custom
      .deleteClusterCustomObject({ ...SNAPSHOT_API, plural: 'volumesnapshotcontents', name: preboundContent })
      .catch(() => undefined);
    await source?.cleanup();
    await elsewhere?.cleanup();
  });

  it('csi-provisioner binds a PVC of the default class to a new volume directory', async (t) => {
    const started = performance.now();
    const pv = await createClaim(source.name, claim('data', csi.storageClass));
    t.diagnostic(`PVC Bound in ${seconds(started)}`);
    assert.equal(pv.spec?.csi?.driver, 'csi.cairn.dev');
    assert.equal(pv.spec?.storageClassName, 'cairn-csi');
    sourceHandle = pv.spec!.csi!.volumeHandle;
    assert.ok(existsSync(volumeDir(pv)), `${volumeDir(pv)} exists`);
    assert.equal(pv.spec?.csi?.volumeAttributes?.path, volumeDir(pv));
  });

  it('a VolumeSnapshot becomes ReadyToUse, taken while the volume’s writer was paused', async (t) => {
    const dir = join(csi.volumes, sourceHandle);
    writeFileSync(join(dir, 'hello.txt'), 'written before the snapshot\n');
    // A live writer, listed the way the pod runtime lists a database server.
    writer = spawn(process.execPath, ['-e', "setInterval(() => require('node:fs').appendFileSync('live.log', 'x\\n'), 5)"], { cwd: dir, stdio: 'ignore' });
    writeFileSync(join(csi.volumes, `${sourceHandle}.writers`), `${writer.pid}\n`);

    const started = performance.now();
    const content = await createSnapshot(source.name, 'snap', {
      volumeSnapshotClassName: csi.snapshotClass,
      source: { persistentVolumeClaimName: 'data' },
    });
    t.diagnostic(`VolumeSnapshot ready in ${seconds(started)}`);
    snapshotHandle = content.status!.snapshotHandle!;
    assert.ok(existsSync(join(csi.snapshots, snapshotHandle, 'hello.txt')));
    const record = JSON.parse(readFileSync(join(csi.snapshots, `${snapshotHandle}.json`), 'utf8')) as SnapshotRecord;
    assert.deepEqual(record.pausedPids, [writer.pid]);
    assert.equal(record.sourceVolumeId, sourceHandle);
    assert.equal(content.status?.restoreSize, record.sizeBytes);
    t.diagnostic(`writer paused ${record.pausedMs} ms for the copy`);

    writer.kill('SIGKILL');
    writer = undefined;
    writeFileSync(join(dir, 'hello.txt'), 'changed after the snapshot\n');
  });

  it('a PVC of other-class restored from the snapshot holds the snapshot’s files', async (t) => {
    const started = performance.now();
    const pv = await createClaim(
      source.name,
      claim('restored', csi.otherStorageClass, { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 'snap' }),
    );
    t.diagnostic(`restored PVC Bound in ${seconds(started)}`);
    assert.equal(pv.spec?.storageClassName, 'other-class');
    assert.equal(readFileSync(join(volumeDir(pv), 'hello.txt'), 'utf8'), 'written before the snapshot\n');
  });

  it('a PVC cloned from the PVC holds the volume’s current files', async () => {
    const pv = await createClaim(source.name, claim('clone', csi.storageClass, { kind: 'PersistentVolumeClaim', name: 'data' }));
    assert.equal(readFileSync(join(volumeDir(pv), 'hello.txt'), 'utf8'), 'changed after the snapshot\n');
  });

  it('another namespace restores the same snapshot through a pre-bound VolumeSnapshotContent', async (t) => {
    const started = performance.now();
    await kube.custom.createClusterCustomObject({
      ...SNAPSHOT_API,
      plural: 'volumesnapshotcontents',
      body: {
        apiVersion: 'snapshot.storage.k8s.io/v1',
        kind: 'VolumeSnapshotContent',
        metadata: { name: preboundContent },
        spec: {
          // Retain: the data belongs to the original snapshot, which deletes it.
          deletionPolicy: 'Retain',
          driver: csi.driver,
          source: { snapshotHandle },
          volumeSnapshotClassName: csi.snapshotClass,
          volumeSnapshotRef: { name: 'snap', namespace: elsewhere.name },
        },
      },
    });
    await createSnapshot(elsewhere.name, 'snap', { source: { volumeSnapshotContentName: preboundContent } });
    const pv = await createClaim(
      elsewhere.name,
      claim('restored', csi.otherStorageClass, { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 'snap' }),
    );
    t.diagnostic(`pre-bound content → snapshot → Bound PVC in ${seconds(started)}`);
    assert.equal(readFileSync(join(volumeDir(pv), 'hello.txt'), 'utf8'), 'written before the snapshot\n');
  });

  it('a VolumeGroupSnapshot takes one cut across the PVCs its selector picks, and each member restores', async (t) => {
    const started = performance.now();
    const handles: string[] = [];
    for (const name of ['member-1', 'member-2']) {
      const body = claim(name, csi.storageClass);
      body.metadata!.labels = { 'cairn.dev/group': 'pair' };
      const pv = await createClaim(source.name, body);
      writeFileSync(join(volumeDir(pv), 'name.txt'), name);
      handles.push(pv.spec!.csi!.volumeHandle);
    }
    await kube.custom.createNamespacedCustomObject({
      ...GROUP_SNAPSHOT_API,
      namespace: source.name,
      plural: 'volumegroupsnapshots',
      body: {
        apiVersion: 'groupsnapshot.storage.k8s.io/v1',
        kind: 'VolumeGroupSnapshot',
        metadata: { name: 'pair' },
        spec: { volumeGroupSnapshotClassName: 'cairn-groupsnapclass', source: { selector: { matchLabels: { 'cairn.dev/group': 'pair' } } } },
      },
    });
    const group = await eventually('VolumeGroupSnapshot pair to be ready', async () => {
      const found = (await kube.custom.getNamespacedCustomObject({ ...GROUP_SNAPSHOT_API, namespace: source.name, plural: 'volumegroupsnapshots', name: 'pair' })) as {
        status?: { readyToUse?: boolean; boundVolumeGroupSnapshotContentName?: string; error?: { message?: string } };
      };
      if (found.status?.error?.message) throw new Error(found.status.error.message);
      return found.status?.readyToUse ? found : undefined;
    });
    t.diagnostic(`two PVCs Bound and VolumeGroupSnapshot ready in ${seconds(started)}`);
    const content = (await kube.custom.getClusterCustomObject({
      ...GROUP_SNAPSHOT_API,
      plural: 'volumegroupsnapshotcontents',
      name: group.status!.boundVolumeGroupSnapshotContentName!,
    })) as { status?: { volumeSnapshotInfoList?: { volumeHandle: string; snapshotHandle: string }[] } };
    const info = content.status?.volumeSnapshotInfoList ?? [];
    assert.deepEqual(info.map((entry) => entry.volumeHandle).sort(), [...handles].sort());
    const records = info.map((entry) => JSON.parse(readFileSync(join(csi.snapshots, `${entry.snapshotHandle}.json`), 'utf8')) as SnapshotRecord);
    assert.equal(new Set(records.map((record) => record.creationTime)).size, 1, 'one cut: one creation time for all members');

    const members = await eventually('the member VolumeSnapshots to be ready', async () => {
      const list = (await kube.custom.listNamespacedCustomObject({ ...SNAPSHOT_API, namespace: source.name, plural: 'volumesnapshots' })) as {
        items: (VolumeSnapshot & { status?: { volumeGroupSnapshotName?: string } })[];
      };
      const found = list.items.filter((item) => item.status?.volumeGroupSnapshotName === 'pair');
      return found.length === 2 && found.every((item) => item.status?.readyToUse) ? found : undefined;
    });
    const restored = await Promise.all(
      members.map(async (member, i) => {
        const pv = await createClaim(
          source.name,
          claim(`member-restored-${i}`, csi.otherStorageClass, { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: member.metadata.name }),
        );
        return readFileSync(join(volumeDir(pv), 'name.txt'), 'utf8');
      }),
    );
    assert.deepEqual(restored.sort(), ['member-1', 'member-2']);

    await kube.custom.deleteNamespacedCustomObject({ ...GROUP_SNAPSHOT_API, namespace: source.name, plural: 'volumegroupsnapshots', name: 'pair' });
    for (const entry of info) {
      const dir = join(csi.snapshots, entry.snapshotHandle);
      await eventually(`${dir} to be deleted with its group`, async () => (existsSync(dir) ? undefined : true));
    }
  });

  it('deleting snapshots and PVCs removes their directories (a Retain content keeps its data)', async (t) => {
    const started = performance.now();
    const pvOf = async (namespace: string, name: string) =>
      kube.core.readPersistentVolume({ name: (await kube.core.readNamespacedPersistentVolumeClaim({ namespace, name })).spec!.volumeName! });
    const elsewhereVolume = volumeDir(await pvOf(elsewhere.name, 'restored'));
    await kube.core.deleteNamespacedPersistentVolumeClaim({ namespace: elsewhere.name, name: 'restored' });
    await kube.custom.deleteNamespacedCustomObject({ ...SNAPSHOT_API, namespace: elsewhere.name, plural: 'volumesnapshots', name: 'snap' });
    await eventually(`${elsewhereVolume} to be deleted`, async () => (existsSync(elsewhereVolume) ? undefined : true));
    await eventually(`VolumeSnapshot ${elsewhere.name}/snap to be gone`, async () =>
      kube.custom
        .getNamespacedCustomObject({ ...SNAPSHOT_API, namespace: elsewhere.name, plural: 'volumesnapshots', name: 'snap' })
        .then(() => undefined, (error: { code?: number }) => (error.code === 404 ? true : undefined)),
    );
    // Retain: deleting the snapshot, then its content, never asks the driver to delete the data.
    await kube.custom.deleteClusterCustomObject({ ...SNAPSHOT_API, plural: 'volumesnapshotcontents', name: preboundContent });
    await eventually(`VolumeSnapshotContent ${preboundContent} to be gone`, async () =>
      kube.custom
        .getClusterCustomObject({ ...SNAPSHOT_API, plural: 'volumesnapshotcontents', name: preboundContent })
        .then(() => undefined, (error: { code?: number }) => (error.code === 404 ? true : undefined)),
    );
    assert.ok(existsSync(join(csi.snapshots, snapshotHandle)), 'the Retain content left the snapshot data in place');

    const volumes = await Promise.all(['data', 'restored', 'clone'].map(async (name) => volumeDir(await pvOf(source.name, name))));
    await kube.custom.deleteNamespacedCustomObject({ ...SNAPSHOT_API, namespace: source.name, plural: 'volumesnapshots', name: 'snap' });
    await eventually(`snapshot ${snapshotHandle} to be deleted`, async () => (existsSync(join(csi.snapshots, snapshotHandle)) ? undefined : true));
    for (const name of ['restored', 'clone', 'data']) {
      await kube.core.deleteNamespacedPersistentVolumeClaim({ namespace: source.name, name });
    }
    for (const dir of volumes) await eventually(`${dir} to be deleted`, async () => (existsSync(dir) ? undefined : true));
    t.diagnostic(`everything deleted in ${seconds(started)}`);
  });
});
