import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { RunActionResult } from '../../../src/run/types.ts';
import { waitUntil } from '../../../scripts/stack/process.ts';
import { ensureStack, kubeClients, testNamespace, type KubeClients, type TestNamespace } from '../../support/stack.ts';
import { runningWorker, type RunningWorker, type TemporalFixture } from '../../support/temporal.ts';

// KubeOps through a real worker against the stack's API server: a ConfigMap, a cluster-scoped ClusterRole and a
// custom resource of a CRD made for this test go through create, get, patch, apply and delete; a create retried
// in the same run (same resourceName) finds its object; unknown kinds and groups fail clearly.
let fixture: TemporalFixture;
let namespace: TestNamespace;
let clients: KubeClients;
let serving: RunningWorker;
const CRD = 'widgets.kubeops.cairn.dev';
let clusterRole: string;

const blueprint = (phases: string) => `apiVersion: cairn.io/v1alpha1
kind: Blueprint
metadata: {name: kube-ops}
actions:
  backup:
    kinds: [Namespace]
    phases:
${phases}
  restore:
    kinds: [Namespace]
    phases: [{name: r, func: Sleep, args: {duration: 1ms}}]
`;

/** A phase list's YAML, indented for the blueprint above. */
const phases = (...lines: string[]) => lines.map((line) => `      ${line}`).join('\n');

before(async () => {
  const stack = await ensureStack();
  clients = kubeClients(stack);
  namespace = await testNamespace('kube-ops');
  clusterRole = `cairn-test-${namespace.name}`;
  // Applied as plain JSON: the typed client would drop x-kubernetes-preserve-unknown-fields, which it has no field for.
  const crds = await clients.dynamic.resourceForKind('apiextensions.k8s.io/v1', 'CustomResourceDefinition');
  await clients.dynamic.patchObject(crds, CRD, undefined, {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: CRD },
    spec: {
      group: 'kubeops.cairn.dev',
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } } }],
    },
  }, 'apply');
  await waitUntil('the Widget CRD to be established', async () => {
    const crd = (await clients.custom.getClusterCustomObject({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', name: CRD })) as { status?: { conditions?: { type: string; status: string }[] } };
    return (crd.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
  }, 30_000);
  serving = await runningWorker('kube-ops');
  fixture = serving.fixture;
});

after(async () => {
  await serving?.stop();
  await clients?.custom.deleteClusterCustomObject({ group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles', name: clusterRole }).catch(() => undefined);
  await clients?.custom.deleteClusterCustomObject({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', name: CRD }).catch(() => undefined);
  await namespace?.cleanup();
});

async function run(workflowId: string, phaseList: string) {
  return fixture.client.workflow
    .execute('runAction', { taskQueue: fixture.taskQueue, workflowId: `${fixture.taskQueue}-${workflowId}`, args: [{ blueprint: { inline: blueprint(phaseList) }, action: 'backup', target: `namespace/${namespace.name}` }] })
    .then((r) => r as RunActionResult, (e: WorkflowFailedError) => e);
}

function succeeded(outcome: RunActionResult | WorkflowFailedError): RunActionResult {
  assert.ok(!(outcome instanceof Error), `the run failed: ${String((outcome as Error).cause instanceof Error ? ((outcome as Error).cause as Error).message : outcome)}`);
  return outcome;
}

const failureMessage = (outcome: RunActionResult | WorkflowFailedError) => {
  assert.ok(outcome instanceof Error, 'the run should have failed');
  return String((outcome.cause as Error | undefined)?.message);
};

/** A phase reading the object another phase's outputs reference. */
const byReference = (name: string, operation: string, from: string, extra: string[] = []) => [
  `- name: ${name}`,
  '  func: KubeOps',
  '  args:',
  `    operation: ${operation}`,
  '    objectReference:',
  `      apiVersion: "{{Phases.${from}.Output.apiVersion}}"`,
  `      group: "{{Phases.${from}.Output.group}}"`,
  `      resource: "{{Phases.${from}.Output.resource}}"`,
  `      name: "{{Phases.${from}.Output.name}}"`,
  `      namespace: "{{default Namespace Phases.${from}.Output.namespace}}"`,
  ...extra.map((line) => `    ${line}`),
];

async function gone(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return false;
  } catch (error) {
    return (error as { code?: number }).code === 404;
  }
}

it('creates, reads, patches (merge and json), applies and deletes a ConfigMap, with Kanister\'s outputs', async () => {
  const outcome = succeeded(
    await run(
      'configmap',
      phases(
        '- name: create',
        '  func: KubeOps',
        '  args:',
        '    operation: create',
        '    namespace: "{{Namespace}}"',
        '    spec: |',
        '      apiVersion: v1',
        '      kind: ConfigMap',
        '      metadata: {name: settings, labels: {app: shop}}',
        '      data: {color: blue}',
        ...byReference('read', 'get', 'create'),
        ...byReference('merge', 'patch', 'create', ['patch: {data: {size: large}}']),
        ...byReference('jsonPatch', 'patch', 'create', ['patch: [{op: replace, path: /data/color, value: green}]']),
        '- name: apply',
        '  func: KubeOps',
        '  args:',
        '    operation: apply',
        '    spec: {apiVersion: v1, kind: ConfigMap, metadata: {name: settings}, data: {shape: round}}',
        ...byReference('readAgain', 'get', 'create'),
        ...byReference('remove', 'delete', 'create'),
      ),
    ),
  );
  const reference = { apiVersion: 'v1', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', name: 'settings', namespace: namespace.name };
  assert.deepEqual(outcome.phaseOutputs.create, reference);
  const first = outcome.phaseOutputs.read!.object as { data: Record<string, string>; metadata: Record<string, unknown> };
  assert.deepEqual(first.data, { color: 'blue' });
  assert.equal(first.metadata.managedFields, undefined, 'managedFields are left out of the output');
  assert.deepEqual((outcome.phaseOutputs.readAgain!.object as { data: unknown }).data, { color: 'green', size: 'large', shape: 'round' });
  assert.deepEqual(outcome.phaseOutputs.remove, reference);
  assert.ok(await gone(() => clients.core.readNamespacedConfigMap({ namespace: namespace.name, name: 'settings' })));
});

it('manages a cluster-scoped ClusterRole: no namespace in its outputs', async () => {
  const outcome = succeeded(
    await run(
      'clusterrole',
      phases(
        '- name: create',
        '  func: KubeOps',
        '  args:',
        '    operation: create',
        `    spec: {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: ${clusterRole}}, rules: [{apiGroups: [""], resources: [configmaps], verbs: [get]}]}`,
        ...byReference('label', 'patch', 'create', ['patch: {metadata: {labels: {patched: "yes"}}}']),
        ...byReference('read', 'get', 'create'),
      ),
    ),
  );
  assert.deepEqual(outcome.phaseOutputs.create, { apiVersion: 'v1', group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', kind: 'ClusterRole', name: clusterRole, namespace: '' });
  assert.equal((outcome.phaseOutputs.read!.object as { metadata: { labels: Record<string, string> } }).metadata.labels.patched, 'yes');
  const removed = succeeded(
    await run('clusterrole-delete', phases('- name: remove', '  func: KubeOps', '  args:', '    operation: delete', `    objectReference: {apiVersion: v1, group: rbac.authorization.k8s.io, resource: clusterroles, name: ${clusterRole}}`)),
  );
  assert.equal(removed.phaseOutputs.remove!.namespace, '');
  assert.ok(await gone(() => clients.custom.getClusterCustomObject({ group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles', name: clusterRole })));
});

it('creates, patches and deletes a custom resource, and explains that strategic merge is for built-in kinds', async () => {
  const outcome = succeeded(
    await run(
      'widget',
      phases(
        '- name: create',
        '  func: KubeOps',
        '  args:',
        '    operation: create',
        '    spec: {apiVersion: kubeops.cairn.dev/v1, kind: Widget, metadata: {name: gear}, spec: {teeth: 12}}',
        '- name: grow',
        '  func: KubeOps',
        '  args:',
        '    operation: patch',
        '    objectReference: {apiVersion: kubeops.cairn.dev/v1, kind: Widget, name: gear}',
        '    patch: \'{"spec": {"teeth": 24}}\'',
        ...byReference('read', 'get', 'create'),
      ),
    ),
  );
  assert.deepEqual(outcome.phaseOutputs.create, { apiVersion: 'v1', group: 'kubeops.cairn.dev', version: 'v1', resource: 'widgets', kind: 'Widget', name: 'gear', namespace: namespace.name });
  assert.deepEqual((outcome.phaseOutputs.read!.object as { spec: unknown }).spec, { teeth: 24 });

  const strategic = await run(
    'widget-strategic',
    phases('- name: grow', '  func: KubeOps', '  args:', '    operation: patch', '    objectReference: {apiVersion: kubeops.cairn.dev/v1, resource: widgets, name: gear}', '    patchType: strategic', '    patch: {spec: {teeth: 36}}'),
  );
  assert.match(failureMessage(strategic), /widgets\.kubeops\.cairn\.dev .*\/gear does not take strategic patches \(strategic merge works on built-in kinds only\); use patchType: merge/);

  succeeded(await run('widget-delete', phases('- name: remove', '  func: KubeOps', '  args:', '    operation: delete', '    objectReference: {apiVersion: v1, group: kubeops.cairn.dev, resource: widget, name: gear}')));
  assert.ok(await gone(() => clients.custom.getNamespacedCustomObject({ group: 'kubeops.cairn.dev', version: 'v1', plural: 'widgets', namespace: namespace.name, name: 'gear' })));
});

it('finds its own object when the same phase of the same run creates again, by name and by generateName', async () => {
  const create = phases(
    '- name: named',
    '  func: KubeOps',
    '  args:',
    '    operation: create',
    '    spec: {apiVersion: v1, kind: ConfigMap, metadata: {name: once}, data: {n: "1"}}',
    '- name: generated',
    '  func: KubeOps',
    '  args:',
    '    operation: create',
    '    spec: {apiVersion: v1, kind: ConfigMap, metadata: {generateName: gen-, labels: {purpose: idempotence}}, data: {n: "1"}}',
  );
  const first = succeeded(await run('again', create));
  // The same workflow ID and phases: the same resourceName, as for a retried attempt of each phase.
  const second = succeeded(await run('again', create));
  assert.deepEqual(second.phaseOutputs.named, first.phaseOutputs.named);
  assert.equal(second.phaseOutputs.generated!.name, first.phaseOutputs.generated!.name);
  const generated = await clients.core.listNamespacedConfigMap({ namespace: namespace.name, labelSelector: 'purpose=idempotence' });
  assert.deepEqual(generated.items.map((c) => c.metadata!.name), [first.phaseOutputs.generated!.name]);

  const differs = await run('differs', phases('- name: named', '  func: KubeOps', '  args:', '    operation: create', '    spec: {apiVersion: v1, kind: ConfigMap, metadata: {name: once}, data: {n: "2"}}'));
  assert.match(failureMessage(differs), new RegExp(`configmaps ${namespace.name}/once already exists and differs from the spec at data\\.n; delete it first, or use operation: apply`));
});

it('fails clearly on an unknown kind, an unknown API group and an unknown resource', async () => {
  const unknownKind = await run('unknown-kind', phases('- name: create', '  func: KubeOps', '  args:', '    operation: create', '    spec: {apiVersion: v1, kind: Gizmo, metadata: {name: g}}'));
  assert.match(failureMessage(unknownKind), /args\.spec: the API server has no kind "Gizmo" in v1 \(it serves .*configmaps/);
  const unknownGroup = await run('unknown-group', phases('- name: create', '  func: KubeOps', '  args:', '    operation: create', '    spec: {apiVersion: nowhere.cairn.dev/v1, kind: Gizmo, metadata: {name: g}}'));
  assert.match(failureMessage(unknownGroup), /args\.spec: the API server does not serve nowhere\.cairn\.dev\/v1 \(no such API group or version\)/);
  const unknownResource = await run('unknown-resource', phases('- name: read', '  func: KubeOps', '  args:', '    operation: get', '    objectReference: {apiVersion: v1, resource: gizmos, name: g}'));
  assert.match(failureMessage(unknownResource), /args\.objectReference: the API server has no resource "gizmos" in v1/);
  const missing = await run('missing-object', phases('- name: read', '  func: KubeOps', '  args:', '    operation: get', '    objectReference: {apiVersion: v1, resource: configmaps, name: nothing-here}'));
  assert.match(failureMessage(missing), new RegExp(`configmaps ${namespace.name}/nothing-here not found`));
});

it('keeps a Secret\'s values out of its outputs, and recognises its own Secret made from stringData on a second create', async () => {
  const create = phases(
    '- name: create',
    '  func: KubeOps',
    '  args:',
    '    operation: create',
    '    spec: {apiVersion: v1, kind: Secret, metadata: {name: creds}, stringData: {password: hunter2-canary}}',
    ...byReference('read', 'get', 'create'),
  );
  const first = succeeded(await run('secret', create));
  const second = succeeded(await run('secret', create));
  for (const outcome of [first, second]) {
    assert.doesNotMatch(JSON.stringify(outcome.phaseOutputs), /hunter2-canary|aHVudGVyMi1jYW5hcnk/);
    const object = outcome.phaseOutputs.read!.object as Record<string, unknown>;
    assert.equal(object.kind, 'Secret');
    assert.equal(object.data, undefined);
  }
  const secret = await clients.core.readNamespacedSecret({ namespace: namespace.name, name: 'creds' });
  assert.equal(Buffer.from(secret.data!.password!, 'base64').toString(), 'hunter2-canary');
});

it('takes back the objects it created when a later object of the spec cannot be created', async () => {
  const outcome = await run(
    'half-spec',
    phases('- name: create', '  func: KubeOps', '  args:', '    operation: create', '    spec: |', '      apiVersion: v1', '      kind: ConfigMap', '      metadata: {name: first-of-two}', '      ---', '      apiVersion: v1', '      kind: Gizmo', '      metadata: {name: second-of-two}'),
  );
  assert.match(failureMessage(outcome), /args\.spec \(object 2\): the API server has no kind "Gizmo" in v1/);
  assert.ok(await gone(() => clients.core.readNamespacedConfigMap({ namespace: namespace.name, name: 'first-of-two' })));
});
