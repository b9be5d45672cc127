/**
 * What the Kanister function tests share: a namespace, an in-process worker on its own task queue, and runs
 * of one function as the single phase of a blueprint, against any target (`statefulset/<ns>/<name>`,
 * default the namespace), through Temporal.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from '@temporalio/worker';
import { innermostMessage } from '../../../src/diagnostics.ts';
import type { JsonObject, JsonValue } from '../../../src/json.ts';
import type { RunActionResult } from '../../../src/run/types.ts';
import { isReadyPod, waitForPod } from '../../support/pod-runtime/testing.ts';
import { ensureStack, kubeClients, testNamespace, type KubeClients, type StackInfo, type TestNamespace } from '../../support/stack.ts';
import { inProcessWorker, temporalFixture, type TemporalFixture } from '../../support/temporal.ts';

export type StepOutcome = { ok: true; outputs: Record<string, JsonValue>; result: RunActionResult } | { ok: false; message: string };

export interface StepOptions {
  target?: string;
  options?: JsonObject;
  /** Attempts of the phase (default 1: failures show at once). */
  attempts?: number;
}

export interface KanisterWorld {
  stack: StackInfo;
  clients: KubeClients;
  ns: string;
  fixture: TemporalFixture;
  /** Runs `func` with `args` as the one phase (`step`) of an action; its outputs, or the failure's innermost message. */
  step(func: string, args: Record<string, JsonValue>, options?: StepOptions): Promise<StepOutcome>;
  close(): Promise<void>;
}

export async function kanisterWorld(prefix: string): Promise<KanisterWorld> {
  const stack = await ensureStack();
  const clients = kubeClients(stack);
  const fixture = await temporalFixture(prefix);
  const namespace: TestNamespace = await testNamespace(prefix);
  const worker: Worker = await inProcessWorker(fixture);
  const running = worker.run();
  let runs = 0;
  return {
    stack,
    clients,
    ns: namespace.name,
    fixture,
    async step(func, args, options = {}) {
      const blueprint = `apiVersion: cairn.io/v1alpha1
kind: Blueprint
metadata: {name: kanister-functions}
actions:
  backup:
    kinds: [StatefulSet, Deployment, PersistentVolumeClaim, Namespace]
    phases:
      - name: step
        func: ${func}
        retry: {maxAttempts: ${options.attempts ?? 1}}
        args: ${JSON.stringify(args)}
  restore:
    kinds: [StatefulSet, Deployment, PersistentVolumeClaim, Namespace]
    phases: [{name: r, func: Sleep, args: {duration: 1ms}}]
`;
      try {
        const result = (await fixture.client.workflow.execute('runAction', {
          taskQueue: fixture.taskQueue,
          workflowId: `${fixture.taskQueue}-${func}-${++runs}`,
          args: [{ blueprint: { inline: blueprint }, action: 'backup', target: options.target ?? `namespace/${namespace.name}`, options: options.options ?? {} }],
        })) as RunActionResult;
        return { ok: true, outputs: result.phaseOutputs.step ?? {}, result };
      } catch (error) {
        return { ok: false, message: innermostMessage(error) };
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
 * Fails, saying why, when the running pod runtime predates `deploy/kando` on its pods' PATH (and its /tmp
 * handling for a volume mounted there): it writes an exec shim for every command name on that PATH when it
 * starts, so a `kando` shim means it started from a checkout that has both. Restart it to pick them up.
 */
export function assertPodRuntimeHasKando(stack: StackInfo): void {
  const shims = (stack['pod-runtime'] as { execShims?: string } | undefined)?.execShims;
  assert.ok(
    shims && existsSync(join(shims, 'kando')),
    'the running pod runtime was started before deploy/kando was on its pods\' PATH: restart it (npm run stack:down && npm run stack:up), see docs/kando.md',
  );
}

/**
 * Fails, saying why, when the running pod runtime was started before the last change to its source (the
 * behaviour a test relies on may be newer than the process playing the pods). Its PID file is written when it
 * starts.
 */
export function assertPodRuntimeCurrent(stack: StackInfo): void {
  const source = join(import.meta.dirname, '../../support/pod-runtime');
  const files = readdirSync(source, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'));
  const newest = Math.max(...files.map((file) => statSync(join(source, file)).mtimeMs));
  const started = statSync(join(stack.state, 'pids', 'pod-runtime.pid')).mtimeMs;
  assert.ok(started >= newest, 'the running pod runtime is older than test/support/pod-runtime/: restart it (npm run stack:down && npm run stack:up) to test this');
}

/**
 * A StatefulSet `name` of `replicas` pods whose container `main` (busybox, sleeping) mounts its own PVC
 * `data-<pod>` (cairn-csi) at /data; resolves once every pod runs.
 */
export async function createDataStatefulSet(world: KanisterWorld, name: string, replicas: number): Promise<void> {
  const { clients, ns } = world;
  await clients.apps.createNamespacedStatefulSet({
    namespace: ns,
    body: {
      metadata: { name },
      spec: {
        replicas,
        serviceName: name,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'main', image: 'busybox:1.36', command: ['sleep', 'infinity'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }] },
        },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'cairn-csi', resources: { requests: { storage: '1Gi' } } } }],
      },
    },
  });
  for (let i = 0; i < replicas; i++) {
    await waitForPod(clients, ns, `${name}-${i}`, 'running', isReadyPod);
  }
}
