import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { listRestorePoints } from '../../../activities/location/restore-points.ts';
import { openNamedLocation } from '../../../activities/location/location.ts';
import type { ApplicationSpec } from '../../../src/application/types.ts';
import { main } from '../../../src/cli/main.ts';
import { ensureStack, kubeClients, testNamespace, uniqueTaskQueue, type KubeClients, type TestNamespace } from '../../support/stack.ts';
import { runningWorker, type RunningWorker, type TemporalFixture } from '../../support/temporal.ts';

// `cairn backup` and `cairn restore` against the real stack with a stateless application (no database, so it
// is quick): a backup whose component fails leaves no restore point and exits 1; a good one restores into
// another namespace with --output json; a single ConfigMap comes back alone, leaving the rest untouched.

let fixture: TemporalFixture;
let serving: RunningWorker;
let clients: KubeClients;
let source: TestNamespace;
let dir: string;
const extra: string[] = [];

before(async () => {
  const stack = await ensureStack();
  process.env.KUBECONFIG = stack.kube.kubeconfig;
  clients = kubeClients(stack);
  source = await testNamespace('app-cli');
  dir = await mkdtemp(join(tmpdir(), 'cairn-app-cli-'));
  await clients.core.createNamespacedConfigMap({ namespace: source.name, body: { metadata: { name: 'web-config' }, data: { GREETING: 'hello' } } });
  await clients.apps.createNamespacedDeployment({
    namespace: source.name,
    body: {
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'busybox:1.36', command: ['sh', '-c', 'echo "$GREETING"; sleep 3600'], envFrom: [{ configMapRef: { name: 'web-config' } }] }] },
        },
      },
    },
  });
  serving = await runningWorker('app-cli');
  fixture = serving.fixture;
});

after(async () => {
  await serving?.stop();
  await source?.cleanup();
  await Promise.all(extra.map((name) => clients.core.deleteNamespace({ name }).catch(() => undefined)));
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function cairn(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main([...argv, '--address', fixture.address, '--task-queue', fixture.taskQueue], { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

async function specFile(name: string, components: ApplicationSpec['spec']['components']): Promise<string> {
  const spec: ApplicationSpec = { apiVersion: 'cairn.io/v1alpha1', kind: 'Application', metadata: { name }, spec: { namespace: source.name, components } };
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, stringify(spec));
  return file;
}

const web = { name: 'web', workload: { kind: 'Deployment' as const, name: 'web' }, readiness: { timeout: '2m' } };

describe('cairn backup and cairn restore', () => {
  it('a component whose backup fails fails the backup, exit 1, and no restore point is written', async () => {
    const application = uniqueTaskQueue('app-broken');
    // The StatefulSet does not exist: the blueprint's first phase cannot find its pod.
    const file = await specFile(application, [web, { name: 'db', workload: { kind: 'StatefulSet', name: 'no-such-db' }, blueprint: 'postgresql' }]);
    const { code, stdout } = await cairn('backup', file, '--wait', '--output', 'json');
    assert.equal(code, 1);
    const result = JSON.parse(stdout) as { outcome: string; error: string };
    assert.equal(result.outcome, 'failed');
    assert.match(result.error, /backup of .* failed in component db: .*no restore point was written/);
    const location = await openNamedLocation(undefined, () => clients);
    assert.deepEqual((await listRestorePoints(location, { application })).points, []);

    const restore = await cairn('restore', application, '--wait');
    assert.equal(restore.code, 1);
    assert.match(restore.stderr, new RegExp(`no application restore point of ${application}`));
  });

  const application = uniqueTaskQueue('app-web');
  it('backs up a stateless application and restores it into another namespace, reporting RTO and components', async () => {
    const file = await specFile(application, [web]);
    const backup = await cairn('backup', file, '--wait');
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /restore point: \d{8}T\d{6}\.\d{3}Z-[0-9a-f]{8}/);
    assert.match(backup.stderr, /web: succeeded/);

    const target = `${source.name}-copy`;
    extra.push(target);
    const restore = await cairn('restore', application, '--namespace', target, '--wait', '--output', 'json');
    assert.equal(restore.code, 0, restore.stdout);
    const result = JSON.parse(restore.stdout) as { outcome: string; namespace: string; rtoMs: number; components: { name: string; readyAtMs: number }[]; resources: { created: number } };
    assert.equal(result.outcome, 'succeeded');
    assert.equal(result.namespace, target);
    assert.deepEqual(result.components.map((c) => c.name), ['web']);
    assert.ok(result.rtoMs >= result.components[0]!.readyAtMs);
    assert.ok(result.resources.created >= 2, `created ${result.resources.created}`);
    const deployment = await clients.apps.readNamespacedDeployment({ name: 'web', namespace: target });
    assert.equal(deployment.status?.readyReplicas, 1);
    assert.equal((await clients.core.readNamespacedConfigMap({ name: 'web-config', namespace: target })).data?.GREETING, 'hello');
  });

  it('restores one ConfigMap alone: the Deployment is not touched', async () => {
    await clients.core.deleteNamespacedConfigMap({ name: 'web-config', namespace: source.name });
    const before = (await clients.apps.readNamespacedDeployment({ name: 'web', namespace: source.name })).metadata?.resourceVersion;
    const restore = await cairn('restore', application, '--resource', 'ConfigMap/web-config', '--wait', '--output', 'json');
    assert.equal(restore.code, 0, restore.stdout);
    const result = JSON.parse(restore.stdout) as { components: unknown[]; resources: { created: number; updated: number; skipped: number } };
    assert.deepEqual(result.components, []);
    assert.deepEqual(result.resources, { created: 1, updated: 0, skipped: 0 });
    assert.equal((await clients.core.readNamespacedConfigMap({ name: 'web-config', namespace: source.name })).data?.GREETING, 'hello');
    assert.equal((await clients.apps.readNamespacedDeployment({ name: 'web', namespace: source.name })).metadata?.resourceVersion, before);
  });

  it('refuses bad flags with exit 2 before starting anything', async () => {
    assert.equal((await cairn('restore', application, '--existing', 'sometimes')).code, 2);
    assert.equal((await cairn('restore', application, '--resource', 'not a resource')).code, 2);
    assert.equal((await cairn('restore', application, '--restore-point', 'latest')).code, 2);
    assert.equal((await cairn('backup', join(dir, 'missing.yaml'))).code, 2);
  });
});
