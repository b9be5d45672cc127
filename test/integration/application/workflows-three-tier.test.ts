import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { stringify } from 'yaml';
import type { ApplicationBackupResult, ApplicationRestoreInput, ApplicationRestoreResult, ApplicationSpec } from '../../../src/application/types.ts';
import { innermostMessage } from '../../../src/diagnostics.ts';
import { createManifests } from '../../../src/kube/apply.ts';
import { isNotFound } from '../../../src/kube/clients.ts';
import { readRestorePoint } from '../../../activities/location/restore-points.ts';
import { openNamedLocation } from '../../../activities/location/location.ts';
import { execUntilSuccess, isReadyPod, waitForPod } from '../../support/pod-runtime/testing.ts';
import { ensureStack, kubeClients, testNamespace, uniqueTaskQueue, type KubeClients, type TestNamespace } from '../../support/stack.ts';
import { runningWorker, type RunningWorker, type TemporalFixture } from '../../support/temporal.ts';

// The shop of examples/three-tier as an Application on the real stack: back it up (PostgreSQL's data through the
// shipped blueprint, every object of the namespace), destroy the namespace, restore into a new namespace with a
// storage-class mapping. PostgreSQL must be ready and restored before the api starts (the api's readiness is a
// blueprint validate that needs the restored rows), the data must be exactly the backup's; and the same restore
// with dependencies ignored fails on that readiness — ordering is what makes it pass.
const ROOT = join(import.meta.dirname, '../../..');

let fixture: TemporalFixture;
let serving: RunningWorker;
let clients: KubeClients;
let source: TestNamespace;
const created: string[] = [];
const application = uniqueTaskQueue('shop-app');

before(async () => {
  const stack = await ensureStack();
  clients = kubeClients(stack);
  source = await testNamespace('app-shop');
  await createManifests(clients, join(ROOT, 'examples/three-tier'), source.name);
  await waitForPod(clients, source.name, 'postgres-0', 'Running', isReadyPod, 180_000);
  serving = await runningWorker('app-workflows', { blueprintDirs: [join(ROOT, 'test/fixtures/application'), join(ROOT, 'blueprints')] });
  fixture = serving.fixture;
});

after(async () => {
  await serving?.stop();
  await source?.cleanup();
  await Promise.all(created.map((name) => clients.core.deleteNamespace({ name }).catch(() => undefined)));
});


function spec(): ApplicationSpec {
  return {
    apiVersion: 'cairn.io/v1alpha1',
    kind: 'Application',
    metadata: { name: application },
    spec: {
      namespace: source.name,
      components: [
        { name: 'postgres', workload: { kind: 'StatefulSet', name: 'postgres' }, blueprint: 'postgresql', strategy: 'logical', readiness: { timeout: '5m' } },
        { name: 'api', workload: { kind: 'Deployment', name: 'api' }, blueprint: 'shop-api-check', dependsOn: ['postgres'], readiness: { timeout: '3m' } },
        { name: 'worker', workload: { kind: 'Deployment', name: 'worker' }, dependsOn: ['postgres'], readiness: { timeout: '3m' } },
      ],
      existingResources: 'fail',
    },
  };
}

async function psql(namespace: string, sql: string): Promise<string> {
  const result = await execUntilSuccess(clients, namespace, 'postgres-0', 'postgres', ['sh', '-c', `psql -U shop -d shop -qtAc ${JSON.stringify(sql)}`]);
  return result.stdout.trim();
}

/** The orders up to the marker, as the backup must have them (the worker may fulfil some later: not compared). */
const checksum = (namespace: string, upTo: string) =>
  psql(namespace, `SELECT count(*) || ':' || md5(string_agg(id || '/' || item || '/' || created_at, ',' ORDER BY id)) FROM orders WHERE id <= ${upTo}`);

async function namespaceGone(name: string): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      await clients.core.readNamespace({ name });
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    if (Date.now() > deadline) throw new Error(`namespace ${name} still exists after 3 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function restore(id: string, input: Omit<ApplicationRestoreInput, 'application'>): Promise<ApplicationRestoreResult> {
  return (await fixture.client.workflow.execute('restoreApplication', { taskQueue: fixture.taskQueue, workflowId: id, args: [{ application, ...input }] })) as ApplicationRestoreResult;
}

describe('application backup and dependency-ordered restore of the three-tier shop', () => {
  let backup: ApplicationBackupResult;
  let marker = '';
  let expected = '';

  it('backs up every component and the resources into one restore point, written last', async () => {
    // The api creates the table and takes orders; wait for a few, then mark the backup point.
    await execUntilSuccess(clients, source.name, 'postgres-0', 'postgres', ['sh', '-c', `test "$(psql -U shop -d shop -qtAc 'select count(*) from orders')" -ge 2`], 120_000);
    marker = await psql(source.name, "INSERT INTO orders (item) VALUES ('backup-marker') RETURNING id");
    expected = await checksum(source.name, marker);

    const workflowId = `${fixture.taskQueue}-backup`;
    backup = (await fixture.client.workflow.execute('backupApplication', { taskQueue: fixture.taskQueue, workflowId, args: [{ application: { inline: stringify(spec()), file: 'shop.yaml' } }] })) as ApplicationBackupResult;
    assert.equal(backup.restorePoint.application, application);
    assert.deepEqual(backup.components.map((c) => [c.name, c.workflowId]), [['postgres', `${workflowId}/postgres`], ['api', `${workflowId}/api`], ['worker', undefined]]);
    assert.ok(backup.resources.kinds.StatefulSet === 1 && backup.resources.kinds.Deployment === 2, JSON.stringify(backup.resources.kinds));

    const location = await openNamedLocation(undefined, () => clients);
    const point = await readRestorePoint(location, application, backup.restorePoint.id);
    assert.ok(point);
    assert.equal(point.scope, 'application');
    assert.equal(point.target, `namespace/${source.name}`);
    assert.equal(point.blueprint, 'application');
    assert.deepEqual(point.spec?.spec.components.map((c) => c.name), ['postgres', 'api', 'worker']);
    assert.match(point.components?.find((c) => c.name === 'postgres')?.artifacts.pgDump?.KeyValue.snapshotID ?? '', /^[0-9a-f]{32}$/);
    assert.equal(point.snapshots.length, 2);
    assert.deepEqual(point.snapshots.map((s) => s.id).sort(), [point.components!.find((c) => c.name === 'postgres')!.artifacts.pgDump!.KeyValue.snapshotID!, point.resources!.snapshotID].sort());
    assert.match(point.snapshots.find((s) => s.from !== 'resources')?.from ?? '', /^components\.postgres\./);
    assert.ok(point.snapshots.every((s) => (s.logicalBytes ?? 0) > 0));
    assert.deepEqual(Object.keys(point.blueprints ?? {}).sort(), ['postgresql', 'shop-api-check']);
    assert.match(point.blueprints?.postgresql ?? '', /name: postgresql/);
    // The children wrote no restore points of their own.
    const { points } = await import('../../../activities/location/restore-points.ts').then((m) => m.listRestorePoints(location, { application }));
    assert.deepEqual(points.map((p) => p.id), [backup.restorePoint.id]);
  });

  it('restores into a new namespace with another StorageClass: postgres ready and restored before the api and worker start', async () => {
    await clients.core.deleteNamespace({ name: source.name });
    await namespaceGone(source.name);
    const target = `${source.name}-dr`;
    created.push(target);

    const workflowId = `${fixture.taskQueue}-restore`;
    const result = await restore(workflowId, { targetNamespace: target, transforms: { storageClasses: { 'cairn-csi': 'other-class' } } });
    assert.equal(result.namespace, target);
    assert.equal(result.restorePoint, backup.restorePoint.id);
    const byName = Object.fromEntries(result.components.map((c) => [c.name, c]));
    assert.equal(byName.postgres?.validated, true);
    assert.equal(byName.api?.validated, true);
    for (const dependent of ['api', 'worker']) {
      assert.ok(byName[dependent]!.startedAtMs >= byName.postgres!.readyAtMs, `${dependent} started at ${byName[dependent]!.startedAtMs} ms, before postgres was ready at ${byName.postgres!.readyAtMs} ms`);
    }
    assert.ok(result.rtoMs >= Math.max(...result.components.map((c) => c.readyAtMs)));
    assert.ok(result.resources.created > 0);

    // The cluster's own record agrees: the api's and worker's pods were created after postgres was ready.
    const started = (await fixture.client.workflow.getHandle(workflowId).describe()).startTime.getTime();
    const pods = (await clients.core.listNamespacedPod({ namespace: target })).items;
    const createdAt = (prefix: string) => pods.find((p) => p.metadata?.name?.startsWith(prefix))?.metadata?.creationTimestamp;
    for (const prefix of ['api-', 'worker-']) {
      const at = createdAt(prefix);
      assert.ok(at, `no ${prefix} pod`);
      // creationTimestamp has whole seconds: compare at that resolution.
      assert.ok(new Date(at).getTime() >= Math.floor((started + byName.postgres!.readyAtMs) / 1000) * 1000, `${prefix} pod created ${new Date(at).toISOString()}, postgres ready at ${new Date(started + byName.postgres!.readyAtMs).toISOString()}`);
    }
    assert.ok(new Date(createdAt('postgres-0')!).getTime() <= new Date(createdAt('api-')!).getTime());

    for (const name of ['api', 'worker']) {
      const deployment = await clients.apps.readNamespacedDeployment({ name, namespace: target });
      assert.equal(deployment.status?.readyReplicas, 1, `${name} ready`);
    }
    const pvc = await clients.core.readNamespacedPersistentVolumeClaim({ name: 'data-postgres-0', namespace: target });
    assert.equal(pvc.spec?.storageClassName, 'other-class');
    await waitForPod(clients, target, 'postgres-0', 'Running', isReadyPod, 60_000);
    assert.equal(await checksum(target, marker), expected);
  });

  it('the same restore with dependencies ignored fails: the api is checked before its database is back', async () => {
    const target = `${source.name}-flat`;
    created.push(target);
    const workflowId = `${fixture.taskQueue}-flat`;
    const error = await restore(workflowId, { targetNamespace: target, ignoreDependencies: true }).then(
      () => assert.fail('a restore that ignores dependencies must not pass the api readiness'),
      (failure: unknown) => failure,
    );
    assert.ok(error instanceof WorkflowFailedError, String(error));
    assert.match(innermostMessage(error), /ordersVisible|exit|grep|status/i);
    assert.match(String((error.cause as Error | undefined)?.message), /failed in component api/);
  });
});
