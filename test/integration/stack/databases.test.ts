// Database pods backed by real servers: the example apps, exec'd clients, scale to zero and back.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from '../../../scripts/stack/process.ts';
import {
  applyDirectory,
  claimVolumeDir,
  execUntilSuccess,
  processesUsing,
  scaleStatefulSet,
  waitForPod,
  waitForPodGone,
} from '../../support/pod-runtime/testing.ts';
import { ensureStack, kubeClients, type KubeClients, type StackInfo, testNamespace, type TestNamespace } from '../../support/stack.ts';

const examples = join(import.meta.dirname, '../../../examples');

describe('database pods', () => {
  let stack: StackInfo;
  let clients: KubeClients;
  let shop: TestNamespace;
  let guestbook: TestNamespace;

  before(async () => {
    stack = await ensureStack();
    clients = kubeClients(stack);
    shop = await testNamespace('db-postgres');
    guestbook = await testNamespace('db-mysql');
    await applyDirectory(clients, join(examples, 'three-tier'), shop.name);
    await applyDirectory(clients, join(examples, 'mysql-app'), guestbook.name);
  });
  after(async () => {
    await shop?.cleanup();
    await guestbook?.cleanup();
  });

  it("answers psql -c 'select 1' exec'd in the PostgreSQL pod, from the real server", async () => {
    await waitForPod(clients, shop.name, 'postgres-0', 'Running', (pod) => pod.status?.phase === 'Running');
    const result = await execUntilSuccess(clients, shop.name, 'postgres-0', 'postgres', ['psql', '-tAc', 'select 1']);
    assert.equal(result.stdout, '1\n');
    const version = await execUntilSuccess(clients, shop.name, 'postgres-0', 'postgres', ['psql', '-tAc', 'select current_user, current_database()']);
    assert.equal(version.stdout, 'shop|shop\n');
  });

  it("answers mysql -e 'select 1' exec'd in the MySQL pod, from the real server", async () => {
    await waitForPod(clients, guestbook.name, 'mysql-0', 'Running', (pod) => pod.status?.phase === 'Running');
    const result = await execUntilSuccess(clients, guestbook.name, 'mysql-0', 'mysql', ['mysql', '-N', '-e', 'select 1']);
    assert.equal(result.stdout, '1\n');
  });

  it('runs the example apps against their databases by Service name', async () => {
    await waitUntil(
      'the worker to fulfil an order the api placed',
      async () => {
        const { stdout } = await execUntilSuccess(clients, shop.name, 'postgres-0', 'postgres', ['psql', '-tAc', 'select count(*) from orders where fulfilled_at is not null']);
        return Number(stdout) > 0;
      },
      90_000,
    );
    await waitUntil(
      'the guestbook app to sign the guestbook',
      async () => {
        const { stdout } = await execUntilSuccess(clients, guestbook.name, 'mysql-0', 'mysql', ['mysql', '-N', '-e', 'select count(*) from guestbook.entries']);
        return Number(stdout) > 0;
      },
      90_000,
    );
  });

  it('stops the server when its StatefulSet scales to 0, and serves the same data when it scales back to 1', async () => {
    const ns = shop.name;
    await waitForPod(clients, ns, 'postgres-0', 'Running', (pod) => pod.status?.phase === 'Running');
    await execUntilSuccess(clients, ns, 'postgres-0', 'postgres', ['psql', '-c', "create table kept (note text); insert into kept values ('survives a scale-down')"]);
    const dataDir = join(await claimVolumeDir(clients, stack.state, ns, 'data-postgres-0'), 'pgdata');
    assert.ok(processesUsing(dataDir).length > 0, `a postgres server runs on ${dataDir}`);

    await scaleStatefulSet(clients, ns, 'postgres', 0);
    await waitForPodGone(clients, ns, 'postgres-0');
    // The pod object goes only after the runtime has stopped the server (its finalizer holds it until then).
    assert.deepEqual(processesUsing(dataDir), [], 'no server process left on the data directory');
    assert.equal(existsSync(join(dataDir, 'postmaster.pid')), false, 'the server shut down cleanly');

    await scaleStatefulSet(clients, ns, 'postgres', 1);
    await waitForPod(clients, ns, 'postgres-0', 'Running', (pod) => pod.status?.phase === 'Running');
    const result = await execUntilSuccess(clients, ns, 'postgres-0', 'postgres', ['psql', '-tAc', 'select note from kept']);
    assert.equal(result.stdout, 'survives a scale-down\n');
    assert.ok(processesUsing(dataDir).length > 0, 'the server runs again on the same data directory');
  });

  it('starts a database on a PVC restored from a snapshot of the live server, with the data it had', async () => {
    const ns = shop.name;
    await waitForPod(clients, ns, 'postgres-0', 'Running', (pod) => pod.status?.phase === 'Running');
    await execUntilSuccess(clients, ns, 'postgres-0', 'postgres', ['psql', '-c', "create table snapped (note text); insert into snapped values ('in the snapshot')"]);

    await clients.custom.createNamespacedCustomObject({
      group: 'snapshot.storage.k8s.io',
      version: 'v1',
      namespace: ns,
      plural: 'volumesnapshots',
      body: {
        apiVersion: 'snapshot.storage.k8s.io/v1',
        kind: 'VolumeSnapshot',
        metadata: { name: 'postgres-live' },
        spec: { volumeSnapshotClassName: 'cairn-snapclass', source: { persistentVolumeClaimName: 'data-postgres-0' } },
      },
    });
    await waitUntil(
      'the snapshot of the live volume to be ready',
      async () => {
        const snapshot = (await clients.custom.getNamespacedCustomObject({
          group: 'snapshot.storage.k8s.io',
          version: 'v1',
          namespace: ns,
          plural: 'volumesnapshots',
          name: 'postgres-live',
        })) as { status?: { readyToUse?: boolean } };
        return snapshot.status?.readyToUse === true;
      },
      90_000,
    );
    // Written after the cut: the restored server must not have it.
    await execUntilSuccess(clients, ns, 'postgres-0', 'postgres', ['psql', '-c', "insert into snapped values ('after the snapshot')"]);

    await clients.core.createNamespacedPersistentVolumeClaim({
      namespace: ns,
      body: {
        metadata: { name: 'restored' },
        spec: {
          accessModes: ['ReadWriteOnce'],
          storageClassName: 'other-class',
          resources: { requests: { storage: '1Gi' } },
          dataSource: { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 'postgres-live' },
        },
      },
    });
    await clients.core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'restored-postgres' },
        spec: {
          containers: [
            {
              name: 'postgres',
              image: 'postgres:16',
              envFrom: [{ secretRef: { name: 'postgres-credentials' } }, { configMapRef: { name: 'postgres-config' } }],
              volumeMounts: [{ name: 'data', mountPath: '/var/lib/postgresql/data' }],
            },
          ],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'restored' } }],
        },
      },
    });
    const result = await execUntilSuccess(clients, ns, 'restored-postgres', 'postgres', ['psql', '-tAc', 'select note from snapped order by note']);
    assert.equal(result.stdout, 'in the snapshot\n');
  });
});
