import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { defaultPayloadConverter, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { WaitV2 } from '../../../activities/functions/WaitV2.ts';
import type { JsonValue } from '../../../src/json.ts';
import type { RunActionResult } from '../../../src/run/types.ts';
import type { TemplateContext } from '../../../src/template/context.ts';
import { waitUntil } from '../../../scripts/stack/process.ts';
import { ensureStack, kubeClients, testNamespace, type KubeClients, type TestNamespace } from '../../support/stack.ts';
import { runningWorker, type RunningWorker, type TemporalFixture } from '../../support/temporal.ts';

// WaitV2 through a real worker: it keeps waiting while its conditions do not hold (as its heartbeats show),
// finishes once another client changes the objects mid-wait, and on timeout names the condition and the value it
// last saw. Conditions are in Cairn's language or, escaped from Cairn's templates, in Kanister's Go-template form.
let fixture: TemporalFixture;
let namespace: TestNamespace;
let clients: KubeClients;
let serving: RunningWorker;

const blueprint = (timeout: string, mode: 'anyOf' | 'allOf', conditions: { condition: string; name: string; resource?: string }[]) => `apiVersion: cairn.io/v1alpha1
kind: Blueprint
metadata: {name: waiter}
actions:
  backup:
    kinds: [Namespace]
    phases:
      - name: wait
        func: WaitV2
        retry: {maxAttempts: 1}
        args:
          timeout: ${timeout}
          conditions:
            ${mode}:
${conditions.map((c) => `              - condition: ${c.condition}\n                objectReference: {apiVersion: v1, resource: ${c.resource ?? 'configmaps'}, name: ${c.name}}`).join('\n')}
  restore:
    kinds: [Namespace]
    phases: [{name: r, func: Sleep, args: {duration: 1ms}}]
`;

before(async () => {
  const stack = await ensureStack();
  clients = kubeClients(stack);
  namespace = await testNamespace('wait-v2');
  const objects: Record<string, Record<string, string>> = { gate: { state: 'closed' }, left: { ready: 'yes' }, right: { ready: 'no' }, stuck: { state: 'closed' } };
  for (const [name, data] of Object.entries(objects)) {
    await clients.core.createNamespacedConfigMap({ namespace: namespace.name, body: { metadata: { name }, data } });
  }
  serving = await runningWorker('wait-v2');
  fixture = serving.fixture;
});

after(async () => {
  await serving?.stop();
  await namespace?.cleanup();
});

function start(name: string, text: string, options: Record<string, string> = {}) {
  return fixture.client.workflow.start('runAction', {
    taskQueue: fixture.taskQueue,
    workflowId: `${fixture.taskQueue}-${name}`,
    args: [{ blueprint: { inline: text }, action: 'backup', target: `namespace/${namespace.name}`, options }],
  });
}

const outcomeOf = (handle: WorkflowHandle) => handle.result().then((r) => r as RunActionResult, (e: WorkflowFailedError) => e);

interface WaitHeartbeat {
  mode: string;
  conditions: { object: string; condition: string; holds: boolean; observed: string }[];
}

/** The wait phase's last heartbeat, once it has sent one matching `accept`. */
async function heartbeatOf(handle: WorkflowHandle, accept: (details: WaitHeartbeat) => boolean): Promise<WaitHeartbeat> {
  let details: WaitHeartbeat | undefined;
  await waitUntil('the wait phase to heartbeat', async () => {
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    const payload = pending.find((a) => a.activityId === 'phase/wait')?.heartbeatDetails?.payloads?.[0];
    details = payload ? (defaultPayloadConverter.fromPayload(payload) as WaitHeartbeat) : undefined;
    return details !== undefined && accept(details);
  }, 60_000);
  return details!;
}

async function patchData(name: string, data: Record<string, string>): Promise<void> {
  const configMap = await clients.core.readNamespacedConfigMap({ namespace: namespace.name, name });
  await clients.core.replaceNamespacedConfigMap({ namespace: namespace.name, name, body: { ...configMap, data: { ...configMap.data, ...data } } });
}

it('anyOf: waits while no condition holds, then finishes when one comes true mid-wait (a Kanister Go template among them)', async () => {
  const handle = await start(
    'any',
    blueprint('2m', 'anyOf', [
      { condition: `'\\{{ if (eq .data.state "open") }}true\\{{ else }}false\\{{ end }}'`, name: 'gate' },
      { condition: `'$.status.phase == "Running"'`, name: 'no-such-pod', resource: 'pods' },
    ]),
  );
  const waiting = await heartbeatOf(handle, (d) => d.conditions.length === 2);
  assert.deepEqual(waiting.conditions, [
    { object: `configmaps ${namespace.name}/gate`, condition: '$.data.state == "open"', holds: false, observed: '$.data.state = "closed"' },
    { object: `pods ${namespace.name}/no-such-pod`, condition: '$.status.phase == "Running"', holds: false, observed: 'object not found' },
  ]);
  await patchData('gate', { state: 'open' });
  const outcome = await outcomeOf(handle);
  assert.ok(!(outcome instanceof Error), String(outcome));
  assert.deepEqual(outcome.phaseOutputs.wait, {});
});

it('allOf: keeps waiting while one of two holds, finishes when both do', async () => {
  const handle = await start('all', blueprint('2m', 'allOf', ['left', 'right'].map((name) => ({ condition: `'{.data.ready} == "yes"'`, name }))));
  const waiting = await heartbeatOf(handle, (d) => d.conditions.length === 2);
  assert.deepEqual(waiting.conditions.map((c) => [c.object, c.holds]), [[`configmaps ${namespace.name}/left`, true], [`configmaps ${namespace.name}/right`, false]]);
  assert.equal((await handle.describe()).status.name, 'RUNNING');
  await patchData('right', { ready: 'yes' });
  const outcome = await outcomeOf(handle);
  assert.ok(!(outcome instanceof Error), String(outcome));
});

it('fails on timeout, naming the condition and the value it last observed', async () => {
  const outcome = await outcomeOf(await start('timeout', blueprint('3s', 'anyOf', [{ condition: `'$.data.state == "open" && exists($.data.key)'`, name: 'stuck' }])));
  assert.ok(outcome instanceof Error);
  const message = String((outcome.cause as Error | undefined)?.message);
  assert.ok(
    message.endsWith(`phase wait (WaitV2): timed out after 3s waiting for any of the conditions; not holding:\nconfigmaps ${namespace.name}/stuck: $.data.state == "open" && exists($.data.key) (observed $.data.state = "closed")`),
    message,
  );
});

it('refuses a condition that does not parse once rendered, naming the arg and the column', async () => {
  const outcome = await outcomeOf(await start('bad-condition', blueprint('1m', 'anyOf', [{ condition: `'{{Options.condition}}'`, name: 'gate' }]), { condition: '$.data.state = "open"' }));
  assert.ok(outcome instanceof Error);
  assert.match(String((outcome.cause as Error | undefined)?.message), /args\.conditions\.anyOf\[0\]\.condition does not parse: "=" is not an operator; compare with == at column 14/);
});

it('a retried attempt keeps the deadline of the attempt before: past it, one look and then the timeout', async () => {
  // The function itself, as the phase runner calls it, with the previous attempt's heartbeat handed over.
  const heartbeats: JsonValue[] = [];
  const attempt = WaitV2.run({
    args: { timeout: '10m', conditions: { anyOf: [{ condition: '$.data.state == "open"', objectReference: { apiVersion: 'v1', resource: 'configmaps', name: 'stuck' } }] } },
    template: { Namespace: namespace.name } as TemplateContext,
    kube: () => clients,
    heartbeat: (details) => heartbeats.push(details ?? null),
    previousHeartbeat: { deadline: Date.now() - 1000, mode: 'anyOf', conditions: [] },
    signal: new AbortController().signal,
    resourceName: (suffix) => `cairn-test-${suffix}`,
    log: () => undefined,
  });
  await assert.rejects(attempt, /timed out after 10m waiting for any of the conditions; not holding:\nconfigmaps .*\/stuck: \$\.data\.state == "open" \(observed \$\.data\.state = "closed"\)/);
  assert.equal(heartbeats.length, 1, 'it looked once, not for another 10 minutes');
});
