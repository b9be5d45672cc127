import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import type { Worker } from '@temporalio/worker';
import { createManifests } from '../../../src/kube/apply.ts';
import type { RunActionResult } from '../../../src/run/types.ts';
import { execUntilSuccess, waitForPod } from '../../support/pod-runtime/testing.ts';
import { kubeClients, ensureStack, testNamespace, type TestNamespace } from '../../support/stack.ts';
import { inProcessWorker, temporalFixture, type TemporalFixture } from '../../support/temporal.ts';

// The shipped PostgreSQL blueprint against a real PostgreSQL server playing the example StatefulSet's pod:
// a backup through Temporal and kopia, a change, a restore, and the data is back as it was.
const ROOT = join(import.meta.dirname, '../../..');

let fixture: TemporalFixture;
let namespace: TestNamespace;
let worker: Worker;
let running: Promise<void>;

before(async () => {
  const stack = await ensureStack();
  fixture = await temporalFixture('pg-blueprint');
  namespace = await testNamespace('pg-blueprint');
  const clients = kubeClients(stack);
  // The database only: the example's api and worker would keep writing while the test compares rows.
  await createManifests(clients, join(ROOT, 'examples/three-tier'), namespace.name, (file) => /^(00-config|10-postgres)\./.test(file));
  await waitForPod(clients, namespace.name, 'postgres-0', 'Running', (pod) => pod.status?.phase === 'Running' && (pod.status.containerStatuses ?? []).every((c) => c.ready), 180_000);
  worker = await inProcessWorker(fixture);
  running = worker.run();
});

after(async () => {
  worker?.shutdown();
  await running;
  await namespace?.cleanup();
  await fixture?.close();
});

async function psql(sql: string): Promise<string> {
  const stack = await ensureStack();
  const result = await execUntilSuccess(kubeClients(stack), namespace.name, 'postgres-0', 'postgres', ['sh', '-c', `psql -U shop -d shop -tAc ${JSON.stringify(sql)}`]);
  return result.stdout.trim();
}

async function run(action: 'backup' | 'restore', artifacts?: RunActionResult['outputArtifacts']): Promise<RunActionResult> {
  return (await fixture.client.workflow.execute('runAction', {
    taskQueue: fixture.taskQueue,
    workflowId: `${fixture.taskQueue}-${action}`,
    args: [{ blueprint: { name: 'postgresql' }, action, target: `statefulset/${namespace.name}/postgres`, ...(artifacts ? { artifacts } : {}) }],
  })) as RunActionResult;
}

it('backs up with pg_dumpall into kopia and restores the database to the backup point', async () => {
  await psql("CREATE TABLE IF NOT EXISTS orders (id int PRIMARY KEY, item text); INSERT INTO orders VALUES (1, 'anvil'), (2, 'rope') ON CONFLICT DO NOTHING;");
  const backup = await run('backup');
  const dump = backup.outputArtifacts.pgDump?.KeyValue;
  assert.match(dump?.snapshotID ?? '', /^[0-9a-f]{32}$/);
  assert.ok(Number(dump?.logicalBytes) > 1000, `dump of ${dump?.logicalBytes} bytes`);
  assert.ok(Number(backup.phaseOutputs.dumpToLocation?.storedBytes) > 0);

  await psql("DELETE FROM orders WHERE id = 1; INSERT INTO orders VALUES (3, 'dynamite'); CREATE TABLE scratch (x int);");
  assert.equal(await psql('SELECT string_agg(item, \',\' ORDER BY id) FROM orders'), 'rope,dynamite');

  await run('restore', backup.outputArtifacts);
  assert.equal(await psql('SELECT string_agg(item, \',\' ORDER BY id) FROM orders'), 'anvil,rope');
  assert.equal(await psql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'scratch'"), '0');
});
