// CSI snapshots of a database pod's volume, with the pod runtime playing the kubelet: the contract between
// the driver (test/support/csi-driver) and the runtime (test/support/pod-runtime) end to end.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { waitUntil } from '../../../scripts/stack/process.ts';
import { processState } from '../../support/csi-driver/consistent-cut.ts';
import type { SnapshotRecord } from '../../support/csi-driver/store.ts';
import { applyDirectory, claimVolumeDir, execUntilSuccess, waitForPod } from '../../support/pod-runtime/testing.ts';
import { ensureStack, kubeClients, type KubeClients, type StackInfo, testNamespace, type TestNamespace } from '../../support/stack.ts';

const examples = join(import.meta.dirname, '../../../examples');
const SNAPSHOT_API = { group: 'snapshot.storage.k8s.io', version: 'v1' };

interface CsiInfo {
  volumes: string;
  snapshots: string;
  otherStorageClass: string;
  snapshotClass: string;
}

describe('CSI snapshot of a running database pod', () => {
  let stack: StackInfo;
  let clients: KubeClients;
  let csi: CsiInfo;
  let shop: TestNamespace;

  before(async () => {
    stack = await ensureStack();
    clients = kubeClients(stack);
    csi = stack.csi as CsiInfo;
    shop = await testNamespace('csi-pods');
    await applyDirectory(clients, join(examples, 'three-tier'), shop.name);
  });
  after(async () => {
    await shop?.cleanup();
  });

  it('pauses the pod’s server for the cut, and a pod on the restored PVC serves the same data', async (t) => {
    const ns = shop.name;
    await waitForPod(clients, ns, 'postgres-0', 'Running', (pod) => pod.status?.phase === 'Running');
    // The pod's server writes a file into its volume, in its data directory (however the runtime mounts it).
    await execUntilSuccess(clients, ns, 'postgres-0', 'postgres', [
      'psql',
      '-c',
      "do $$ begin execute format('copy (select %L) to %L', 'written in the pod', current_setting('data_directory') || '/hello.txt'); end $$",
    ]);
    // The app's api and worker keep writing orders while the snapshot is taken.
    await waitUntil('the shop to place an order', async () => {
      const { stdout } = await execUntilSuccess(clients, ns, 'postgres-0', 'postgres', ['psql', '-tAc', 'select count(*) from orders']);
      return Number(stdout) > 0;
    }, 90_000);
    const volume = await claimVolumeDir(clients, stack.state, ns, 'data-postgres-0');
    const handle = volume.split('/').at(-1)!;
    const writers = readFileSync(join(csi.volumes, `${handle}.writers`), 'utf8').split('\n').filter(Boolean).map(Number);
    assert.ok(writers.length > 0, 'the pod runtime lists the server as a writer of its volume');

    const started = performance.now();
    await clients.custom.createNamespacedCustomObject({
      ...SNAPSHOT_API,
      namespace: ns,
      plural: 'volumesnapshots',
      body: {
        apiVersion: 'snapshot.storage.k8s.io/v1',
        kind: 'VolumeSnapshot',
        metadata: { name: 'shop-db' },
        spec: { volumeSnapshotClassName: csi.snapshotClass, source: { persistentVolumeClaimName: 'data-postgres-0' } },
      },
    });
    let contentName = '';
    await waitUntil('VolumeSnapshot shop-db to be ready', async () => {
      const found = (await clients.custom.getNamespacedCustomObject({ ...SNAPSHOT_API, namespace: ns, plural: 'volumesnapshots', name: 'shop-db' })) as {
        status?: { readyToUse?: boolean; boundVolumeSnapshotContentName?: string };
      };
      contentName = found.status?.boundVolumeSnapshotContentName ?? '';
      return found.status?.readyToUse === true;
    }, 60_000);
    const content = (await clients.custom.getClusterCustomObject({ ...SNAPSHOT_API, plural: 'volumesnapshotcontents', name: contentName })) as {
      status: { snapshotHandle: string };
    };
    const record = JSON.parse(readFileSync(join(csi.snapshots, `${content.status.snapshotHandle}.json`), 'utf8')) as SnapshotRecord;
    for (const pid of writers) assert.ok(record.pausedPids.includes(pid), `writer ${pid} was paused (paused: ${record.pausedPids.join(', ')})`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 200));
    for (const pid of record.pausedPids) assert.notEqual(processState(pid), 'T', `process ${pid} was left stopped after the snapshot`);
    t.diagnostic(`snapshot ready in ${((performance.now() - started) / 1000).toFixed(2)} s; ${record.pausedPids.length} processes paused ${record.pausedMs} ms`);
    const { stdout: ordersAfter } = await execUntilSuccess(clients, ns, 'postgres-0', 'postgres', ['psql', '-tAc', 'select count(*) from orders']);

    await clients.core.createNamespacedPersistentVolumeClaim({
      namespace: ns,
      body: {
        metadata: { name: 'shop-db-restored' },
        spec: {
          accessModes: ['ReadWriteOnce'],
          storageClassName: csi.otherStorageClass,
          resources: { requests: { storage: '1Gi' } },
          dataSource: { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 'shop-db' },
        },
      },
    });
    const restoredVolume = await claimVolumeDir(clients, stack.state, ns, 'shop-db-restored');
    assert.equal(readFileSync(join(restoredVolume, 'pgdata', 'hello.txt'), 'utf8'), 'written in the pod\n');

    // A second database pod on the restored volume, next to the original that still runs.
    const original = await clients.core.readNamespacedPod({ namespace: ns, name: 'postgres-0' });
    const container = original.spec!.containers[0]!;
    const restoredPod: V1Pod = {
      metadata: { name: 'postgres-restored', labels: { app: 'postgres-restored' } },
      spec: {
        containers: [{ name: 'postgres', image: container.image!, envFrom: container.envFrom!, volumeMounts: container.volumeMounts!.filter((mount) => mount.name === 'data') }],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'shop-db-restored' } }],
      },
    };
    await clients.core.createNamespacedPod({ namespace: ns, body: restoredPod });
    await waitForPod(clients, ns, 'postgres-restored', 'Running', (pod) => pod.status?.phase === 'Running');
    const { stdout: restoredOrders } = await execUntilSuccess(clients, ns, 'postgres-restored', 'postgres', ['psql', '-tAc', 'select count(*) from orders']);
    assert.ok(Number(restoredOrders) > 0 && Number(restoredOrders) <= Number(ordersAfter), `${restoredOrders.trim()} orders restored (${ordersAfter.trim()} after the cut)`);
  });
});
