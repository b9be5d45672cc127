import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { parseDocument } from 'yaml';
import type { ApplicationBackupResult, DrillInput, DrillReport } from '../../../src/application/types.ts';
import { drillCommand } from '../../../src/cli/drill.ts';
import { isJsonObject } from '../../../src/json.ts';
import { createManifests } from '../../../src/kube/apply.ts';
import { isNotFound } from '../../../src/kube/clients.ts';
import type { DrillProgress } from '../../../workflows/drill.ts';
import { execUntilSuccess, isReadyPod, waitForPod } from '../../support/pod-runtime/testing.ts';
import { ensureStack, kubeClients, testNamespace, type KubeClients, type TestNamespace } from '../../support/stack.ts';
import { runningWorker, type RunningWorker, type TemporalFixture } from '../../support/temporal.ts';

// A DR drill of a real application: PostgreSQL (examples/three-tier) with a row written before the backup, a
// NodePort Service and an Ingress. The drill restores into <ns>-<suffix> through restoreApplication; the
// component's blueprint is the shipped postgresql one whose validate action here checks that very row, so
// "data verified" means the data came back. Afterwards the drill namespace is gone and every object of the
// source has the resourceVersion it had before. A drill that finds its namespace taken touches nothing; a
// cancelled drill still removes its namespace.
const ROOT = join(import.meta.dirname, '../../..');
const MARKER = `drilled-${randomBytes(3).toString('hex')}`;
let fixture: TemporalFixture;
let clients: KubeClients;
let source: TestNamespace;
let serving: RunningWorker;
let application: string;
let host: string;
const foreign: TestNamespace[] = [];

/** postgresql.yaml as `postgresql-drill`, its validate action checking the marker row instead of listing databases. */
async function markerBlueprintDir(): Promise<string> {
  const document = parseDocument(await readFile(join(ROOT, 'blueprints/postgresql.yaml'), 'utf8'));
  document.setIn(['metadata', 'name'], 'postgresql-drill');
  const command = String(document.getIn(['actions', 'validate', 'phases', 0, 'args', 'command', 2]));
  assert.match(command, /psql /, 'the shipped validate action runs psql');
  const credentials = '{{shellQuote Phases.listDatabases.Secrets.credentials.POSTGRES_PASSWORD}}';
  const user = '{{shellQuote (default "postgres" Phases.listDatabases.Secrets.credentials.POSTGRES_USER)}}';
  document.setIn(['actions', 'validate', 'phases', 0, 'args', 'command', 2], `test "$(PGPASSWORD=${credentials} psql --tuples-only --no-align --username=${user} --dbname=shop -c 'SELECT v FROM drill_marker')" = ${MARKER}`);
  const dir = await mkdtemp(join(tmpdir(), 'cairn-drill-blueprints-'));
  await writeFile(join(dir, 'postgresql-drill.yaml'), document.toString());
  return dir;
}

/** Every object of the source namespace (Events aside) by apiVersion kind/name → resourceVersion. */
async function sourceVersions(): Promise<Record<string, string>> {
  const { resources } = await clients.dynamic.serverResources();
  const versions: Record<string, string> = {};
  for (const resource of resources) {
    if (!resource.namespaced || !resource.verbs.includes('list') || resource.resource.includes('/') || resource.kind === 'Event') continue;
    // Other tests install and remove CRDs on the shared cluster: a kind gone since discovery has no objects here.
    const objects = await clients.dynamic.listObjects(resource, source.name, '').catch((error: unknown) => {
      if (isNotFound(error)) return [];
      throw error;
    });
    for (const object of objects) {
      const metadata = isJsonObject(object.metadata) ? object.metadata : {};
      versions[`${resource.apiVersion} ${resource.kind}/${String(metadata.name)}`] = String(metadata.resourceVersion);
    }
  }
  return versions;
}

async function namespaceExists(name: string): Promise<boolean> {
  try {
    await clients.core.readNamespace({ name });
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

before(async () => {
  const stack = await ensureStack();
  process.env.CAIRN_KOPIA = stack.kopia.binary;
  clients = kubeClients(stack);
  source = await testNamespace('drill-src');
  application = source.name;
  host = `${source.name}.shop.example`;
  await createManifests(clients, join(ROOT, 'examples/three-tier'), source.name, (file) => /^(00-config|10-postgres)\./.test(file));
  await clients.core.createNamespacedService({
    namespace: source.name,
    body: { metadata: { name: 'web' }, spec: { type: 'NodePort', selector: { 'app.kubernetes.io/name': 'postgres' }, ports: [{ port: 80, targetPort: 5432 }] } },
  });
  await clients.dynamic.createObject(await clients.dynamic.resourceForKind('networking.k8s.io/v1', 'Ingress'), {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web', namespace: source.name },
    spec: { rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
  }, source.name);
  await clients.apps.createNamespacedDeployment({
    namespace: source.name,
    body: { metadata: { name: 'idle', labels: { app: 'idle' } }, spec: { replicas: 1, selector: { matchLabels: { app: 'idle' } }, template: { metadata: { labels: { app: 'idle' } }, spec: { containers: [{ name: 'idle', image: 'busybox:1.36' }] } } } },
  });
  await waitForPod(clients, source.name, 'postgres-0', 'ready', isReadyPod, 180_000);
  await execUntilSuccess(clients, source.name, 'postgres-0', 'postgres', ['sh', '-c', `psql -U shop -d shop -c "CREATE TABLE drill_marker (v text); INSERT INTO drill_marker VALUES ('${MARKER}')"`]);

  serving = await runningWorker('drill', { blueprintDirs: [await markerBlueprintDir(), join(ROOT, 'blueprints')] });
  fixture = serving.fixture;
  const spec = `apiVersion: cairn.io/v1alpha1
kind: Application
metadata: {name: ${application}}
spec:
  namespace: ${source.name}
  components:
    - name: postgres
      workload: {kind: StatefulSet, name: postgres}
      blueprint: postgresql-drill
      strategy: logical
      readiness: {timeout: 5m}
`;
  const backup = await fixture.client.workflow.execute('backupApplication', {
    taskQueue: fixture.taskQueue,
    workflowId: `${fixture.taskQueue}-backup`,
    args: [{ application: { inline: spec, file: 'drill-app.yaml' } }],
  });
  assert.equal((backup as ApplicationBackupResult).restorePoint.application, application);
  // A second Application of the same namespace whose only component can never be ready in time (1ms).
  const impatient = `apiVersion: cairn.io/v1alpha1
kind: Application
metadata: {name: ${application}-impatient}
spec:
  namespace: ${source.name}
  components: [{name: idle, workload: {kind: Deployment, name: idle}, readiness: {timeout: 1ms}}]
  resources: {labelSelector: app=idle}
`;
  await fixture.client.workflow.execute('backupApplication', { taskQueue: fixture.taskQueue, workflowId: `${fixture.taskQueue}-backup-impatient`, args: [{ application: { inline: impatient } }] });
});

after(async () => {
  await serving?.stop();
  await Promise.all([source, ...foreign].map((ns) => ns?.cleanup()));
});

function drillCli(app: string, workflowId: string): { exit: Promise<number>; output: () => { stdout: string; stderr: string } } {
  let stdout = '';
  let stderr = '';
  const exit = drillCommand([app, '--output', 'json', '--id', workflowId, '--address', fixture.address, '--namespace', fixture.namespace, '--task-queue', fixture.taskQueue], {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
  });
  return { exit, output: () => ({ stdout, stderr }) };
}

function startDrill(input: Omit<DrillInput, 'application'>, id: string) {
  return fixture.client.workflow.start('drillApplication', { taskQueue: fixture.taskQueue, workflowId: `${fixture.taskQueue}-${id}`, args: [{ application, ...input }] });
}

async function drillFailure(promise: Promise<unknown>): Promise<WorkflowFailedError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof WorkflowFailedError, `the drill should have failed: ${String(error)}`);
  return error;
}

it('refuses a drill namespace that exists and is not its own, touching nothing', async () => {
  const taken = await testNamespace(`${source.name}-x`);
  foreign.push(taken);
  await clients.core.createNamespacedConfigMap({ namespace: taken.name, body: { metadata: { name: 'someone-elses' }, data: { keep: 'me' } } });
  const suffix = taken.name.slice(source.name.length + 1);
  const before = await sourceVersions();

  const failure = await drillFailure((await startDrill({ suffix }, 'taken')).result());
  assert.ok(failure.cause instanceof ApplicationFailure && failure.cause.type === 'DrillFailed', String(failure.cause));
  const report = failure.cause.details?.[0] as DrillReport;
  assert.equal(report.passed, false);
  assert.equal(report.namespace, taken.name);
  assert.match(report.checks.find((c) => c.name === 'isolated namespace')?.detail ?? '', /exists and is not drill .* a drill never touches what it did not create/);
  assert.match(report.checks.find((c) => c.name === 'cleanup')?.detail ?? '', /left alone/);

  const namespace = await clients.core.readNamespace({ name: taken.name });
  assert.equal(namespace.metadata?.deletionTimestamp, undefined);
  assert.equal(namespace.metadata?.labels?.['cairn.io/drill'], undefined);
  assert.deepEqual((await clients.core.readNamespacedConfigMap({ namespace: taken.name, name: 'someone-elses' })).data, { keep: 'me' });
  const policies = await clients.dynamic.listObjects(await clients.dynamic.resourceForKind('networking.k8s.io/v1', 'NetworkPolicy'), taken.name, '');
  assert.deepEqual(policies, []);
  assert.deepEqual(await sourceVersions(), before);
});

it('drills: isolated namespace, restore, data verified by validate, namespace removed, source untouched', async () => {
  const before = await sourceVersions();
  assert.ok(Object.keys(before).some((key) => key.endsWith('StatefulSet/postgres')));
  const workflowId = `${fixture.taskQueue}-cli`;
  const cli = drillCli(application, workflowId);

  // While it runs: the namespace is the drill's, cut off by NetworkPolicies, and what it restores is isolated.
  const handle = fixture.client.workflow.getHandle(workflowId);
  const progress = await until('the drill restoring', async () => {
    const p = await handle.query<DrillProgress>('drillProgress');
    return p.stage === 'restoring' ? p : undefined;
  });
  const drillNs = progress.namespace!;
  assert.match(drillNs, new RegExp(`^${source.name}-drill-[0-9a-f]{8}$`));
  const namespace = await clients.core.readNamespace({ name: drillNs });
  assert.equal(namespace.metadata?.labels?.['cairn.io/drill-of'], application);
  assert.equal(namespace.metadata?.labels?.['cairn.io/drill'], drillNs.slice(source.name.length + 1));
  const policies = await clients.dynamic.listObjects(await clients.dynamic.resourceForKind('networking.k8s.io/v1', 'NetworkPolicy'), drillNs, '');
  const denyAll = policies.find((p) => (p.metadata as { name: string }).name === 'cairn-drill-deny-all');
  assert.deepEqual(denyAll?.spec, { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  const web = await until('the restored Service', () => clients.core.readNamespacedService({ namespace: drillNs, name: 'web' }));
  assert.equal(web.spec?.type, 'ClusterIP');
  assert.equal(web.metadata?.labels?.['cairn.io/drill'], drillNs.slice(source.name.length + 1));
  const ingresses = await clients.dynamic.resourceForKind('networking.k8s.io/v1', 'Ingress');
  const ingress = await until('the restored Ingress', () => clients.dynamic.get(ingresses, 'web', drillNs));
  const ingressSpec = ingress.spec as { ingressClassName: string; rules: Array<{ host: string }> };
  assert.equal(ingressSpec.ingressClassName, 'cairn-drill-unserved');
  assert.equal(ingressSpec.rules[0]!.host, `${drillNs.slice(source.name.length + 1)}.${host}`);

  assert.equal(await cli.exit, 0, cli.output().stderr);
  const report = JSON.parse(cli.output().stdout) as DrillReport & { workflowId: string };
  assert.equal(report.passed, true, JSON.stringify(report.checks));
  assert.equal(report.dataVerified, true);
  assert.equal(report.cleanedUp, true);
  assert.equal(report.namespace, drillNs);
  assert.ok(report.rtoMs > 0);
  assert.deepEqual(report.checks.map((c) => [c.name, c.passed]), [
    ['isolated namespace', true],
    ['ready: postgres', true],
    ['validate: postgres', true],
    ['source untouched', true],
    ['cleanup', true],
  ]);

  assert.equal(await namespaceExists(drillNs), false);
  assert.deepEqual(await sourceVersions(), before);
  const row = await execUntilSuccess(clients, source.name, 'postgres-0', 'postgres', ['sh', '-c', 'psql -U shop -d shop -tAc "SELECT v FROM drill_marker"']);
  assert.equal(row.stdout.trim(), MARKER);
});

it('a cancelled drill still deletes its namespace', async () => {
  const handle = await startDrill({}, 'cancelled');
  const progress = await until('the drill restoring', async () => {
    const p = await handle.query<DrillProgress>('drillProgress');
    return p.stage === 'restoring' ? p : undefined;
  });
  await handle.cancel();
  const failure = await drillFailure(handle.result());
  assert.equal(failure.cause?.name, 'CancelledFailure');
  assert.equal(await namespaceExists(progress.namespace!), false);
});

it('a drill whose restore fails reports the failure and still deletes its namespace', async () => {
  const before = await sourceVersions();
  const cli = drillCli(`${application}-impatient`, `${fixture.taskQueue}-impatient`);
  assert.equal(await cli.exit, 1);
  const report = JSON.parse(cli.output().stdout) as DrillReport;
  assert.equal(report.passed, false);
  assert.equal(report.dataVerified, false);
  assert.equal(report.cleanedUp, true);
  assert.deepEqual(report.checks.map((c) => [c.name, c.passed]), [
    ['isolated namespace', true],
    ['restore', false],
    ['source untouched', true],
    ['cleanup', true],
  ]);
  assert.match(report.checks[1]!.detail!, /idle .*not ready within 0s/);
  assert.equal(await namespaceExists(report.namespace), false);
  assert.deepEqual(await sourceVersions(), before);
});
