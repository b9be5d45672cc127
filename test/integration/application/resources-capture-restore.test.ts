import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createApplicationActivities } from '../../../activities/application/index.ts';
import { RESTORED_BY } from '../../../activities/application/restore-resources.ts';
import { captureTag } from '../../../activities/application/capture-resources.ts';
import { listSnapshotEntries } from '../../../activities/kopia/snapshots.ts';
import { openRepository } from '../../../activities/kopia/repository.ts';
import { openNamedLocation } from '../../../activities/location/location.ts';
import type { CapturedResources, CaptureResourcesInput, ResourceItem, RestoreResourcesInput, RestoreResourcesResult, TransformSpec } from '../../../src/application/types.ts';
import type { JsonObject } from '../../../src/json.ts';
import type { ApiResource } from '../../../src/kube/dynamic.ts';
import { findSecret, historyJson } from '../../support/secret-scan.ts';
import { ensureStack, kubeClients, testNamespace, type KubeClients, type StackInfo, type TestNamespace } from '../../support/stack.ts';
import { ensureTemporalBinary, temporalFixture, type TemporalFixture } from '../../support/temporal.ts';
import { freshState, writeProfile } from '../location/location-testing.ts';

// An application namespace with one of each kind the capture must handle is captured into a filesystem
// location, then restored stage by stage into a new namespace with namespace, storage-class, Ingress-host and
// JSON-patch transforms; the policies for existing objects, single items, retries and a missing CRD follow.
const suffix = randomBytes(4).toString('hex');
const APP = `res-${suffix}`;
const GROUP = `r${suffix}.cairn.test`;
const CRD_NAME = `widgets.${GROUP}`;
const MAPPED_CLASS = `res-${suffix}`;
const CLUSTER_ROLE = `res-${suffix}-services`;
const SECRET_VALUE = `res-secret-${randomBytes(12).toString('hex')}`;

let stack: StackInfo;
let clients: KubeClients;
let fixture: TemporalFixture;
let worker: Worker;
let connection: NativeConnection;
let running: Promise<void>;
let source: TestNamespace;
let A: string;
const B = `res-dst-${suffix}`;
let locationDir: string;
let captured: CapturedResources;
let crdResource: ApiResource;
let widgetResource: ApiResource;
const sourceVersions = new Map<string, string>();

async function runWorkflow<T>(type: 'captureResourcesWorkflow' | 'restoreResourcesWorkflow', workflowId: string, input: CaptureResourcesInput | RestoreResourcesInput): Promise<T> {
  return fixture.client.workflow.execute(type, { taskQueue: fixture.taskQueue, workflowId, args: [input] }) as Promise<T>;
}

function restoreInput(workflowId: string, stage: RestoreResourcesInput['stage'], extra: Partial<RestoreResourcesInput> = {}): RestoreResourcesInput {
  return { workflowId, application: APP, profile: 'local', snapshotID: captured.snapshotID, transforms: TRANSFORMS(), existing: 'fail', stage, ...extra };
}

const TRANSFORMS = (): TransformSpec => ({
  namespaces: { [A]: B },
  storageClasses: { 'cairn-csi': MAPPED_CLASS },
  ingressHosts: { '*.shop.test': '*.dr.test' },
  labels: { set: { 'cairn.test/restored': 'yes' } },
  patches: [{ kind: 'ConfigMap', name: 'app-*', operations: [{ op: 'replace', path: '/data/mode', value: 'dr' }] }],
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function boundVolume(namespace: string, name: string): Promise<string> {
  return until(`PVC ${namespace}/${name} bound`, async () => {
    const claim = await clients.core.readNamespacedPersistentVolumeClaim({ namespace, name });
    return claim.status?.phase === 'Bound' ? claim.spec!.volumeName! : undefined;
  });
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

async function deploySource(): Promise<void> {
  const { core, apps, dynamic } = clients;
  const ns = A;
  const labels = { 'app.kubernetes.io/part-of': 'shop' };
  await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'db-credentials', labels }, stringData: { password: SECRET_VALUE } } });
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'app-config', labels }, data: { mode: 'prod', size: '3' } } });
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'scratch', labels: { 'cairn.test/skip': 'true' } }, data: { a: 'b' } } });
  await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'api', labels } } });
  await dynamic.createObject(await dynamic.resourceForKind('rbac.authorization.k8s.io/v1', 'Role'), { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'reader', labels }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] }, ns);
  await dynamic.createObject(
    await dynamic.resourceForKind('rbac.authorization.k8s.io/v1', 'RoleBinding'),
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'api-reader', labels }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' }, subjects: [{ kind: 'ServiceAccount', name: 'api', namespace: ns }] },
    ns,
  );
  const clusterRoles = await dynamic.resourceForKind('rbac.authorization.k8s.io/v1', 'ClusterRole');
  await dynamic.createObject(clusterRoles, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: CLUSTER_ROLE }, rules: [{ apiGroups: [''], resources: ['services'], verbs: ['get'] }] });
  await dynamic.createObject(
    await dynamic.resourceForKind('rbac.authorization.k8s.io/v1', 'RoleBinding'),
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'api-services', labels }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: CLUSTER_ROLE }, subjects: [{ kind: 'ServiceAccount', name: 'api', namespace: ns }] },
    ns,
  );
  await dynamic.createObject(
    await dynamic.resourceForKind('rbac.authorization.k8s.io/v1', 'RoleBinding'),
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'api-view', labels }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: 'api', namespace: ns }] },
    ns,
  );
  await core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'db', labels }, spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] } } });
  await core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'web', labels }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80 }] } } });
  await core.createNamespacedPersistentVolumeClaim({ namespace: ns, body: { metadata: { name: 'uploads', labels }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'cairn-csi', resources: { requests: { storage: '1Gi' } } } } });
  await apps.createNamespacedStatefulSet({
    namespace: ns,
    body: {
      metadata: { name: 'db', labels },
      spec: {
        serviceName: 'db',
        replicas: 1,
        selector: { matchLabels: { app: 'db' } },
        template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'busybox', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] } },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'cairn-csi', resources: { requests: { storage: '1Gi' } } } }],
      },
    },
  });
  await apps.createNamespacedDeployment({
    namespace: ns,
    body: { metadata: { name: 'web', labels }, spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } } },
  });
  const networking = 'networking.k8s.io/v1';
  await dynamic.createObject(await dynamic.resourceForKind(networking, 'Ingress'), {
    apiVersion: networking,
    kind: 'Ingress',
    metadata: { name: 'web', labels },
    spec: { tls: [{ hosts: ['web.shop.test'], secretName: 'web-tls' }], rules: [{ host: 'web.shop.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
  }, ns);
  await dynamic.createObject(await dynamic.resourceForKind(networking, 'NetworkPolicy'), { apiVersion: networking, kind: 'NetworkPolicy', metadata: { name: 'db-ingress', labels }, spec: { podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }] } }, ns);
  await dynamic.createObject(widgetResource, { apiVersion: `${GROUP}/v1`, kind: 'Widget', metadata: { name: 'blue', labels }, spec: { colour: 'blue' } }, ns);
}

async function createCrd(): Promise<void> {
  crdResource = await clients.dynamic.resourceForKind('apiextensions.k8s.io/v1', 'CustomResourceDefinition');
  await clients.dynamic.createObject(crdResource, {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: CRD_NAME },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  });
  widgetResource = await until('the Widget CRD served', () => clients.dynamic.resourceForKind(`${GROUP}/v1`, 'Widget'));
}

async function get(apiVersion: string, kind: string, name: string, namespace?: string): Promise<JsonObject> {
  return clients.dynamic.get(await clients.dynamic.resourceForKind(apiVersion, kind), name, namespace);
}

/** The innermost failure's message (workflow → activity → application failure). */
function failureMessage(error: Error): string {
  let current: Error | undefined = error;
  while (current?.cause instanceof Error) current = current.cause;
  return current?.message ?? '';
}

function innermostType(error: Error): string | undefined {
  let current: Error | undefined = error;
  while (current?.cause instanceof Error) current = current.cause;
  return (current as { type?: string } | undefined)?.type;
}

const meta = (o: JsonObject) => o.metadata as { labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion?: string; uid?: string };
const spec = (o: JsonObject) => o.spec as JsonObject;
const names = (items: ResourceItem[]) => items.map((i) => `${i.kind}/${i.name}`).sort();

const UNCHANGING: Array<[string, string, string]> = [
  ['v1', 'Secret', 'db-credentials'],
  ['v1', 'ConfigMap', 'app-config'],
  ['v1', 'ServiceAccount', 'api'],
  ['v1', 'Service', 'db'],
  ['v1', 'Service', 'web'],
  ['networking.k8s.io/v1', 'Ingress', 'web'],
  ['networking.k8s.io/v1', 'NetworkPolicy', 'db-ingress'],
  ['rbac.authorization.k8s.io/v1', 'RoleBinding', 'api-reader'],
];

before(async () => {
  stack = await ensureStack();
  clients = kubeClients(stack);
  process.env.KUBECONFIG = stack.kube.kubeconfig;
  process.env.CAIRN_KOPIA = stack.kopia.binary;
  const state = await freshState('app-resources');
  locationDir = join(state.dir, 'location');
  await writeProfile(state.profiles, 'local', `apiVersion: cairn.io/v1alpha1\nkind: Profile\nmetadata: {name: local}\nlocation: {type: filesystem, path: ${locationDir}}\n`);
  fixture = await temporalFixture('app-resources');
  connection = await NativeConnection.connect({ address: fixture.address });
  worker = await Worker.create({
    connection,
    namespace: fixture.namespace,
    taskQueue: fixture.taskQueue,
    workflowsPath: join(import.meta.dirname, 'resources-workflows.ts'),
    activities: createApplicationActivities({ kube: () => clients }),
    maxHeartbeatThrottleInterval: '3s',
  });
  running = worker.run();
  source = await testNamespace('res-src');
  A = source.name;
  await createCrd();
  await deploySource();
  await boundVolume(A, 'uploads');
  await boundVolume(A, 'data-db-0');
});

after(async () => {
  worker?.shutdown();
  await running?.catch(() => undefined);
  await connection?.close();
  await fixture?.close();
  await source?.cleanup();
  await clients?.core.deleteNamespace({ name: B }).catch(() => undefined);
  await clients?.storage.deleteStorageClass({ name: MAPPED_CLASS }).catch(() => undefined);
  if (clients) await clients.dynamic.deleteObject(await clients.dynamic.resourceForKind('rbac.authorization.k8s.io/v1', 'ClusterRole'), CLUSTER_ROLE).catch(() => undefined);
  if (crdResource) await clients.dynamic.deleteObject(crdResource, CRD_NAME).catch(() => undefined);
});

describe('capturing an application namespace', () => {
  it('captures the app’s objects and the cluster-scoped ones they use into one pinned snapshot, Secrets encrypted', async () => {
    const input: CaptureResourcesInput = { workflowId: `capture-${suffix}`, runTime: new Date().toISOString(), application: APP, profile: 'local', namespace: A, selection: {} };
    // A first capture narrowed by a label selector (and kinds, in the unit tests); the real one follows with its own id.
    const bySelector = await runWorkflow<CapturedResources>('captureResourcesWorkflow', `capture-selector-${suffix}`, {
      ...input,
      workflowId: `capture-selector-${suffix}`,
      selection: { labelSelector: 'cairn.test/skip=true', clusterScoped: false },
    });
    assert.deepEqual(names(bySelector.items), ['ConfigMap/scratch']);

    captured = await runWorkflow<CapturedResources>('captureResourcesWorkflow', `capture-wf-${suffix}`, { ...input, selection: {} });
    const got = names(captured.items);
    for (const expected of [
      'ConfigMap/app-config',
      'ConfigMap/scratch',
      'ClusterRole/' + CLUSTER_ROLE,
      'CustomResourceDefinition/' + CRD_NAME,
      'Deployment/web',
      'Ingress/web',
      'Namespace/' + A,
      'NetworkPolicy/db-ingress',
      'PersistentVolumeClaim/data-db-0',
      'PersistentVolumeClaim/uploads',
      'Role/reader',
      'RoleBinding/api-reader',
      'Secret/db-credentials',
      'Service/db',
      'Service/web',
      'ServiceAccount/api',
      'StatefulSet/db',
      'StorageClass/cairn-csi',
      'Widget/blue',
    ]) {
      assert.ok(got.includes(expected), `${expected} captured (got ${got.join(', ')})`);
    }
    for (const absent of ['ServiceAccount/default', 'ConfigMap/kube-root-ca.crt', 'ClusterRole/view']) assert.ok(!got.includes(absent), `${absent} not captured`);
    for (const kind of ['Pod', 'ReplicaSet', 'ControllerRevision', 'Endpoints', 'EndpointSlice', 'Event', 'Exec', 'Logs']) assert.ok(!(kind in captured.kinds), `no ${kind} captured`);
    assert.equal(captured.kinds.ConfigMap, 2);

    // A retried attempt (same workflow id) finds its pinned snapshot: no second snapshot.
    const again = await runWorkflow<CapturedResources>('captureResourcesWorkflow', `capture-wf-retry-${suffix}`, { ...input, selection: {} });
    assert.equal(again.snapshotID, captured.snapshotID);
    const repository = await openRepository(await openNamedLocation('local'), APP);
    const tagged = await listSnapshotEntries(repository, captureTag(input.workflowId));
    assert.equal(tagged.length, 1);
    assert.ok(tagged[0]!.pins.includes('cairn'));

    // The Secret's value: nowhere in the result, the histories, or any file of the location.
    const temporal = await ensureTemporalBinary();
    assert.ok(!JSON.stringify(captured).includes(SECRET_VALUE));
    for (const id of [`capture-wf-${suffix}`, `capture-wf-retry-${suffix}`]) assert.deepEqual(findSecret(historyJson(temporal, fixture.address, fixture.namespace, id), SECRET_VALUE), [], id);
    const forms = [SECRET_VALUE, Buffer.from(SECRET_VALUE).toString('base64')];
    const files = await filesUnder(locationDir);
    assert.ok(files.length > 5, 'the location holds the repository');
    for (const file of files) {
      const bytes = await readFile(file);
      for (const form of forms) assert.ok(!bytes.includes(form), `${file} holds the Secret's value in plain text`);
    }
    for (const [apiVersion, kind, name] of UNCHANGING) sourceVersions.set(`${kind}/${name}`, meta(await get(apiVersion, kind, name, A)).resourceVersion!);
  });

  it('refuses a kind the API server does not serve, naming it', async () => {
    await assert.rejects(
      runWorkflow('captureResourcesWorkflow', `capture-typo-${suffix}`, { workflowId: `capture-typo-${suffix}`, runTime: new Date().toISOString(), application: APP, profile: 'local', namespace: A, selection: { includeKinds: ['ConfigMapz'] } }),
      (e: Error) => e instanceof WorkflowFailedError && /kinds the API server does not serve: ConfigMapz/.test(failureMessage(e)),
    );
  });
});

describe('restoring into another namespace', () => {
  const restoreId = `restore-${suffix}`;
  let foundation: RestoreResourcesResult;

  it('foundation: cleaned, transformed objects in B, the mapped StorageClass created from the captured one', async () => {
    foundation = await runWorkflow<RestoreResourcesResult>('restoreResourcesWorkflow', `${restoreId}-foundation`, restoreInput(restoreId, 'foundation'));
    assert.deepEqual(names(foundation.skipped), ['ClusterRole/' + CLUSTER_ROLE, 'CustomResourceDefinition/' + CRD_NAME], 'cluster-wide objects exist already (same cluster)');
    assert.ok(names(foundation.created).includes(`Namespace/${B}`));
    assert.ok(names(foundation.created).includes(`StorageClass/${MAPPED_CLASS}`));
    for (const item of foundation.created.filter((i) => i.namespace)) assert.equal(item.namespace, B);
    assert.ok(!names(foundation.created).some((n) => /^(Deployment|StatefulSet|Widget)\//.test(n)), 'no workloads or custom resources in the foundation');

    const storageClass = await clients.storage.readStorageClass({ name: MAPPED_CLASS });
    assert.equal(storageClass.provisioner, 'csi.cairn.dev');
    assert.equal(storageClass.metadata?.annotations?.['storageclass.kubernetes.io/is-default-class'], undefined);

    const secret = await clients.core.readNamespacedSecret({ namespace: B, name: 'db-credentials' });
    assert.equal(Buffer.from(secret.data!.password!, 'base64').toString(), SECRET_VALUE);
    const config = await clients.core.readNamespacedConfigMap({ namespace: B, name: 'app-config' });
    assert.deepEqual(config.data, { mode: 'dr', size: '3' });
    assert.equal(config.metadata?.labels?.['cairn.test/restored'], 'yes');
    assert.equal(config.metadata?.annotations?.[RESTORED_BY], restoreId);
    assert.notEqual(config.metadata?.uid, meta(await get('v1', 'ConfigMap', 'app-config', A)).uid);

    const headless = await clients.core.readNamespacedService({ namespace: B, name: 'db' });
    assert.equal(headless.spec?.clusterIP, 'None');
    const [sourceWeb, web] = await Promise.all([clients.core.readNamespacedService({ namespace: A, name: 'web' }), clients.core.readNamespacedService({ namespace: B, name: 'web' })]);
    assert.equal(web.spec?.type, 'NodePort');
    assert.notEqual(web.spec?.clusterIP, sourceWeb.spec?.clusterIP);
    assert.notEqual(web.spec?.ports?.[0]?.nodePort, sourceWeb.spec?.ports?.[0]?.nodePort);

    for (const claim of ['uploads', 'data-db-0']) {
      const volume = await boundVolume(B, claim);
      const restored = await clients.core.readNamespacedPersistentVolumeClaim({ namespace: B, name: claim });
      assert.equal(restored.spec?.storageClassName, MAPPED_CLASS);
      assert.notEqual(volume, await boundVolume(A, claim), `${claim} is bound to a new volume`);
    }
    const ingress = await get('networking.k8s.io/v1', 'Ingress', 'web', B);
    assert.deepEqual((spec(ingress).rules as JsonObject[]).map((r) => r.host), ['web.dr.test']);
    assert.deepEqual((spec(ingress).tls as JsonObject[])[0]!.hosts, ['web.dr.test']);
    const binding = await get('rbac.authorization.k8s.io/v1', 'RoleBinding', 'api-reader', B);
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'api', namespace: B }]);
    await get('networking.k8s.io/v1', 'NetworkPolicy', 'db-ingress', B);
    await clients.core.readNamespacedServiceAccount({ namespace: B, name: 'api' });
  });

  it('workloads then rest: the component’s StatefulSet with the mapped class, then the other workloads and custom resources', async () => {
    const db: ResourceItem = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', namespace: A };
    const workloads = await runWorkflow<RestoreResourcesResult>('restoreResourcesWorkflow', `${restoreId}-workloads`, restoreInput(restoreId, 'workloads', { only: [db] }));
    assert.deepEqual(names(workloads.created), ['StatefulSet/db']);
    const set = await clients.apps.readNamespacedStatefulSet({ namespace: B, name: 'db' });
    assert.equal(set.spec?.volumeClaimTemplates?.[0]?.spec?.storageClassName, MAPPED_CLASS);
    const rest = await runWorkflow<RestoreResourcesResult>('restoreResourcesWorkflow', `${restoreId}-rest`, restoreInput(restoreId, 'rest', { componentWorkloads: [db] }));
    assert.deepEqual(names(rest.created), ['Deployment/web', 'Widget/blue']);
    const widget = await get(`${GROUP}/v1`, 'Widget', 'blue', B);
    assert.deepEqual(spec(widget), { colour: 'blue' });
    const temporal = await ensureTemporalBinary();
    for (const stage of ['foundation', 'workloads', 'rest']) assert.deepEqual(findSecret(historyJson(temporal, fixture.address, fixture.namespace, `${restoreId}-${stage}`), SECRET_VALUE), [], stage);
  });

  it('a retried restore recognises its own objects, even under policy fail', async () => {
    const retried = await runWorkflow<RestoreResourcesResult>('restoreResourcesWorkflow', `${restoreId}-foundation-retry`, restoreInput(restoreId, 'foundation'));
    assert.deepEqual(names(retried.created), names(foundation.created).filter((n) => !n.startsWith('Namespace/') && !n.startsWith('StorageClass/')));
    assert.deepEqual(retried.updated, []);
  });

  it('existing objects: fail names the object, skip leaves it, update applies the backup over it', async () => {
    await assert.rejects(
      runWorkflow('restoreResourcesWorkflow', `restore-fail-${suffix}`, restoreInput(`restore-fail-${suffix}`, 'foundation')),
      (e: Error) =>
        e instanceof WorkflowFailedError &&
        new RegExp(`ServiceAccount ${B}/api already exists in the destination \\(existing-resources policy: fail\\)`).test(failureMessage(e)) &&
        innermostType(e) === 'ExistingResource',
    );
    await clients.core.patchNamespacedConfigMap({ namespace: B, name: 'app-config', body: [{ op: 'replace', path: '/data/mode', value: 'changed' }] });
    const skipped = await runWorkflow<RestoreResourcesResult>('restoreResourcesWorkflow', `restore-skip-${suffix}`, restoreInput(`restore-skip-${suffix}`, 'foundation', { existing: 'skip' }));
    assert.deepEqual(skipped.created, []);
    assert.ok(names(skipped.skipped).includes('ConfigMap/app-config'));
    assert.equal((await clients.core.readNamespacedConfigMap({ namespace: B, name: 'app-config' })).data?.mode, 'changed');
    const updated = await runWorkflow<RestoreResourcesResult>('restoreResourcesWorkflow', `restore-update-${suffix}`, restoreInput(`restore-update-${suffix}`, 'foundation', { existing: 'update', only: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'app-config' }] }));
    assert.deepEqual(names(updated.updated), ['ConfigMap/app-config']);
    assert.equal((await clients.core.readNamespacedConfigMap({ namespace: B, name: 'app-config' })).data?.mode, 'dr');
  });

  it('single items: one ConfigMap and one PVC come back alone; an item the bundle lacks is refused', async () => {
    await clients.core.deleteNamespacedConfigMap({ namespace: B, name: 'app-config' });
    await clients.core.deleteNamespacedPersistentVolumeClaim({ namespace: B, name: 'uploads' });
    await until('PVC uploads gone from B', async () => ((await clients.core.readNamespacedPersistentVolumeClaim({ namespace: B, name: 'uploads' }).then(() => false, () => true)) ? true : undefined));
    const only: ResourceItem[] = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'app-config', namespace: A }, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', name: 'uploads' }];
    const single = await runWorkflow<RestoreResourcesResult>('restoreResourcesWorkflow', `restore-single-${suffix}`, restoreInput(`restore-single-${suffix}`, 'foundation', { only }));
    assert.deepEqual(names(single.created), ['ConfigMap/app-config', 'PersistentVolumeClaim/uploads']);
    assert.deepEqual([...single.updated, ...single.skipped], []);
    assert.equal((await clients.core.readNamespacedConfigMap({ namespace: B, name: 'app-config' })).data?.mode, 'dr');
    await boundVolume(B, 'uploads');
    await assert.rejects(
      runWorkflow('restoreResourcesWorkflow', `restore-typo-${suffix}`, restoreInput(`restore-typo-${suffix}`, 'foundation', { only: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'app-cnofig' }] })),
      (e: Error) => e instanceof WorkflowFailedError && /holds no ConfigMap app-cnofig/.test(failureMessage(e)),
    );
  });

  it('a patch that cannot apply, or an object the API server refuses, stops the restore naming the object', async () => {
    const broken = (name: string, patches: TransformSpec['patches'], only: ResourceItem[]) =>
      runWorkflow('restoreResourcesWorkflow', name, restoreInput(name, 'foundation', { existing: 'skip', only, transforms: { ...TRANSFORMS(), patches } }));
    await assert.rejects(
      broken(`restore-badpatch-${suffix}`, [{ kind: 'ConfigMap', operations: [{ op: 'remove', path: '/data/missing' }] }], [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'app-config' }]),
      (e: Error) => /patch rule 1 on ConfigMap app-config: operation 1 \(remove \/data\/missing\): \/data\/missing does not exist/.test(failureMessage(e)),
    );
    await assert.rejects(
      broken(`restore-invalid-${suffix}`, [{ kind: 'Service', operations: [{ op: 'replace', path: '/spec/type', value: 'Bogus' }] }], [{ apiVersion: 'v1', kind: 'Service', name: 'web' }]),
      (e: Error) => new RegExp(`cannot create Service ${B}/web: .*Bogus`).test(failureMessage(e)),
    );
  });

  it('left the source namespace untouched', async () => {
    for (const [apiVersion, kind, name] of UNCHANGING) assert.equal(meta(await get(apiVersion, kind, name, A)).resourceVersion, sourceVersions.get(`${kind}/${name}`), `${kind}/${name} in ${A}`);
    assert.equal((await clients.core.readNamespacedConfigMap({ namespace: A, name: 'app-config' })).data?.mode, 'prod');
    assert.equal((await clients.core.readNamespacedPersistentVolumeClaim({ namespace: A, name: 'uploads' })).spec?.storageClassName, 'cairn-csi');
  });

  it('a CRD the destination lacks is created and Established before its custom resources', async () => {
    await clients.dynamic.deleteObject(crdResource, CRD_NAME);
    await until('the Widget CRD gone', async () => ((await clients.dynamic.get(crdResource, CRD_NAME).then(() => false, () => true)) ? true : undefined));
    const crd: ResourceItem = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: CRD_NAME };
    const widget: ResourceItem = { apiVersion: `${GROUP}/v1`, kind: 'Widget', name: 'blue' };
    const id = `restore-crd-${suffix}`;
    const foundationAgain = await runWorkflow<RestoreResourcesResult>('restoreResourcesWorkflow', `${id}-foundation`, restoreInput(id, 'foundation', { only: [crd, widget] }));
    assert.deepEqual(names(foundationAgain.created), [`CustomResourceDefinition/${CRD_NAME}`]);
    const rest = await runWorkflow<RestoreResourcesResult>('restoreResourcesWorkflow', `${id}-rest`, restoreInput(id, 'rest', { only: [crd, widget] }));
    assert.deepEqual(names(rest.created), ['Widget/blue']);
    assert.deepEqual(spec(await get(`${GROUP}/v1`, 'Widget', 'blue', B)), { colour: 'blue' });
  });
});
