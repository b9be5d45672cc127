import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { createManifests } from '../../../src/kube/apply.ts';
import type { RunActionResult } from '../../../src/run/types.ts';
import { execUntilSuccess, isReadyPod, waitForPod } from '../../support/pod-runtime/testing.ts';
import { ensureStack, kubeClients, testNamespace, type KubeClients, type TestNamespace } from '../../support/stack.ts';
import { phaseTimeline, runningWorker, type RunningWorker, type TemporalFixture } from '../../support/temporal.ts';

// ScaleWorkload on the example PostgreSQL StatefulSet, whose pod is a real server: scaled to 0 it stops, and
// the defer phase brings it back with the replica count it had, also when a phase in between fails.
const ROOT = join(import.meta.dirname, '../../..');
let fixture: TemporalFixture;
let namespace: TestNamespace;
let clients: KubeClients;
let serving: RunningWorker;

const blueprint = `apiVersion: cairn.io/v1alpha1
kind: Blueprint
metadata: {name: cold-copy}
actions:
  backup:
    kinds: [StatefulSet]
    phases:
      - {name: scaleDown, func: ScaleWorkload, args: {replicas: 0}}
      - {name: copyWhileStopped, func: Sleep, args: {duration: "{{default \\"100ms\\" Options.copyDuration}}"}}
    deferPhase:
      name: scaleUp
      func: ScaleWorkload
      args: {replicas: "{{default 1 Phases.scaleDown.Output.originalReplicaCount}}"}
  restore:
    kinds: [StatefulSet]
    phases: [{name: r, func: Sleep, args: {duration: 1ms}}]
`;

before(async () => {
  const stack = await ensureStack();
  clients = kubeClients(stack);
  namespace = await testNamespace('scale');
  await createManifests(clients, join(ROOT, 'examples/three-tier'), namespace.name, (file) => /^(00-config|10-postgres)\./.test(file));
  await waitForPod(clients, namespace.name, 'postgres-0', 'ready', isReadyPod, 180_000);
  await execUntilSuccess(clients, namespace.name, 'postgres-0', 'postgres', ['sh', '-c', `psql -U shop -d shop -c "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')"`]);
  serving = await runningWorker('scale');
  fixture = serving.fixture;
});

after(async () => {
  await serving?.stop();
  await namespace?.cleanup();
});

async function backup(name: string, options: Record<string, string>) {
  const handle = await fixture.client.workflow.start('runAction', {
    taskQueue: fixture.taskQueue,
    workflowId: `${fixture.taskQueue}-${name}`,
    args: [{ blueprint: { inline: blueprint }, action: 'backup', target: `statefulset/${namespace.name}/postgres`, options }],
  });
  return { handle, outcome: await handle.result().then((r) => r as RunActionResult, (e: WorkflowFailedError) => e) };
}

async function readyReplicas(): Promise<number> {
  return (await clients.apps.readNamespacedStatefulSet({ namespace: namespace.name, name: 'postgres' })).status?.readyReplicas ?? 0;
}

it('scales the database to zero, then the defer phase brings it back with its data', async () => {
  const { handle, outcome } = await backup('ok', { copyDuration: '2s' });
  assert.ok(!(outcome instanceof Error), String(outcome));
  assert.equal(outcome.phaseOutputs.scaleDown?.originalReplicaCount, 1);
  assert.deepEqual(phaseTimeline(await handle.fetchHistory()).filter((e) => e.startsWith('completed:')), ['completed:scaleDown', 'completed:copyWhileStopped', 'completed:scaleUp']);
  assert.equal(await readyReplicas(), 1);
  const result = await execUntilSuccess(clients, namespace.name, 'postgres-0', 'postgres', ['sh', '-c', 'psql -U shop -d shop -tAc "SELECT v FROM kept"']);
  assert.equal(result.stdout.trim(), 'still here');
});

it('leaves no workload scaled down when a phase in between fails', async () => {
  const { handle, outcome } = await backup('fails', { copyDuration: 'broken' });
  assert.ok(outcome instanceof Error);
  const timeline = phaseTimeline(await handle.fetchHistory());
  assert.ok(timeline.includes('failed:copyWhileStopped'));
  assert.ok(timeline.includes('completed:scaleUp'));
  assert.equal(await readyReplicas(), 1);
});
