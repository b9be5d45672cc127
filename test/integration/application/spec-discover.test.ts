import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { parse } from 'yaml';
import { createLoadApplication } from '../../../activities/application/load-application.ts';
import type { ApplicationSpec } from '../../../src/application/types.ts';
import { main } from '../../../src/cli/main.ts';
import { createManifests } from '../../../src/kube/apply.ts';
import { ensureStack, kubeClients, testNamespace, type KubeClients, type TestNamespace } from '../../support/stack.ts';

// `cairn discover` against the real cluster: the shop of examples/three-tier deployed into a fresh namespace is
// proposed as an Application that `cairn validate` accepts; and loadApplication finds Applications in ConfigMaps.
const ROOT = join(import.meta.dirname, '../../..');

let clients: KubeClients;
let shop: TestNamespace;
let empty: TestNamespace;
let dir: string;

before(async () => {
  const stack = await ensureStack();
  // The CLI builds its clients from the default kubeconfig: make that the stack's.
  process.env.KUBECONFIG = stack.kube.kubeconfig;
  clients = kubeClients(stack);
  [shop, empty] = await Promise.all([testNamespace('app-discover'), testNamespace('app-discover-empty')]);
  await createManifests(clients, join(ROOT, 'examples/three-tier'), shop.name);
  dir = await mkdtemp(join(tmpdir(), 'cairn-discover-'));
});

after(async () => {
  await Promise.all([shop?.cleanup(), empty?.cleanup()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function cairn(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

describe('cairn discover on the deployed three-tier shop', () => {
  it('proposes postgres with the postgresql blueprint and api and worker depending on it, as YAML cairn validate accepts', async () => {
    const { code, stdout, stderr } = await cairn('discover', shop.name);
    assert.equal(code, 0, stderr);
    const spec = parse(stdout) as ApplicationSpec;
    assert.equal(spec.kind, 'Application');
    assert.equal(spec.metadata.name, 'shop'); // the workloads' shared app.kubernetes.io/part-of
    assert.equal(spec.spec.namespace, shop.name);
    const components = Object.fromEntries(spec.spec.components.map((c) => [c.name, c]));
    assert.deepEqual(Object.keys(components), ['postgres', 'api', 'worker']);
    assert.deepEqual(components.postgres?.workload, { kind: 'StatefulSet', name: 'postgres' });
    assert.equal(components.postgres?.blueprint, 'postgresql');
    assert.deepEqual(components.postgres?.readiness, { workload: true, validate: true, timeout: '10m' });
    for (const name of ['api', 'worker']) {
      assert.deepEqual(components[name]?.workload, { kind: 'Deployment', name });
      assert.equal(components[name]?.blueprint, undefined);
      // api names PGHOST=postgres; worker names postgres.$(POD_NAMESPACE).svc.cluster.local.
      assert.deepEqual(components[name]?.dependsOn, ['postgres']);
    }
    assert.match(stderr, /StatefulSet postgres \(image postgres:16\): blueprint postgresql/);

    const file = join(dir, 'proposal.yaml');
    await writeFile(file, stdout);
    const validated = await cairn('validate', file);
    assert.equal(validated.code, 0, validated.stdout);
    assert.match(validated.stdout, /1 valid application, 0 errors, 0 warnings/);
  });

  it('prints JSON with --output json and takes the name from --name', async () => {
    const { code, stdout } = await cairn('discover', shop.name, '--output', 'json', '--name', 'storefront');
    assert.equal(code, 0);
    const spec = JSON.parse(stdout) as ApplicationSpec;
    assert.equal(spec.metadata.name, 'storefront');
    assert.equal(spec.spec.components.length, 3);
  });

  it('fails with exit 1 and a clear message for a namespace that does not exist or has no workloads', async () => {
    const missing = await cairn('discover', `${shop.name}-gone`);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '');
    assert.equal(missing.stderr, `cairn discover: namespace "${shop.name}-gone" does not exist\n`);
    const none = await cairn('discover', empty.name);
    assert.equal(none.code, 1);
    assert.match(none.stderr, new RegExp(`namespace "${empty.name}" has no StatefulSets or Deployments`));
  });
});

describe('loadApplication from ConfigMaps labelled cairn.io/application=true', () => {
  it('finds the Application by name and namespace, and fails for good on an invalid one with its ConfigMap and line', async () => {
    const name = `shop-${shop.name.slice(-6)}`; // unique in the cluster: ConfigMaps are searched in every namespace
    const text = (await readFile(join(ROOT, 'examples/applications/shop.yaml'), 'utf8')).replace('name: shop\n', `name: ${name}\n`).replace('namespace: shop', `namespace: ${shop.name}`);
    const configMap = (cmName: string, data: string) => ({
      metadata: { name: cmName, namespace: shop.name, labels: { 'cairn.io/application': 'true' } },
      data: { 'application.yaml': data },
    });
    await clients.core.createNamespacedConfigMap({ namespace: shop.name, body: configMap('shop-application', text) });
    await clients.core.createNamespacedConfigMap({ namespace: shop.name, body: configMap('broken-application', text.replace(`name: ${name}\n`, `name: ${name}-broken\n`).replace('concurrency: 9', 'concurrency: 0')) });
    // Unlabelled: never considered.
    await clients.core.createNamespacedConfigMap({ namespace: shop.name, body: { metadata: { name: 'unlabelled', namespace: shop.name }, data: { 'application.yaml': text.replace(`name: ${name}\n`, `name: ${name}-hidden\n`) } } });

    const load = createLoadApplication({ kube: () => clients });
    const spec = await load({ source: { name, namespace: shop.name } });
    assert.equal(spec.metadata.name, name);
    assert.deepEqual(spec.spec.components.map((c) => c.name), ['postgres', 'api', 'worker']);
    assert.deepEqual(await load({ source: { name } }), spec);

    await assert.rejects(load({ source: { name: `${name}-broken` } }), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure && error.nonRetryable);
      assert.match(error.message, new RegExp(`^configmap/${shop.name}/broken-application/application\\.yaml:\\d+:16: error: spec\\.concurrency: must be >= 1`));
      return true;
    });
    await assert.rejects(load({ source: { name: `${name}-hidden` } }), /no Application named ".*-hidden" in no application directory or in ConfigMaps labelled cairn\.io\/application=true/);
    await assert.rejects(load({ source: { name, namespace: 'elsewhere' } }), /no Application named ".*" for namespace elsewhere/);
  });
});
