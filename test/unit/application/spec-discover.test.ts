import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { readBlueprintCatalog, SHIPPED_BLUEPRINTS_DIR } from '../../../src/application/blueprint-catalog.ts';
import { DiscoveryError, imageRepositoryName, proposeApplication, type NamespaceWorkloads } from '../../../src/application/discover.ts';
import { applicationToYaml, parseApplication, validateApplicationText } from '../../../src/application/spec.ts';
import type { ApplicationSpec } from '../../../src/application/types.ts';

function container(name: string, image: string, extra: Partial<k8s.V1Container> = {}): k8s.V1Container {
  return { name, image, ...extra };
}

function statefulSet(name: string, containers: k8s.V1Container[], labels: Record<string, string> = {}): k8s.V1StatefulSet {
  const podLabels = { 'app.kubernetes.io/name': name };
  return {
    metadata: { name, labels },
    spec: { serviceName: name, selector: { matchLabels: podLabels }, template: { metadata: { labels: podLabels }, spec: { containers } } },
  };
}

function deployment(name: string, containers: k8s.V1Container[], labels: Record<string, string> = {}): k8s.V1Deployment {
  const podLabels = { 'app.kubernetes.io/name': name };
  return { metadata: { name, labels }, spec: { selector: { matchLabels: podLabels }, template: { metadata: { labels: podLabels }, spec: { containers } } } };
}

function service(name: string, selectsApp: string): k8s.V1Service {
  return { metadata: { name }, spec: { selector: { 'app.kubernetes.io/name': selectsApp } } };
}

function workloads(partial: Partial<NamespaceWorkloads>): NamespaceWorkloads {
  return { namespace: 'shop', statefulSets: [], deployments: [], services: [], configMaps: [], ...partial };
}

const ROOT = join(import.meta.dirname, '../../..');

/** The objects of an example directory, as the API server would list them. */
async function exampleWorkloads(dir: string, namespace: string): Promise<NamespaceWorkloads> {
  const objects: k8s.KubernetesObject[] = [];
  for (const file of (await readdir(join(ROOT, dir))).sort()) objects.push(...(k8s.loadAllYaml(await readFile(join(ROOT, dir, file), 'utf8')) as k8s.KubernetesObject[]));
  const of = <T>(kind: string) => objects.filter((o) => o?.kind === kind) as T[];
  return { namespace, statefulSets: of('StatefulSet'), deployments: of('Deployment'), services: of('Service'), configMaps: of('ConfigMap') };
}

describe('cairn discover: proposing an Application (plain data)', () => {
  it('recognises databases by image repository name, whatever the registry, tag or digest', () => {
    assert.equal(imageRepositoryName('postgres:16'), 'postgres');
    assert.equal(imageRepositoryName('docker.io/bitnami/postgresql:16.2.0-debian-12-r8'), 'postgresql');
    assert.equal(imageRepositoryName('registry:5000/library/MariaDB@sha256:abc'), 'mariadb');
    assert.equal(imageRepositoryName('quay.io/coreos/etcd:v3.5.9'), 'etcd');
    assert.equal(imageRepositoryName('ghcr.io/ferretdb/ferretdb'), 'ferretdb');
  });

  it('proposes the shop: postgres with its blueprint first, api and worker depending on it by the hosts they name', async () => {
    const blueprints = await readBlueprintCatalog([SHIPPED_BLUEPRINTS_DIR]);
    const partOf = { 'app.kubernetes.io/part-of': 'shop' };
    const { spec, notes } = proposeApplication(
      workloads({
        statefulSets: [statefulSet('postgres', [container('postgres', 'postgres:16', { envFrom: [{ secretRef: { name: 'postgres-credentials' } }] })], partOf)],
        deployments: [
          deployment('worker', [container('worker', 'shop-worker:1', { env: [{ name: 'PGHOST', value: 'postgres.$(POD_NAMESPACE).svc.cluster.local' }] })], partOf),
          deployment('api', [container('api', 'shop-api:1', { env: [{ name: 'PGHOST', value: 'postgres' }] })], partOf),
        ],
        services: [service('postgres', 'postgres'), service('api', 'api')],
      }),
      { blueprints },
    );
    assert.equal(spec.metadata.name, 'shop');
    assert.equal(spec.spec.namespace, 'shop');
    assert.deepEqual(spec.spec.components, [
      { name: 'postgres', workload: { kind: 'StatefulSet', name: 'postgres' }, blueprint: 'postgresql', readiness: { workload: true, validate: true, timeout: '10m' } },
      { name: 'api', workload: { kind: 'Deployment', name: 'api' }, dependsOn: ['postgres'], readiness: { workload: true, timeout: '5m' } },
      { name: 'worker', workload: { kind: 'Deployment', name: 'worker' }, dependsOn: ['postgres'], readiness: { workload: true, timeout: '5m' } },
    ]);
    assert.ok(notes.some((n) => /StatefulSet postgres \(image postgres:16\): blueprint postgresql/.test(n)), notes.join('\n'));
    assert.deepEqual(validateApplicationText(applicationToYaml(spec), 'proposal.yaml', { blueprints }).diagnostics, []);
  });

  it('proposes the guestbook of examples/mysql-app as examples/applications/mysql-app.yaml declares it', async () => {
    const blueprints = await readBlueprintCatalog([SHIPPED_BLUEPRINTS_DIR]);
    const { spec } = proposeApplication(await exampleWorkloads('examples/mysql-app', 'guestbook'), { blueprints });
    const declared = parseApplication(await readFile(join(ROOT, 'examples/applications/mysql-app.yaml'), 'utf8'), 'mysql-app.yaml');
    assert.equal(spec.metadata.name, declared.metadata.name);
    const shape = (s: ApplicationSpec) => s.spec.components.map((c) => ({ name: c.name, workload: c.workload, blueprint: c.blueprint, dependsOn: c.dependsOn }));
    assert.deepEqual(shape(spec), shape(declared));
  });

  it('finds hosts in ConfigMaps env vars come from, URLs and host:port; not in look-alike words', () => {
    const { spec } = proposeApplication(
      workloads({
        statefulSets: [statefulSet('db', [container('mysql', 'mariadb:11')]), statefulSet('cache', [container('redis', 'redis:7')])],
        deployments: [
          deployment('web', [container('web', 'web:1', { envFrom: [{ configMapRef: { name: 'web-env' } }] })]),
          deployment('jobs', [container('jobs', 'jobs:1', { args: ['--queue=redis://cache-master:6379/0'] })]),
          deployment('report', [container('report', 'report:1', { args: ['--config=/etc/mysql.conf', 'mysqldump-tool', 'my-mysql', 'cache-master-2'] })]),
        ],
        services: [service('mysql', 'db'), service('cache-master', 'cache')],
        configMaps: [{ metadata: { name: 'web-env' }, data: { DATABASE_URL: 'mysql://app@mysql.shop:3306/app' } }],
      }),
    );
    const dependsOn = Object.fromEntries(spec.spec.components.map((c) => [c.name, c.dependsOn ?? []]));
    assert.deepEqual(dependsOn, { cache: [], db: [], jobs: ['cache'], report: [], web: ['db'] });
    assert.deepEqual(spec.spec.components.map((c) => c.blueprint ?? '-'), ['redis', 'mysql', '-', '-', '-']);
  });

  it('never proposes a cycle: a reference back to a dependent is dropped', () => {
    const { spec } = proposeApplication(
      workloads({
        statefulSets: [
          statefulSet('primary', [container('pg', 'postgres:16', { env: [{ name: 'REPLICA', value: 'replica' }] })]),
          statefulSet('replica', [container('pg', 'postgres:16', { env: [{ name: 'PRIMARY', value: 'primary' }] })]),
        ],
        services: [service('primary', 'primary'), service('replica', 'replica')],
      }),
    );
    assert.deepEqual(spec.spec.components.map((c) => [c.name, c.dependsOn ?? []]), [['primary', ['replica']], ['replica', []]]);
    assert.deepEqual(validateApplicationText(applicationToYaml(spec), 'p.yaml').diagnostics, []);
  });

  it("sets credentialsSecret when the database reads another Secret and its blueprint takes that option, else says so", async () => {
    const blueprints = await readBlueprintCatalog([SHIPPED_BLUEPRINTS_DIR]);
    const { spec, notes } = proposeApplication(
      workloads({
        statefulSets: [
          statefulSet('mysql', [container('mysql', 'mysql:8.0', { env: [{ name: 'MYSQL_ROOT_PASSWORD', valueFrom: { secretKeyRef: { name: 'db-auth', key: 'root' } } }] })]),
          statefulSet('pg', [container('pg', 'postgres:16', { envFrom: [{ secretRef: { name: 'pg-auth' } }] })]),
        ],
      }),
      { blueprints, name: 'guestbook' },
    );
    assert.equal(spec.metadata.name, 'guestbook');
    assert.deepEqual(spec.spec.components.find((c) => c.name === 'mysql')?.options, { credentialsSecret: 'db-auth' });
    assert.equal(spec.spec.components.find((c) => c.name === 'pg')?.options, undefined);
    assert.ok(notes.some((n) => /reads Secret pg-auth; blueprint "postgresql" expects pg-credentials/.test(n)), notes.join('\n'));
  });

  it('leaves a database stateless when its blueprint is unknown or does not take its workload kind, and skips operator-owned workloads', async () => {
    const blueprints = await readBlueprintCatalog([SHIPPED_BLUEPRINTS_DIR]);
    const owned = statefulSet('managed', [container('pg', 'postgres:16')]);
    owned.metadata!.ownerReferences = [{ apiVersion: 'acid.zalan.do/v1', kind: 'postgresql', name: 'cluster', uid: 'u' }];
    const { spec, notes } = proposeApplication(
      workloads({ deployments: [deployment('cache', [container('redis', 'redis:7')])], statefulSets: [owned] }),
      { blueprints },
    );
    assert.deepEqual(spec.spec.components, [{ name: 'cache', workload: { kind: 'Deployment', name: 'cache' }, readiness: { workload: true, timeout: '5m' } }]);
    assert.ok(notes.some((n) => /blueprint "redis" does not act on a Deployment/.test(n)), notes.join('\n'));
    assert.ok(notes.some((n) => /skipped StatefulSet managed: managed by postgresql cluster/.test(n)), notes.join('\n'));
    const none = proposeApplication(workloads({ statefulSets: [statefulSet('pg', [container('pg', 'postgres:16')])] }), { blueprints: new Map() });
    assert.equal(none.spec.spec.components[0]?.blueprint, undefined);
    assert.match(none.notes.join('\n'), /no blueprint "postgresql" is known/);
  });

  it('names components uniquely when a StatefulSet and a Deployment share a name, and defaults the name to the namespace', () => {
    const { spec } = proposeApplication(workloads({ statefulSets: [statefulSet('web', [container('a', 'nginx')])], deployments: [deployment('web', [container('a', 'nginx')])] }));
    assert.equal(spec.metadata.name, 'shop');
    assert.deepEqual(spec.spec.components.map((c) => `${c.name}=${c.workload.kind}`), ['web=Deployment', 'web-statefulset=StatefulSet']);
  });

  it('refuses a namespace without workloads', () => {
    assert.throws(() => proposeApplication(workloads({})), (error: unknown) => error instanceof DiscoveryError && /has no StatefulSets or Deployments/.test(error.message));
  });
});
