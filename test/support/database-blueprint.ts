/**
 * What the shipped database blueprints' end-to-end tests share: a namespace, a worker on its own task queue,
 * runs of one blueprint's actions through Temporal against a target, and a scan of every run's history for
 * a secret.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { Worker } from '@temporalio/worker';
import { createManifests } from '../../src/kube/apply.ts';
import type { JsonObject } from '../../src/json.ts';
import type { RunActionResult } from '../../src/run/types.ts';
import { execInPod, isReadyPod, waitForPod } from './pod-runtime/testing.ts';
import { findSecret, historyJson } from './secret-scan.ts';
import { ensureStack, kubeClients, testNamespace, type KubeClients, type TestNamespace } from './stack.ts';
import { ensureTemporalBinary, inProcessWorker, temporalFixture, type TemporalFixture } from './temporal.ts';

const ROOT = join(import.meta.dirname, '../..');

export interface BlueprintHarness {
  clients: KubeClients;
  namespace: string;
  /** Runs an action to its end; a failed run rejects with Temporal's WorkflowFailedError. */
  run(action: string, input?: RunInput): Promise<RunActionResult>;
  /** Every run's workflow history, scanned for `secret` in all the forms it could take there. */
  assertNoSecretInHistories(secret: string): Promise<void>;
  close(): Promise<void>;
}

export interface RunInput {
  options?: JsonObject;
  artifacts?: RunActionResult['outputArtifacts'];
  /** Names the workflow (default: the action). */
  label?: string;
  /** A blueprint given inline instead of the shipped one (to make a deliberately bad backup, say). */
  inline?: string;
  /** Another workload than the harness's own: `statefulset/<namespace>/<name>`. */
  target?: string;
}

export async function blueprintHarness(prefix: string, blueprint: string, target: (namespace: string) => string): Promise<BlueprintHarness> {
  const stack = await ensureStack();
  const fixture: TemporalFixture = await temporalFixture(prefix);
  const namespace: TestNamespace = await testNamespace(prefix);
  const worker: Worker = await inProcessWorker(fixture);
  const running = worker.run();
  const workflowIds: string[] = [];
  return {
    clients: kubeClients(stack),
    namespace: namespace.name,
    async run(action, input = {}) {
      const workflowId = `${fixture.taskQueue}-${input.label ?? action}-${workflowIds.length}`;
      workflowIds.push(workflowId);
      return (await fixture.client.workflow.execute('runAction', {
        taskQueue: fixture.taskQueue,
        workflowId,
        args: [{ blueprint: input.inline ? { inline: input.inline } : { name: blueprint }, action, target: input.target ?? target(namespace.name), options: input.options ?? {}, ...(input.artifacts ? { artifacts: input.artifacts } : {}) }],
      })) as RunActionResult;
    },
    async assertNoSecretInHistories(secret) {
      const temporal = await ensureTemporalBinary();
      for (const workflowId of workflowIds) {
        assert.deepEqual(findSecret(historyJson(temporal, fixture.address, fixture.namespace, workflowId), secret), [], `history of ${workflowId}`);
      }
    },
    async close() {
      worker.shutdown();
      await running;
      await namespace.cleanup();
      await fixture.close();
    },
  };
}

/**
 * A backup that is not what the blueprint's restore expects: random bytes streamed into kopia and recorded
 * under the blueprint's artifact name, for tests that a restore refuses it before stopping the server.
 */
export function backupGarbage(harness: BlueprintHarness, artifact: string, label: string): Promise<RunActionResult> {
  return harness.run('backup', {
    label,
    inline: `apiVersion: cairn.io/v1alpha1
kind: Blueprint
metadata: {name: ${label}}
actions:
  backup:
    kinds: [StatefulSet]
    outputArtifacts:
      ${artifact}: {keyValue: {snapshotID: "{{Phases.garbage.Output.snapshotID}}"}}
    phases:
      - name: garbage
        func: BackupStream
        args: {namespace: "{{Target.namespace}}", pod: "{{index Target.pods 0}}", command: [sh, -c, "head -c 100000 /dev/urandom"]}
  restore:
    kinds: [StatefulSet]
    phases: [{name: r, func: Sleep, args: {duration: 1ms}}]
`,
  });
}

/**
 * A writer in a database pod: `script` loops until the file /tmp/stop-writer appears (it is removed first).
 * `stop` creates the file and waits for the script to end.
 */
export function startPodWriter(harness: BlueprintHarness, pod: string, container: string, script: string): { stop(): Promise<void> } {
  const running = execInPod(harness.clients, harness.namespace, pod, container, ['sh', '-c', `rm -f /tmp/stop-writer; ${script}`]);
  return {
    async stop() {
      await execInPod(harness.clients, harness.namespace, pod, container, ['touch', '/tmp/stop-writer']);
      await running;
    },
  };
}

/** What a snapshot backup may leave in the namespace: VolumeSnapshots (none, unless kept) and PVCs. */
export async function leftoverSnapshotObjects(harness: BlueprintHarness): Promise<{ volumeSnapshots: string[]; claims: string[] }> {
  const snapshots = (await harness.clients.custom.listNamespacedCustomObject({ group: 'snapshot.storage.k8s.io', version: 'v1', namespace: harness.namespace, plural: 'volumesnapshots' })) as { items: { metadata?: { name?: string } }[] };
  const claims = await harness.clients.core.listNamespacedPersistentVolumeClaim({ namespace: harness.namespace });
  return { volumeSnapshots: snapshots.items.map((s) => s.metadata?.name ?? ''), claims: claims.items.map((c) => c.metadata?.name ?? '').sort() };
}

/** Ready as the examples' probes say: running, every container ready. */
export async function waitForReadyPod(harness: BlueprintHarness, pod: string): Promise<void> {
  await waitForPod(harness.clients, harness.namespace, pod, 'ready', isReadyPod, 180_000);
}

/**
 * A harness on the shipped `<database>` blueprint whose target, the StatefulSet `<database>`, is
 * examples/<database>-app: its config first, with the Secret `<database>-credentials` given `credentials` of this
 * run's own (the canary of the history scans), then the StatefulSet; resolves once `ready` (by default: pod
 * `<database>-0` ready) does. A failed setup closes the harness, which no after() could reach.
 */
export async function exampleDatabaseHarness(
  prefix: string,
  database: string,
  credentials: Record<string, string>,
  ready: (harness: BlueprintHarness) => Promise<void> = (harness) => waitForReadyPod(harness, `${database}-0`),
): Promise<BlueprintHarness> {
  const harness = await blueprintHarness(prefix, database, (namespace) => `statefulset/${namespace}/${database}`);
  const { clients, namespace } = harness;
  const example = join(ROOT, 'examples', `${database}-app`);
  try {
    await createManifests(clients, example, namespace, (file) => file.startsWith('00-config.'));
    await clients.core.patchNamespacedSecret(
      { name: `${database}-credentials`, namespace, body: { stringData: credentials } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await createManifests(clients, example, namespace, (file) => file.startsWith(`10-${database}.`));
    await ready(harness);
  } catch (error) {
    await harness.close();
    throw error;
  }
  return harness;
}
