import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { stringify } from 'yaml';
import type { ApplicationBackupResult, ApplicationRestoreResult, ApplicationSpec, DrillReport } from '../../../src/application/types.ts';
import { innermostMessage } from '../../../src/diagnostics.ts';
import { createManifests } from '../../../src/kube/apply.ts';
import { listRestorePoints, readRestorePoint } from '../../../activities/location/restore-points.ts';
import { openNamedLocation } from '../../../activities/location/location.ts';
import { execInPod, execUntilSuccess, isReadyPod, waitForPod } from '../../support/pod-runtime/testing.ts';
import { ensureStack, kubeClients, testNamespace, uniqueTaskQueue, type KubeClients, type TestNamespace } from '../../support/stack.ts';
import { killSpawnedWorkers, runningWorker, type RunningWorker, spawnWorker, type TemporalFixture } from '../../support/temporal.ts';
import type { ApplicationProgress } from '../../../src/application/types.ts';

// Two databases of one application, MariaDB (the mysql blueprint) and PostgreSQL, written by one client that
// commits n to PostgreSQL and then n to MySQL, over and over. Backed up as a consistency group, the two must
// come back from one instant: PostgreSQL holds n or n+1 where MySQL holds n. Backed up one after the other,
// the writer would have moved on by many numbers between the two cuts.
const ROOT = join(import.meta.dirname, '../../..');

let fixture: TemporalFixture;
let serving: RunningWorker;
let clients: KubeClients;
let source: TestNamespace;
const created: string[] = [];

before(async () => {
  const stack = await ensureStack();
  clients = kubeClients(stack);
  source = await testNamespace('app-group');
  for (const example of ['mysql-app', 'three-tier']) {
    await createManifests(clients, join(ROOT, 'examples', example), source.name, (file) => file.startsWith('00-config.') || file.startsWith('10-'));
  }
  await Promise.all(['mysql-0', 'postgres-0'].map((pod) => waitForPod(clients, source.name, pod, 'ready', isReadyPod, 180_000)));
  await sql('postgres', source.name, 'CREATE TABLE cuts (n integer PRIMARY KEY)');
  await sql('mysql', source.name, 'CREATE DATABASE cut; CREATE TABLE cut.cuts (n integer PRIMARY KEY)');
  serving = await runningWorker('app-group', { blueprintDirs: [join(ROOT, 'test/fixtures/application'), join(ROOT, 'blueprints')] });
  fixture = serving.fixture;
});

after(async () => {
  await killSpawnedWorkers();
  await serving?.stop();
  await source?.cleanup();
  await Promise.all(created.map((name) => clients.core.deleteNamespace({ name }).catch(() => undefined)));
});


async function sql(database: 'mysql' | 'postgres', namespace: string, statement: string, timeoutMs?: number): Promise<string> {
  const command = database === 'mysql'
    ? ['mysql', '--batch', '--skip-column-names', '-e', statement]
    : ['sh', '-c', `psql -U shop -d shop -qtAc ${JSON.stringify(statement)}`];
  return (await execUntilSuccess(clients, namespace, `${database}-0`, database, command, timeoutMs)).stdout.trim();
}

const maxCut = async (namespace: string) => ({
  postgres: Number(await sql('postgres', namespace, 'SELECT COALESCE(MAX(n), 0) FROM cuts', 300_000)),
  mysql: Number(await sql('mysql', namespace, 'SELECT COALESCE(MAX(n), 0) FROM cut.cuts', 300_000)),
});

/** Commits n to PostgreSQL, then n to MySQL, n = 1, 2, ...; a quiesced MySQL makes it wait. */
function startWriter(namespace: string): { written: () => number; stop: () => Promise<void> } {
  let n = 0;
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      const next = n + 1;
      const pg = await execInPod(clients, namespace, 'postgres-0', 'postgres', ['sh', '-c', `psql -U shop -d shop -qtAc 'INSERT INTO cuts VALUES (${next})'`]);
      assert.equal(pg.exitCode, 0, pg.stderr);
      const my = await execInPod(clients, namespace, 'mysql-0', 'mysql', ['mysql', '-e', `INSERT INTO cut.cuts VALUES (${next})`]);
      assert.equal(my.exitCode, 0, my.stderr);
      n = next;
    }
  })();
  return {
    written: () => n,
    stop: async () => {
      stopping = true;
      await loop;
    },
  };
}

function spec(name: string, components: ApplicationSpec['spec']['components']): ApplicationSpec {
  return { apiVersion: 'cairn.io/v1alpha1', kind: 'Application', metadata: { name }, spec: { namespace: source.name, consistencyGroup: true, components } };
}

const mysql = { name: 'mysql', workload: { kind: 'StatefulSet' as const, name: 'mysql' }, blueprint: 'mysql', options: { credentialsSecret: 'mysql-credentials', quiesceTimeout: 120 }, readiness: { timeout: '5m' } };

async function backup(application: ApplicationSpec, workflowId: string): Promise<ApplicationBackupResult> {
  return (await fixture.client.workflow.execute('backupApplication', {
    taskQueue: fixture.taskQueue,
    workflowId,
    args: [{ application: { inline: stringify(application), file: `${application.metadata.name}.yaml` } }],
  })) as ApplicationBackupResult;
}

async function leftovers(namespace: string): Promise<string[]> {
  const names: string[] = [];
  for (const plural of ['volumesnapshots', 'volumegroupsnapshots']) {
    const group = plural === 'volumesnapshots' ? 'snapshot.storage.k8s.io' : 'groupsnapshot.storage.k8s.io';
    for (const version of plural === 'volumesnapshots' ? ['v1'] : ['v1beta2', 'v1beta1']) {
      try {
        const list = (await clients.custom.listNamespacedCustomObject({ group, version, namespace, plural })) as { items: { metadata: { name: string } }[] };
        names.push(...list.items.map((item) => `${plural}/${item.metadata.name}`));
        break;
      } catch {
        // That version of the group API is not served here: try the next.
      }
    }
  }
  const claims = await clients.core.listNamespacedPersistentVolumeClaim({ namespace });
  names.push(...claims.items.map((c) => `pvc/${c.metadata!.name}`).filter((name) => name.includes('cairn-')));
  return names.sort();
}

describe('an application backed up as a consistency group', () => {
  it('cuts both databases at one instant, releases MySQL, exports both volumes and restores them consistently', async (t) => {
    const application = uniqueTaskQueue('group-app');
    const writer = startWriter(source.name);
    let result: ApplicationBackupResult;
    try {
      while (writer.written() < 5) await new Promise((resolve) => setTimeout(resolve, 200));
      result = await backup(spec(application, [
        mysql,
        { name: 'postgres', workload: { kind: 'StatefulSet', name: 'postgres' }, blueprint: 'postgresql', readiness: { timeout: '5m' } },
      ]), `${fixture.taskQueue}-group`);
      // The writer goes on after the backup: MySQL is writable again.
      const after = writer.written();
      const deadline = Date.now() + 60_000;
      while (writer.written() < after + 3) {
        assert.ok(Date.now() < deadline, 'the writer made no progress after the backup: MySQL is still locked');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      await writer.stop();
    }

    assert.deepEqual(result.consistencyGroup?.pvcs, { mysql: 'data-mysql-0', postgres: 'data-postgres-0' });
    assert.ok(result.consistencyGroup.snapshot.startsWith('cairn-group-'), result.consistencyGroup.snapshot);
    assert.equal(result.consistencyGroup.leftover, undefined);
    assert.ok((result.components.find((c) => c.name === 'mysql')?.quiesceWindowMs ?? -1) >= 0, JSON.stringify(result.components));
    assert.deepEqual(await leftovers(source.name), [], 'the group snapshot and the export PVCs are gone');

    const location = await openNamedLocation(undefined, () => clients);
    const point = await readRestorePoint(location, application, result.restorePoint.id);
    assert.ok(point?.blueprints?.['cairn-volume'], 'the restore point keeps the volume blueprint it restores with');
    assert.deepEqual(point.components?.map((c) => [c.name, c.blueprint, c.dataBlueprint, Object.keys(c.artifacts)]), [
      ['mysql', 'mysql', 'cairn-volume', ['volume']],
      ['postgres', 'postgresql', 'cairn-volume', ['volume']],
    ]);

    const target = `${source.name}-r`;
    created.push(target);
    const restored = (await fixture.client.workflow.execute('restoreApplication', {
      taskQueue: fixture.taskQueue,
      workflowId: `${fixture.taskQueue}-restore`,
      args: [{ application, targetNamespace: target }],
    })) as ApplicationRestoreResult;
    assert.deepEqual(restored.components.map((c) => [c.name, c.validated]), [['mysql', true], ['postgres', true]]);

    const cut = await maxCut(target);
    t.diagnostic(`cut: postgres ${cut.postgres}, mysql ${cut.mysql}; written by the end: ${writer.written()}; method ${result.consistencyGroup.method}; windows ${JSON.stringify(result.components.map((c) => [c.name, c.quiesceWindowMs]))}`);
    assert.ok(cut.mysql >= 5, `MySQL came back with ${cut.mysql} rows`);
    // One instant: PostgreSQL is never behind MySQL, and ahead by at most the one commit in flight at the cut.
    assert.ok(cut.postgres === cut.mysql || cut.postgres === cut.mysql + 1, `PostgreSQL at ${cut.postgres}, MySQL at ${cut.mysql}`);
    assert.ok(cut.mysql < writer.written(), 'the restore holds the cut, not the data written since');

    // The same restore point drilled: the volumes come back in an isolated namespace and both validate.
    const drill = (await fixture.client.workflow.execute('drillApplication', {
      taskQueue: fixture.taskQueue,
      workflowId: `${fixture.taskQueue}-drill`,
      args: [{ application, suffix: 'drill' }],
    })) as DrillReport;
    assert.equal(drill.passed, true, JSON.stringify(drill.checks));
    assert.equal(drill.dataVerified, true);
    assert.equal(drill.cleanedUp, true);
  });

  it('releases every hold and writes no restore point when one component cannot be quiesced', async () => {
    const application = uniqueTaskQueue('group-fail');
    const workflowId = `${fixture.taskQueue}-refused`;
    await assert.rejects(
      backup(spec(application, [mysql, { name: 'postgres', workload: { kind: 'StatefulSet', name: 'postgres' }, blueprint: 'refuses-quiesce' }]), workflowId),
      (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError);
        assert.match(innermostMessage(error), /this database cannot be quiesced/);
        assert.match(error.cause?.message ?? '', /consistent cut failed \(postgres\).*no restore point was written/s);
        return true;
      },
    );
    // MySQL's hold was released by its unquiesce, not left to its watchdog (quiesceTimeout 120 s).
    const unquiesce = await fixture.client.workflow.getHandle(`${workflowId}/mysql/unquiesce`).describe();
    assert.equal(unquiesce.status.name, 'COMPLETED');
    assert.equal(await sql('mysql', source.name, 'SET SESSION lock_wait_timeout = 5; INSERT INTO cut.cuts VALUES (1000000); SELECT COUNT(*) FROM cut.cuts WHERE n = 1000000', 20_000), '1');

    const location = await openNamedLocation(undefined, () => clients);
    const { points } = await listRestorePoints(location, { application });
    assert.deepEqual(points, []);
    assert.deepEqual(await leftovers(source.name), []);
  });

  it('survives a worker killed while the databases are held: another worker cuts, releases them and finishes', async (t) => {
    const application = uniqueTaskQueue('group-crash');
    const taskQueue = `${fixture.taskQueue}-crash`;
    const workerArgs = ['--blueprints', join(ROOT, 'test/fixtures/application'), '--blueprints', join(ROOT, 'blueprints')];
    const first = await spawnWorker({ ...fixture, taskQueue }, { args: workerArgs });
    await first.ready;
    const workflowId = `${fixture.taskQueue}-crash`;
    const group = spec(application, [mysql, { name: 'postgres', workload: { kind: 'StatefulSet', name: 'postgres' }, blueprint: 'postgresql' }]);
    const handle = await fixture.client.workflow.start('backupApplication', { taskQueue, workflowId, args: [{ application: { inline: stringify(group), file: 'group.yaml' } }] });

    // Both quiesced, MySQL's read lock held by its session in the pod: now the worker dies outright.
    const deadline = Date.now() + 180_000;
    for (;;) {
      const progress = await handle.query<ApplicationProgress>('progress').catch(() => undefined);
      if (progress?.stage === 'group snapshot') break;
      assert.ok(Date.now() < deadline && progress?.stage !== 'failed', `the backup never reached its group snapshot (${JSON.stringify(progress)})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await spawnWorker({ ...fixture, taskQueue }, { args: workerArgs });
    try {
      await second.ready;
      const result = (await handle.result()) as ApplicationBackupResult;
      assert.deepEqual(result.consistencyGroup?.pvcs, { mysql: 'data-mysql-0', postgres: 'data-postgres-0' });
      // Released by its unquiesce on the second worker, inside options.quiesceTimeout (else the backup fails).
      const window = result.components.find((c) => c.name === 'mysql')?.quiesceWindowMs ?? -1;
      t.diagnostic(`MySQL held ${window} ms across the crash`);
      assert.ok(window > 0 && window < 120_000, `MySQL was held ${window} ms`);
      assert.equal((await fixture.client.workflow.getHandle(`${workflowId}/mysql/unquiesce`).describe()).status.name, 'COMPLETED');
      assert.match(await second.log(), /phase started/, 'the second worker did the rest');
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
    assert.equal(await sql('mysql', source.name, 'SET SESSION lock_wait_timeout = 5; INSERT INTO cut.cuts VALUES (2000000); SELECT COUNT(*) FROM cut.cuts WHERE n = 2000000', 20_000), '1');
    const location = await openNamedLocation(undefined, () => clients);
    assert.equal((await listRestorePoints(location, { application })).points.length, 1);
    assert.deepEqual(await leftovers(source.name), []);
  });
});
