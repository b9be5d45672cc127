import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { RunActionResult } from '../../../src/run/types.ts';
import { claimVolumeDir } from '../../support/pod-runtime/testing.ts';
import { ensureStack, kubeClients, testNamespace, type KubeClients, type StackInfo, type TestNamespace } from '../../support/stack.ts';
import { runningWorker, type RunningWorker, type TemporalFixture } from '../../support/temporal.ts';

// KubeTask runs a real one-off pod (played by the stack's pod runtime): its command writes to a mounted PVC,
// its phase outputs come from its log, and the pod is gone afterwards whether it succeeded or failed.
let stack: StackInfo;
let clients: KubeClients;
let fixture: TemporalFixture;
let namespace: TestNamespace;
let serving: RunningWorker;

const blueprint = (command: string) => `apiVersion: cairn.io/v1alpha1
kind: Blueprint
metadata: {name: task-user}
actions:
  backup:
    kinds: [Namespace]
    phases:
      - name: task
        func: KubeTask
        retry: {maxAttempts: 1}
        args:
          namespace: "{{Namespace}}"
          image: busybox:1.36
          command: [sh, -c, ${JSON.stringify(command)}]
          podLabels: {purpose: kube-task-test}
          podOverride:
            volumes: [{name: work, persistentVolumeClaim: {claimName: task-work}}]
            containers: [{name: container, volumeMounts: [{name: work, mountPath: /work}]}]
  restore:
    kinds: [Namespace]
    phases: [{name: r, func: Sleep, args: {duration: 1ms}}]
`;

before(async () => {
  stack = await ensureStack();
  clients = kubeClients(stack);
  namespace = await testNamespace('kube-task');
  await clients.core.createNamespacedPersistentVolumeClaim({
    namespace: namespace.name,
    body: { metadata: { name: 'task-work' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'cairn-csi', resources: { requests: { storage: '1Gi' } } } },
  });
  serving = await runningWorker('kube-task');
  fixture = serving.fixture;
});

after(async () => {
  await serving?.stop();
  await namespace?.cleanup();
});

async function run(name: string, command: string) {
  return fixture.client.workflow
    .execute('runAction', { taskQueue: fixture.taskQueue, workflowId: `${fixture.taskQueue}-${name}`, args: [{ blueprint: { inline: blueprint(command) }, action: 'backup', target: `namespace/${namespace.name}` }] })
    .then((r) => r as RunActionResult, (e: WorkflowFailedError) => e);
}

async function taskPods(): Promise<string[]> {
  return (await clients.core.listNamespacedPod({ namespace: namespace.name, labelSelector: 'purpose=kube-task-test' })).items.map((p) => p.metadata!.name!);
}

it('runs a one-off pod that writes to its PVC, takes its outputs from the log and deletes the pod', async () => {
  const outcome = await run('ok', `echo task-was-here > /work/out.txt; echo '###Phase-output###: {"key":"written","value":"/work/out.txt"}'`);
  assert.ok(!(outcome instanceof Error), String(outcome));
  assert.deepEqual(outcome.phaseOutputs.task, { written: '/work/out.txt' });
  const volume = await claimVolumeDir(clients, stack.state, namespace.name, 'task-work');
  assert.equal(readFileSync(join(volume, 'out.txt'), 'utf8'), 'task-was-here\n');
  for (let i = 0; i < 100 && (await taskPods()).length > 0; i++) await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(await taskPods(), []);
});

it('fails the phase with the tail of the pod log when the command fails, and still deletes the pod', async () => {
  const outcome = await run('fails', 'echo "disk on fire" >&2; exit 3');
  assert.ok(outcome instanceof Error);
  assert.match(String((outcome.cause as Error | undefined)?.message), /task pod .* failed; log:\s+disk on fire/);
  for (let i = 0; i < 100 && (await taskPods()).length > 0; i++) await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(await taskPods(), []);
});
