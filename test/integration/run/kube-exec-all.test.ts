import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { RunActionResult } from '../../../src/run/types.ts';
import { execInPod, waitForPod } from '../../support/pod-runtime/testing.ts';
import { ensureStack, kubeClients, testNamespace, type KubeClients, type TestNamespace } from '../../support/stack.ts';
import { runningWorker, type RunningWorker, type TemporalFixture } from '../../support/temporal.ts';

// KubeExecAll over the two pods of a StatefulSet played by the stack's pod runtime, each with two containers:
// the command really runs in all four (each sees its own pod name and container env), their phase outputs are
// merged, one failing pod fails the phase by name, and a missing pod stops it before anything runs.
let fixture: TemporalFixture;
let namespace: TestNamespace;
let clients: KubeClients;
let serving: RunningWorker;

const blueprint = `apiVersion: cairn.io/v1alpha1
kind: Blueprint
metadata: {name: exec-all}
actions:
  backup:
    kinds: [StatefulSet]
    phases:
      - name: everywhere
        func: KubeExecAll
        retry: {maxAttempts: 1}
        args:
          namespace: "{{Target.namespace}}"
          pods: "{{default (join \\" \\" Target.pods) Options.pods}}"
          containers: "main side"
          command:
            - sh
            - -c
            - |
              touch /tmp/ran
              if [ "$HOSTNAME" = "{{default "none" Options.failIn}}" ]; then echo "disk on fire in $HOSTNAME/$CONTAINER" >&2; exit 4; fi
              echo "###Phase-output###: {\\"key\\":\\"$HOSTNAME-$CONTAINER\\",\\"value\\":\\"ran\\"}"
              echo "###Phase-output###: {\\"key\\":\\"who\\",\\"value\\":\\"$HOSTNAME/$CONTAINER\\"}"
  restore:
    kinds: [StatefulSet]
    phases: [{name: r, func: Sleep, args: {duration: 1ms}}]
`;

before(async () => {
  const stack = await ensureStack();
  clients = kubeClients(stack);
  namespace = await testNamespace('exec-all');
  const container = (name: string) => ({ name, image: 'busybox:1.36', command: ['sleep', 'infinity'], env: [{ name: 'CONTAINER', value: name }] });
  await clients.apps.createNamespacedStatefulSet({
    namespace: namespace.name,
    body: {
      metadata: { name: 'web' },
      spec: {
        replicas: 2,
        serviceName: 'web',
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [container('main'), container('side')] } },
      },
    },
  });
  for (const pod of ['web-0', 'web-1']) {
    await waitForPod(clients, namespace.name, pod, 'running with both containers', (p) => p.status?.phase === 'Running' && (p.status.containerStatuses ?? []).filter((c) => c.ready).length === 2);
  }
  serving = await runningWorker('exec-all');
  fixture = serving.fixture;
});

after(async () => {
  await serving?.stop();
  await namespace?.cleanup();
});

async function run(name: string, options: Record<string, string> = {}) {
  return fixture.client.workflow
    .execute('runAction', {
      taskQueue: fixture.taskQueue,
      workflowId: `${fixture.taskQueue}-${name}`,
      args: [{ blueprint: { inline: blueprint }, action: 'backup', target: `statefulset/${namespace.name}/web`, options }],
    })
    .then((r) => r as RunActionResult, (e: WorkflowFailedError) => e);
}

const failureMessage = (outcome: Error) => String((outcome.cause as Error | undefined)?.message);

async function ranIn(pod: string, container: string): Promise<boolean> {
  return (await execInPod(clients, namespace.name, pod, container, ['sh', '-c', 'test -e /tmp/ran'])).exitCode === 0;
}

async function clearMarks(): Promise<void> {
  for (const pod of ['web-0', 'web-1']) for (const container of ['main', 'side']) await execInPod(clients, namespace.name, pod, container, ['rm', '-f', '/tmp/ran']);
}

it('runs the command in every container of every pod and merges their outputs, the last in argument order winning', async () => {
  await clearMarks();
  const outcome = await run('ok');
  assert.ok(!(outcome instanceof Error), String(outcome));
  const outputs = outcome.phaseOutputs.everywhere!;
  for (const pod of ['web-0', 'web-1']) for (const container of ['main', 'side']) assert.ok(`${pod}-${container}` in outputs, `no output from ${pod}/${container}: ${JSON.stringify(outputs)}`);
  assert.equal(outputs.who, 'web-1/side');
  assert.equal(Object.keys(outputs).length, 5);
  for (const pod of ['web-0', 'web-1']) for (const container of ['main', 'side']) assert.ok(await ranIn(pod, container), `${pod}/${container} did not run the command`);
});

it('fails the phase when the command fails in one pod, naming that pod, each container and its stderr', async () => {
  const outcome = await run('one-fails', { failIn: 'web-1' });
  assert.ok(outcome instanceof Error);
  const message = failureMessage(outcome);
  assert.match(message, /command failed in 2 of 4 containers/);
  assert.match(message, new RegExp(`${namespace.name}/web-1 \\(main\\): exited 4; stderr:\\s+disk on fire in web-1/main`));
  assert.match(message, new RegExp(`${namespace.name}/web-1 \\(side\\): exited 4; stderr:\\s+disk on fire in web-1/side`));
  assert.doesNotMatch(message, /web-0/);
});

it('refuses a missing pod before running the command anywhere', async () => {
  await clearMarks();
  const outcome = await run('missing-pod', { pods: 'web-0 web-9' });
  assert.ok(outcome instanceof Error);
  assert.match(failureMessage(outcome), new RegExp(`pod ${namespace.name}/web-9 not found; the command ran nowhere`));
  assert.equal(await ranIn('web-0', 'main'), false);
});
