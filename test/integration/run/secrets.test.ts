import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import type { RunActionResult } from '../../../src/run/types.ts';
import { kubeClients as kubeClientsFromSupport, ensureStack, testNamespace, type TestNamespace } from '../../support/stack.ts';
import { execUntilSuccess, waitForPod } from '../../support/pod-runtime/testing.ts';
import { findSecret, historyJson } from '../../support/secret-scan.ts';
import { ensureTemporalBinary, runningWorker, type RunningWorker, type TemporalFixture } from '../../support/temporal.ts';

// A blueprint reads a Secret holding a canary; the canary must appear nowhere in the workflow history —
// not in inputs, phase outputs, artifacts or failure messages — in any of the forms it could take there.
const canary = `canary-${randomBytes(8).toString('hex')}`;

let fixture: TemporalFixture;
let namespace: TestNamespace;
let serving: RunningWorker;

const blueprint = (command: string) => `apiVersion: cairn.io/v1alpha1
kind: Blueprint
metadata: {name: secret-user}
actions:
  backup:
    kinds: [Namespace]
    outputArtifacts:
      result: {keyValue: {echoed: "{{Phases.useSecret.Output.echoed}}"}}
    phases:
      - name: useSecret
        func: KubeExec
        objects:
          creds: {kind: Secret, name: canary-secret}
        args:
          namespace: "{{Namespace}}"
          pod: canary-pod
          command: [sh, -c, ${JSON.stringify(command)}]
        retry: {maxAttempts: 1}
  restore:
    kinds: [Namespace]
    phases: [{name: r, func: Sleep, args: {duration: 1ms}}]
`;

before(async () => {
  const stack = await ensureStack();
  namespace = await testNamespace('secrets');
  const clients = kubeClientsFromSupport(stack);
  await clients.core.createNamespacedSecret({ namespace: namespace.name, body: { metadata: { name: 'canary-secret' }, stringData: { password: canary } } });
  await clients.core.createNamespacedPod({
    namespace: namespace.name,
    body: { metadata: { name: 'canary-pod' }, spec: { containers: [{ name: 'main', image: 'busybox' }] } },
  });
  await waitForPod(clients, namespace.name, 'canary-pod', 'Running', (pod) => pod.status?.phase === 'Running');
  await execUntilSuccess(clients, namespace.name, 'canary-pod', 'main', ['true']);
  serving = await runningWorker('secrets');
  fixture = serving.fixture;
});

after(async () => {
  await serving?.stop();
  await namespace?.cleanup();
});

async function run(name: string, command: string, options: Record<string, string> = {}) {
  const handle = await fixture.client.workflow.start('runAction', {
    taskQueue: fixture.taskQueue,
    workflowId: `${fixture.taskQueue}-${name}`,
    args: [{ blueprint: { inline: blueprint(command) }, action: 'backup', target: `namespace/${namespace.name}`, options }],
  });
  const outcome = await handle.result().then((r) => r as RunActionResult, (e: Error) => e);
  return { outcome, history: historyJson(await ensureTemporalBinary(), fixture.address, fixture.namespace, handle.workflowId) };
}

it('keeps a Secret read by a phase out of outputs, artifacts and history when the phase succeeds', async () => {
  const command = `echo '###Phase-output###: {"key":"echoed","value":"'"$(printf %s {{Phases.useSecret.Secrets.creds.password}})"'"}'; echo {{Phases.useSecret.Secrets.creds.password}} | base64`;
  const { outcome, history } = await run('succeeds', command);
  assert.ok(!(outcome instanceof Error), String(outcome));
  assert.equal(outcome.phaseOutputs.useSecret?.echoed, '[redacted]');
  assert.equal(outcome.outputArtifacts.result?.KeyValue.echoed, '[redacted]');
  assert.deepEqual(findSecret(history, canary), []);
});

it('keeps it out of failure messages when the phase fails printing it', async () => {
  const { outcome, history } = await run('fails', 'echo "connecting with {{Phases.useSecret.Secrets.creds.password}}" >&2; exit 3');
  assert.ok(outcome instanceof Error);
  assert.match(String((outcome.cause as Error)?.message), /exited 3.*connecting with \[redacted\]/s);
  assert.deepEqual(findSecret(history, canary), []);
});

it('the scan does find the canary in a history that holds it', async () => {
  const { history } = await run('leaky-input', 'true', { note: canary });
  const findings = findSecret(history, canary);
  assert.ok(findings.length > 0);
  assert.ok(findings.some((f) => f.includes('base64-decoded')), findings.join('\n'));
});
