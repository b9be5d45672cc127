/**
 * waitWorkloadReady: a restored component counts as up when its workload has as many ready pods as its spec
 * asks for, and has held that for a second (a starting pod's Ready can flap, as ScaleWorkload found).
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import type { WaitWorkloadReadyInput } from '../../src/application/types.ts';
import { isNotFound, type KubeClients } from '../../src/kube/clients.ts';
import { pause } from '../functions/pause.ts';

const POLL_MS = 500;
const HOLD_MS = 1000;

export interface ReadinessDeps {
  kube: () => KubeClients;
}

export function createWaitWorkloadReady(deps: ReadinessDeps) {
  return async function waitWorkloadReady(input: WaitWorkloadReadyInput): Promise<{ readyReplicas: number }> {
    const context = Context.current();
    const { apps } = deps.kube();
    const { namespace, kind, name } = input;
    const what = `${kind} ${namespace}/${name}`;
    const deadline = Date.now() + input.timeoutMs;
    let settledSince: number | undefined;
    let last = 'not read yet';
    for (;;) {
      let workload: V1StatefulSet | V1Deployment | undefined;
      try {
        workload = kind === 'StatefulSet' ? await apps.readNamespacedStatefulSet({ name, namespace }) : await apps.readNamespacedDeployment({ name, namespace });
      } catch (error) {
        if (!isNotFound(error)) throw error;
        last = 'it does not exist';
      }
      if (workload) {
        const wanted = workload.spec?.replicas ?? 1;
        const status = workload.status ?? {};
        const ready = status.readyReplicas ?? 0;
        const total = status.replicas ?? 0;
        last = `${ready}/${wanted} ready`;
        context.heartbeat({ wanted, ready, total });
        const settled = ready === wanted && total === wanted && (status.observedGeneration ?? 0) >= (workload.metadata?.generation ?? 0);
        if (!settled) settledSince = undefined;
        else if (wanted === 0 || (settledSince !== undefined && Date.now() - settledSince >= HOLD_MS)) return { readyReplicas: ready };
        else settledSince ??= Date.now();
      } else {
        context.heartbeat({ missing: true });
      }
      if (Date.now() > deadline) {
        throw ApplicationFailure.nonRetryable(`${what} was not ready within ${Math.round(input.timeoutMs / 1000)}s: ${last}`, 'NotReady');
      }
      await pause(POLL_MS, context.cancellationSignal, `cancelled while waiting for ${what} to be ready`);
    }
  };
}
