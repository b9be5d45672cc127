import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bundleSecretValues, indexOf, makeBundle, parseBundle, scrubSecretValues } from '../../../src/application/resources/bundle.ts';
import { compareForRestore, isAutoCreated, stageOf } from '../../../src/application/resources/kinds.ts';
import { planStage, unmatchedItems } from '../../../src/application/resources/plan.ts';
import { kindMatches, resourcesToCapture, unknownKindPatterns } from '../../../src/application/resources/select.ts';
import type { ApiResource } from '../../../src/kube/dynamic.ts';
import type { JsonObject } from '../../../src/json.ts';
import type { ResourceItem } from '../../../src/application/types.ts';

const ALL_VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
function served(apiVersion: string, resource: string, kind: string, namespaced = true, verbs = ALL_VERBS): ApiResource {
  const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
  return { group, version, apiVersion, resource, kind, namespaced, verbs };
}

const SERVED = [
  served('v1', 'configmaps', 'ConfigMap'),
  served('v1', 'secrets', 'Secret'),
  served('v1', 'pods', 'Pod'),
  served('v1', 'events', 'Event'),
  served('v1', 'endpoints', 'Endpoints'),
  served('v1', 'bindings', 'Binding', true, ['create']),
  served('v1', 'namespaces', 'Namespace', false),
  served('apps/v1', 'deployments', 'Deployment'),
  served('apps/v1', 'replicasets', 'ReplicaSet'),
  served('coordination.k8s.io/v1', 'leases', 'Lease'),
  served('discovery.k8s.io/v1', 'endpointslices', 'EndpointSlice'),
  served('events.k8s.io/v1', 'events', 'Event'),
  served('snapshot.storage.k8s.io/v1', 'volumesnapshots', 'VolumeSnapshot'),
  served('example.com/v1', 'widgets', 'Widget'),
  served('authorization.k8s.io/v1', 'localsubjectaccessreviews', 'LocalSubjectAccessReview', true, ['create']),
];

const names = (resources: ApiResource[]) => resources.map((r) => r.resource).sort();

describe('which kinds a capture lists', () => {
  it('takes every listable, creatable namespaced kind but controller-made ones and snapshots', () => {
    assert.deepEqual(names(resourcesToCapture(SERVED, {})), ['configmaps', 'deployments', 'secrets', 'widgets']);
  });

  it('narrows to includeKinds and drops excludeKinds, by kind, plural or plural.group', () => {
    assert.deepEqual(names(resourcesToCapture(SERVED, { includeKinds: ['ConfigMap', 'widgets.example.com'] })), ['configmaps', 'widgets']);
    assert.deepEqual(names(resourcesToCapture(SERVED, { excludeKinds: ['secret', 'deployments.apps'] })), ['configmaps', 'widgets']);
    assert.deepEqual(names(resourcesToCapture(SERVED, { includeKinds: ['VolumeSnapshot'] })), ['volumesnapshots']);
    assert.deepEqual(names(resourcesToCapture(SERVED, { includeKinds: ['Pod'] })), []);
  });

  it('reports kind patterns that name nothing the server serves', () => {
    assert.deepEqual(unknownKindPatterns(SERVED, { includeKinds: ['ConfigMap', 'Wdget'], excludeKinds: ['gizmos.example.com'] }), ['Wdget', 'gizmos.example.com']);
    assert.ok(kindMatches('widget.example.com', SERVED.find((r) => r.kind === 'Widget')!));
  });

  it('leaves out what every namespace gets by itself', () => {
    assert.ok(isAutoCreated('ServiceAccount', 'default', {}));
    assert.ok(isAutoCreated('ConfigMap', 'kube-root-ca.crt', {}));
    assert.ok(isAutoCreated('Secret', 'api-token', { type: 'kubernetes.io/service-account-token' }));
    assert.ok(!isAutoCreated('ServiceAccount', 'api', {}));
    assert.ok(!isAutoCreated('Secret', 'creds', { type: 'Opaque' }));
  });
});

const object = (apiVersion: string, kind: string, name: string, namespace?: string): JsonObject => ({ apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } });
const BUNDLE_OBJECTS: JsonObject[] = [
  object('apps/v1', 'Deployment', 'api', 'shop'),
  object('example.com/v1', 'Widget', 'w', 'shop'),
  object('v1', 'Service', 'api', 'shop'),
  object('v1', 'Secret', 'creds', 'shop'),
  object('v1', 'PersistentVolumeClaim', 'data', 'shop'),
  object('apps/v1', 'StatefulSet', 'db', 'shop'),
  object('networking.k8s.io/v1', 'Ingress', 'shop', 'shop'),
  object('v1', 'ConfigMap', 'cfg', 'shop'),
  object('storage.k8s.io/v1', 'StorageClass', 'fast'),
  object('v1', 'Namespace', 'shop'),
  object('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'widgets.example.com'),
  object('rbac.authorization.k8s.io/v1', 'RoleBinding', 'rb', 'shop'),
  object('v1', 'ServiceAccount', 'api', 'shop'),
  object('rbac.authorization.k8s.io/v1', 'Role', 'r', 'shop'),
  object('networking.k8s.io/v1', 'NetworkPolicy', 'deny', 'shop'),
  object('policy/v1', 'PodDisruptionBudget', 'pdb', 'shop'),
];
const kinds = (planned: ReturnType<typeof planStage>) => planned.map((p) => `${p.item.kind}/${p.item.name}`);

describe('restore stages and order', () => {
  it('foundation: CRDs, classes, the namespace, then what workloads refer to, in dependency order', () => {
    assert.deepEqual(kinds(planStage(BUNDLE_OBJECTS, { stage: 'foundation' })), [
      'CustomResourceDefinition/widgets.example.com',
      'StorageClass/fast',
      'Namespace/shop',
      'ServiceAccount/api',
      'Role/r',
      'RoleBinding/rb',
      'ConfigMap/cfg',
      'Secret/creds',
      'PersistentVolumeClaim/data',
      'Service/api',
      'NetworkPolicy/deny',
      'Ingress/shop',
    ]);
  });

  it('workloads: the given ones; rest: workloads of no component, then other kinds, custom resources last', () => {
    const db: ResourceItem = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', namespace: 'shop' };
    assert.deepEqual(kinds(planStage(BUNDLE_OBJECTS, { stage: 'workloads', only: [db] })), ['StatefulSet/db']);
    assert.deepEqual(kinds(planStage(BUNDLE_OBJECTS, { stage: 'rest', componentWorkloads: [db] })), ['Deployment/api', 'PodDisruptionBudget/pdb', 'Widget/w']);
  });

  it('only: single items of a stage; names nothing: reported', () => {
    const only: ResourceItem[] = [{ apiVersion: 'v1', kind: 'PersistentVolumeClaim', name: 'data', namespace: 'shop' }];
    assert.deepEqual(kinds(planStage(BUNDLE_OBJECTS, { stage: 'foundation', only })), ['PersistentVolumeClaim/data']);
    const typo: ResourceItem = { apiVersion: 'v1', kind: 'ConfigMap', name: 'cgf' };
    assert.deepEqual(unmatchedItems(BUNDLE_OBJECTS, [...only, typo]), [typo]);
  });

  it('puts built-in kinds in their stages and any other group last', () => {
    assert.equal(stageOf({ apiVersion: 'apps/v1', kind: 'Deployment' }), 'workloads');
    assert.equal(stageOf({ apiVersion: 'example.com/v1', kind: 'Deployment' }), 'rest');
    assert.equal(stageOf({ apiVersion: 'v1', kind: 'ConfigMap' }), 'foundation');
    assert.ok(compareForRestore({ apiVersion: 'v1', kind: 'Secret', name: 'a' }, { apiVersion: 'v1', kind: 'ConfigMap', name: 'z' }) > 0);
  });
});

describe('the bundle', () => {
  it('indexes identities and counts, never contents', () => {
    const bundle = makeBundle('shop', 'shop', '2026-11-22T00:00:00Z', [{ ...object('v1', 'Secret', 'creds', 'shop'), data: { password: 'c2VjcmV0' } }, object('v1', 'ConfigMap', 'a', 'shop'), object('v1', 'ConfigMap', 'b', 'shop')]);
    const index = indexOf(bundle, 'k123');
    assert.deepEqual(index, {
      snapshotID: 'k123',
      items: [
        { apiVersion: 'v1', kind: 'Secret', name: 'creds', namespace: 'shop' },
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'a', namespace: 'shop' },
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'b', namespace: 'shop' },
      ],
      kinds: { Secret: 1, ConfigMap: 2 },
    });
    assert.ok(!JSON.stringify(index).includes('c2VjcmV0'));
    assert.deepEqual(parseBundle(JSON.stringify(bundle), 'test'), bundle);
  });

  it('refuses what is not a bundle, or a newer format', () => {
    assert.throws(() => parseBundle('nope', 'snapshot k1'), /snapshot k1: the resource bundle is not JSON/);
    assert.throws(() => parseBundle('{"kind":"Other"}', 'snapshot k1'), /not a Cairn resource bundle/);
    assert.throws(() => parseBundle(JSON.stringify({ ...makeBundle('a', 'a', 't', []), formatVersion: 99 }), 's'), /newer than this Cairn reads/);
  });

  it('knows every Secret value, plain and decoded, to scrub from messages', () => {
    const bundle = makeBundle('shop', 'shop', 't', [
      { ...object('v1', 'Secret', 'creds', 'shop'), data: { password: Buffer.from('hunter2-long').toString('base64'), pin: Buffer.from('12').toString('base64') }, stringData: { token: 'tok-abcdef' } },
      { ...object('v1', 'ConfigMap', 'cfg', 'shop'), data: { mode: 'public-value' } },
    ]);
    const values = bundleSecretValues(bundle);
    assert.ok(values.includes('hunter2-long') && values.includes(Buffer.from('hunter2-long').toString('base64')) && values.includes('tok-abcdef'));
    assert.ok(!values.includes('public-value'));
    assert.equal(scrubSecretValues('Secret "creds" is invalid: hunter2-long, tok-abcdef', values), 'Secret "creds" is invalid: <redacted>, <redacted>');
  });
});
