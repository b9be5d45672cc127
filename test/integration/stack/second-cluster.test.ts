import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { V1Container, V1StatefulSet } from '@kubernetes/client-node';
import { isNotFound } from '../../../src/kube/clients.ts';
import { claimVolumeDir, execUntilSuccess, waitForPod } from '../../support/pod-runtime/testing.ts';
import { ensureSecondCluster, secondClusterNamespace } from '../../support/second-cluster.ts';
import { ensureStack, kubeClients, testNamespace } from '../../support/stack.ts';

/** A one-pod StatefulSet with a PVC of `storageClass` mounted at `mountPath`. */
function statefulSet(name: string, storageClass: string, container: V1Container, mountPath: string): V1StatefulSet {
  return {
    metadata: { name },
    spec: {
      serviceName: name,
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ ...container, volumeMounts: [{ name: 'data', mountPath }] }] },
      },
      volumeClaimTemplates: [
        { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: storageClass, resources: { requests: { storage: '1Gi' } } } },
      ],
    },
  };
}

const running = (pod: { status?: { phase?: string } }) => pod.status?.phase === 'Running';

test('a StatefulSet on the dr cluster runs a real process that writes to its dr-csi volume; the main cluster sees none of it', async (t) => {
  const main = kubeClients(await ensureStack());
  const dr = await ensureSecondCluster();
  assert.equal(dr.storageClass, 'dr-csi');
  assert.notEqual(dr.server, (await ensureStack()).kube.server);
  const ns = await secondClusterNamespace(dr, 'second-cluster');
  t.after(() => ns.cleanup());

  const token = `written-on-dr-${ns.name}`;
  await dr.clients.apps.createNamespacedStatefulSet({
    namespace: ns.name,
    body: statefulSet('web', dr.storageClass, {
      name: 'web',
      image: 'busybox:1.36',
      command: ['sh', '-c', 'echo "$TOKEN $$" > /data/marker && exec sleep infinity'],
      env: [{ name: 'TOKEN', value: token }],
    }, '/data'),
  });
  await waitForPod(dr.clients, ns.name, 'web-0', 'Running', running);
  const seen = await execUntilSuccess(dr.clients, ns.name, 'web-0', 'web', ['cat', '/data/marker']);
  const [written, pid] = seen.stdout.trim().split(' ');
  assert.equal(written, token, 'the command ran in the pod and wrote into its volume');

  // The volume is a directory of the dr cluster's own CSI driver, under its own state.
  const dir = await claimVolumeDir(dr.clients, dr.state, ns.name, 'data-web-0');
  assert.ok(dir.startsWith(`${dr.state}/csi/volumes/`), dir);
  assert.equal(readFileSync(`${dir}/marker`, 'utf8').trim(), `${token} ${pid}`);
  const claim = await dr.clients.core.readNamespacedPersistentVolumeClaim({ namespace: ns.name, name: 'data-web-0' });
  assert.equal(claim.spec?.storageClassName, 'dr-csi');

  // The main cluster has none of it: no namespace, no volume, and neither cluster has the other's classes.
  await assert.rejects(main.core.readNamespace({ name: ns.name }), (error: unknown) => isNotFound(error));
  await assert.rejects(main.core.readPersistentVolume({ name: claim.spec!.volumeName! }), (error: unknown) => isNotFound(error));
  const classes = async (clients: typeof main) => (await clients.storage.listStorageClass()).items.map((sc) => sc.metadata!.name!);
  assert.ok(!(await classes(main)).includes('dr-csi'));
  assert.ok(!(await classes(dr.clients)).includes('cairn-csi'));
  assert.ok(!existsSync(`${(await ensureStack()).state}/csi/volumes/${claim.spec!.volumeName}`), 'the main CSI driver has no such volume');
});

test('the same PostgreSQL pod (namespace and name) runs in both clusters at once, each on its own address and data', async (t) => {
  const stack = await ensureStack();
  const main = kubeClients(stack);
  const dr = await ensureSecondCluster();
  const mainNs = await testNamespace('twin');
  t.after(() => mainNs.cleanup());
  const drNs = await secondClusterNamespace(dr, 'twin', mainNs.name);
  t.after(() => drNs.cleanup());

  const postgres = (storageClass: string) =>
    statefulSet('postgres', storageClass, {
      name: 'postgres',
      image: 'postgres:16',
      ports: [{ containerPort: 5432 }],
      env: [{ name: 'POSTGRES_PASSWORD', value: 'twin' }],
    }, '/var/lib/postgresql/data');
  await main.apps.createNamespacedStatefulSet({ namespace: mainNs.name, body: postgres('cairn-csi') });
  await dr.clients.apps.createNamespacedStatefulSet({ namespace: drNs.name, body: postgres(dr.storageClass) });

  const site = async (clients: typeof main, label: string) => {
    await waitForPod(clients, mainNs.name, 'postgres-0', 'Running', running);
    await execUntilSuccess(clients, mainNs.name, 'postgres-0', 'postgres', ['psql', '-c', 'select 1']);
    await execUntilSuccess(clients, mainNs.name, 'postgres-0', 'postgres', ['psql', '-c', `create table site as select '${label}'::text as name`]);
    return (await execUntilSuccess(clients, mainNs.name, 'postgres-0', 'postgres', ['sh', '-c', 'echo "$PGHOST"'])).stdout.trim();
  };
  const [mainHost, drHost] = await Promise.all([site(main, 'main'), site(dr.clients, 'dr')]);
  const secondOctet = (ip: string) => Number(ip.split('.')[1]);
  assert.ok(secondOctet(mainHost) >= 64 && secondOctet(mainHost) < 128, `main pod address ${mainHost}`);
  assert.ok(secondOctet(drHost) >= 32 && secondOctet(drHost) < 64, `dr pod address ${drHost}`);

  // Each server has its own data: the table written through each cluster holds that cluster's row only.
  for (const [clients, label] of [[main, 'main'], [dr.clients, 'dr']] as const) {
    const row = await execUntilSuccess(clients, mainNs.name, 'postgres-0', 'postgres', ['psql', '-tAc', 'select name from site']);
    assert.equal(row.stdout.trim(), label);
  }
});
