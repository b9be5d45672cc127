/**
 * What the Kanister function tests share: a namespace, an in-process worker on its own task queue, and runs
 * of one function as the single phase of a blueprint, against any target (`statefulset/<ns>/<name>`,
 * default the namespace), through Temporal.
 */
import type { Worker } from '@temporalio/worker';
import { innermostMessage } from '../../../src/diagnostics.ts';
import type { JsonObject, JsonValue } from '../../../src/json.ts';
import type { RunActionResult } from '../../../src/run/types.ts';
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
