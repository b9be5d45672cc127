import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { parseDocument } from 'yaml';
import { waitUntil } from '../../../scripts/stack/process.ts';
import { createKekFile } from '../../../activities/location/envelope.ts';
import { isNotFound } from '../../../src/kube/clients.ts';
import type { ApplicationBackupResult, ApplicationRestoreResult } from '../../../src/application/types.ts';
import { execUntilSuccess, waitForDefaultServiceAccount, waitForPod } from '../../support/pod-runtime/testing.ts';
import { ensureSecondCluster, freshTemporalNamespace, type SecondCluster, type SiteTemporal } from '../../support/second-cluster.ts';
import { ensureStack, kubeClients, testNamespace, type KubeClients, type StackInfo, type TestNamespace } from '../../support/stack.ts';
import { inProcessWorker, killSpawnedWorkers, spawnWorker, temporalFixture, type TemporalFixture, type WorkerProcess } from '../../support/temporal.ts';
import { freshState, removeS3Prefix, s3ProfileYaml, scratchDir, uniquePrefix, writeProfile } from '../location/location-testing.ts';

// Site failure: the shop (examples/three-tier) is backed up on the main cluster into S3. Then, as a recovery
// site that has only the bucket's profile and the KEK — a second cluster (its own etcd and API server, StorageClass
// dr-csi, none of the source's objects or Secrets), a new Temporal namespace, a worker whose only kubeconfig is
// that cluster's — restoreApplication brings the shop back: PostgreSQL first, then api and worker, all ready,
// the orders exactly as at the backup point, the Secrets created by the restore from the encrypted bundle.
const ROOT = join(import.meta.dirname, '../../..');
const PASSWORD = 'shop-secret-1'; // examples/three-tier/00-config.yaml
const prefix = uniquePrefix('site-failure');
const profileYaml = (stack: StackInfo) => s3ProfileYaml('offsite', stack, prefix, '{env: {accessKeyId: SITE_S3_KEY, secretAccessKey: SITE_S3_SECRET}}');

let stack: StackInfo;
let main: KubeClients;
let dr: SecondCluster;
let fixture: TemporalFixture;
let source: TestNamespace;
let sourceWorker: Worker;
let sourceRunning: Promise<void>;
let kekFile: string;
let site: SiteTemporal | undefined;
let application: string;

/** Orders up to `maxId` as one line: count, highest id and a digest of every column. */
const CHECKSUM = (maxId: string) =>
  `select count(*) || ' ' || coalesce(max(id), 0) || ' ' || md5(coalesce(string_agg(id || '|' || item || '|' || extract(epoch from created_at) || '|' || coalesce(extract(epoch from fulfilled_at)::text, '-'), ',' order by id), '')) from orders where id <= ${maxId}`;

async function psql(clients: KubeClients, namespace: string, sql: string): Promise<string> {
  return (await execUntilSuccess(clients, namespace, 'postgres-0', 'postgres', ['psql', '-tAc', sql])).stdout.trim();
}

/** The shop's objects, its order interval an hour: the api inserts one order at start, then the data holds still. */
async function deployShop(clients: KubeClients, namespace: string): Promise<void> {
  await waitForDefaultServiceAccount(clients, namespace);
  const dir = join(ROOT, 'examples/three-tier');
  for (const file of (await readdir(dir)).filter((name) => name.endsWith('.yaml')).sort()) {
    for (const object of k8s.loadAllYaml(await readFile(join(dir, file), 'utf8')) as (k8s.KubernetesObject & { data?: Record<string, string> })[]) {
      if (object.kind === 'ConfigMap' && object.metadata?.name === 'shop-config') object.data = { ...object.data, ORDER_INTERVAL_SECONDS: '3600', FULFIL_INTERVAL_SECONDS: '2' };
      object.metadata = { ...object.metadata, namespace };
      await clients.objects.create(object);
    }
  }
}

/** examples/applications/shop.yaml for this test's namespace, under a name of its own (the repository key). */
async function shopApplication(namespace: string, name: string): Promise<string> {
  const document = parseDocument(await readFile(join(ROOT, 'examples/applications/shop.yaml'), 'utf8'));
  document.setIn(['metadata', 'name'], name);
  document.setIn(['spec', 'namespace'], namespace);
  return document.toString();
}

async function secretsNamed(clients: KubeClients, name: string): Promise<k8s.V1Secret[]> {
  return (await clients.core.listSecretForAllNamespaces()).items.filter((secret) => secret.metadata?.name === name);
}

before(async () => {
  stack = await ensureStack();
  main = kubeClients(stack);
  dr = await ensureSecondCluster();
  fixture = await temporalFixture('site-failure');
  source = await testNamespace('shop-site');
  application = `shop-${source.name.slice(-8)}`;
  // The source's worker: its own state (profile file, KEK), the main cluster.
  const state = await freshState('site-source');
  kekFile = state.kekFile;
  process.env.KUBECONFIG = stack.kube.kubeconfig;
  process.env.CAIRN_KOPIA = stack.kopia.binary;
  process.env.SITE_S3_KEY = stack.s3.accessKey;
  process.env.SITE_S3_SECRET = stack.s3.secretKey;
  await writeProfile(state.profiles, 'offsite', profileYaml(stack));
  sourceWorker = await inProcessWorker(fixture);
  sourceRunning = sourceWorker.run();
});

after(async () => {
  await killSpawnedWorkers();
  sourceWorker?.shutdown();
  await sourceRunning;
  await dr?.clients.core.deleteNamespace({ name: source.name }).catch(() => undefined);
  await source?.cleanup();
  await site?.remove();
  await fixture?.close();
  if (stack) await removeS3Prefix(stack, stack.s3.testBucket, prefix);
});

let backupPoint: { checksum: string; maxId: string };
let backup: ApplicationBackupResult;

it('the shop is backed up on the main cluster into S3, its Secrets only encrypted there', async () => {
  await deployShop(main, source.name);
  await waitForPod(main, source.name, 'postgres-0', 'Running', (pod) => pod.status?.phase === 'Running');
  // The api's one order, fulfilled by the worker; then 300 orders of our own, some fulfilled.
  await waitUntil('the api\'s first order, fulfilled', async () => (await psql(main, source.name, 'select count(*) from orders where fulfilled_at is not null')) === '1', 120_000);
  await psql(main, source.name, "insert into orders (item, created_at, fulfilled_at) select 'seed-' || i, timestamptz '2026-01-01 00:00:00+00' + i * interval '1 minute', case when i % 3 = 0 then null else timestamptz '2026-01-02 00:00:00+00' + i * interval '1 second' end from generate_series(1, 300) i");
  // Fulfilment of the seeded rows by the shop's worker (every 2 s) must be over before the data counts as still.
  let before = '';
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const now = await psql(main, source.name, CHECKSUM('9223372036854775807'));
    if (now === before && (await psql(main, source.name, 'select count(*) from orders where fulfilled_at is null')) === '0') break;
    before = now;
  }

  backup = (await fixture.client.workflow.execute('backupApplication', {
    taskQueue: fixture.taskQueue,
    workflowId: `${fixture.taskQueue}-backup`,
    args: [{ application: { inline: await shopApplication(source.name, application), file: 'shop.yaml' }, profile: 'offsite' }],
  })) as ApplicationBackupResult;
  const after = await psql(main, source.name, CHECKSUM('9223372036854775807'));
  assert.equal(after, before, 'the orders held still during the backup: the checksum is the backup point');
  backupPoint = { checksum: after, maxId: after.split(' ')[1]! };
  assert.equal(Number(after.split(' ')[0]), 301);
  assert.ok(backup.restorePoint.id);
  assert.ok((backup.resources.kinds.Secret ?? 0) >= 1, `Secrets captured: ${JSON.stringify(backup.resources.kinds)}`);

  // After the backup point: a row the restore must not bring back.
  await psql(main, source.name, "insert into orders (item) values ('after-backup')");

  // The bucket holds the Secret only encrypted: its value appears in no file under the prefix.
  const files = await readdir(join(stack.s3.rootDir, stack.s3.testBucket, prefix), { recursive: true, withFileTypes: true });
  for (const file of files.filter((entry) => entry.isFile())) {
    const bytes = await readFile(join(file.parentPath, file.name));
    assert.ok(!bytes.includes(PASSWORD) && !bytes.includes(Buffer.from(PASSWORD).toString('base64')), `${file.name} holds the password in clear`);
  }
});

/**
 * A recovery site's worker: a child process whose only kubeconfig is the second cluster's and whose state is a
 * new directory with the profile file and a KEK (a copy of the source's, or another one), nothing else.
 */
async function startSiteWorker(name: string, kek: { copyOf: string } | { other: true }): Promise<{ worker: WorkerProcess; taskQueue: string }> {
  site ??= await freshTemporalNamespace('cairn-site');
  const siteNamespace = site.namespace;
  const dir = await scratchDir(name);
  await mkdir(join(dir, 'profiles'));
  if ('copyOf' in kek) await copyFile(kek.copyOf, join(dir, 'kek'));
  else await createKekFile(join(dir, 'kek'));
  await writeProfile(join(dir, 'profiles'), 'offsite', profileYaml(stack));
  const taskQueue = `${fixture.taskQueue}-${name}`;
  const worker = await spawnWorker({ address: stack.temporal.address, namespace: siteNamespace, taskQueue }, {
    env: {
      KUBECONFIG: dr.kubeconfig,
      CAIRN_STATE_DIR: dir,
      CAIRN_PROFILES_DIR: join(dir, 'profiles'),
      CAIRN_KEK_FILE: join(dir, 'kek'),
      CAIRN_CACHE_DIR: join(dir, 'cache'),
      CAIRN_NAMESPACE: 'cairn',
      HOME: dir,
    },
  });
  await worker.ready;
  return { worker, taskQueue };
}

function siteRestore(taskQueue: string): Promise<ApplicationRestoreResult> {
  const client = new Client({ connection: fixture.client.connection, namespace: site!.namespace });
  return client.workflow.execute('restoreApplication', {
    taskQueue,
    workflowId: `${taskQueue}-restore`,
    args: [{ application, profile: 'offsite', transforms: { storageClasses: { 'cairn-csi': dr.storageClass } } }],
  }) as Promise<ApplicationRestoreResult>;
}

let goodSite: Promise<{ worker: WorkerProcess; taskQueue: string }> | undefined;

it('a recovery site with the location but another KEK restores nothing', async () => {
  assert.ok(backupPoint, 'the backup test ran');
  site = await freshTemporalNamespace('cairn-site');
  // The next test's worker (the right KEK) starts meanwhile: its bundling overlaps this test's retries.
  goodSite = startSiteWorker('site', { copyOf: kekFile });
  goodSite.catch(() => undefined);
  const { taskQueue } = await startSiteWorker('site-other-kek', { other: true });
  await assert.rejects(siteRestore(taskQueue), (error: Error & { cause?: Error & { cause?: Error } }) => {
    const messages = [error.message, error.cause?.message, error.cause?.cause?.message].join(' | ');
    assert.match(messages, /wrong KEK/);
    return true;
  });
  // Nothing of the shop reached the second cluster: no namespace, no Secret.
  await assert.rejects(dr.clients.core.readNamespace({ name: source.name }), (error: unknown) => isNotFound(error));
  assert.deepEqual(await secretsNamed(dr.clients, 'postgres-credentials'), []);
});

it('a recovery site with only the profile and the KEK restores the shop into the second cluster, data as at the backup point', async (t) => {
  assert.ok(backupPoint, 'the backup test ran');
  // The site: nothing of the source in the second cluster — no namespace, no Secret of the shop.
  await assert.rejects(dr.clients.core.readNamespace({ name: source.name }), (error: unknown) => isNotFound(error));
  assert.deepEqual(await secretsNamed(dr.clients, 'postgres-credentials'), []);

  const { worker, taskQueue } = await (goodSite ?? startSiteWorker('site', { copyOf: kekFile }));
  const startedAt = new Date();
  const result = await siteRestore(taskQueue).catch(async (error: unknown) => {
    throw new Error(`${(error as Error).message}: ${JSON.stringify((error as { cause?: { message?: string } }).cause?.message)}\nsite worker log:\n${(await worker.log()).slice(-4000)}`);
  });

  t.diagnostic(`RTO ${result.rtoMs} ms; ${result.components.map((c) => `${c.name} ${c.startedAtMs}→${c.readyAtMs} ms`).join(', ')}; resources ${JSON.stringify(result.resources)}`);
  assert.equal(result.restorePoint, backup.restorePoint.id);
  assert.equal(result.namespace, source.name);
  assert.deepEqual(result.components.map((c) => c.name).sort(), ['api', 'postgres', 'worker']);
  const postgres = result.components.find((c) => c.name === 'postgres')!;
  for (const dependent of result.components.filter((c) => c.name !== 'postgres')) {
    assert.ok(dependent.startedAtMs >= postgres.readyAtMs, `${dependent.name} started after the database was ready`);
  }

  // Everything ready on the second cluster, on its own storage class.
  const { apps, core } = dr.clients;
  const statefulSet = await apps.readNamespacedStatefulSet({ namespace: source.name, name: 'postgres' });
  assert.equal(statefulSet.status?.readyReplicas, 1);
  for (const name of ['api', 'worker']) {
    assert.equal((await apps.readNamespacedDeployment({ namespace: source.name, name })).status?.readyReplicas, 1, `${name} ready`);
  }
  const claim = await core.readNamespacedPersistentVolumeClaim({ namespace: source.name, name: 'data-postgres-0' });
  assert.equal(claim.spec?.storageClassName, 'dr-csi');
  assert.equal(claim.status?.phase, 'Bound');

  // The data of the backup point: the same orders, not the row written after it.
  assert.equal(await psql(dr.clients, source.name, CHECKSUM(backupPoint.maxId)), backupPoint.checksum);
  assert.equal(await psql(dr.clients, source.name, "select count(*) from orders where item = 'after-backup'"), '0');

  // The Secret was created by the restore (from the encrypted bundle), and the api authenticates with it.
  const [secret, ...others] = await secretsNamed(dr.clients, 'postgres-credentials');
  assert.equal(others.length, 0);
  assert.ok(new Date(secret!.metadata!.creationTimestamp!) >= new Date(startedAt.getTime() - 1000), 'created during the restore');
  assert.equal(Buffer.from(secret!.data!.POSTGRES_PASSWORD!, 'base64').toString(), PASSWORD);
  const api = (await core.listNamespacedPod({ namespace: source.name, labelSelector: 'app.kubernetes.io/name=api' })).items[0]!;
  await execUntilSuccess(dr.clients, source.name, api.metadata!.name!, 'api', ['sh', '-c', "psql -h postgres -tAc 'select count(*) from orders' | grep -q ."]);
  // The source kept running, untouched by the restore.
  assert.equal((await main.core.readNamespacedPod({ namespace: source.name, name: 'postgres-0' })).status?.phase, 'Running');
});
