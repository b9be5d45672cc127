/**
 * ScaleWorkload: scales a StatefulSet or Deployment (the target's, unless named) and waits until it has
 * exactly that many ready pods. The replica count it found is kept in an annotation named after the run and
 * phase, so a retried attempt reports the original count, not the 0 it set itself; a defer phase restores
 * it with `{{Phases.<phase>.Output.originalReplicaCount}}`.
 */
import * as k8s from '@kubernetes/client-node';
import { PermanentFunctionError, type CairnFunction } from './types.ts';
import { pause } from './pause.ts';

type Kind = 'StatefulSet' | 'Deployment';

export const ScaleWorkload: CairnFunction = {
  name: 'ScaleWorkload',
  async run({ args, template, kube, heartbeat, signal, resourceName }) {
    const kindArg = String(args.kind ?? template.Target.kind).toLowerCase();
    const kind: Kind | undefined = kindArg === 'statefulset' ? 'StatefulSet' : kindArg === 'deployment' ? 'Deployment' : undefined;
    if (!kind) throw new PermanentFunctionError(`ScaleWorkload scales a StatefulSet or a Deployment, not a ${String(args.kind ?? template.Target.kind)}`);
    const namespace = String(args.namespace ?? template.Target.namespace);
    const name = String(args.name ?? template.Target.name);
    const replicas = Number(args.replicas);
    const waitForReady = args.waitForReady !== false;
    const { apps, objects } = kube();
    const read = async () => {
      try {
        return kind === 'StatefulSet' ? await apps.readNamespacedStatefulSet({ name, namespace }) : await apps.readNamespacedDeployment({ name, namespace });
      } catch {
        throw new PermanentFunctionError(`${kind} ${namespace}/${name} not found`);
      }
    };

    const workload = await read();
    const annotation = `cairn.io/replicas-before.${resourceName('scale').slice('cairn-'.length)}`;
    let original = Number(workload.metadata?.annotations?.[annotation] ?? Number.NaN);
    if (!Number.isInteger(original)) {
      original = workload.spec?.replicas ?? 1;
      await objects.patch(
        { apiVersion: 'apps/v1', kind, metadata: { name, namespace, annotations: { [annotation]: String(original) } } },
        undefined, undefined, undefined, undefined, k8s.PatchStrategy.MergePatch,
      );
    }
    heartbeat({ originalReplicaCount: original, replicas });
    await objects.patch(
      { apiVersion: 'apps/v1', kind, metadata: { name, namespace }, spec: { replicas } } as k8s.KubernetesObject,
      undefined, undefined, undefined, undefined, k8s.PatchStrategy.MergePatch,
    );

    // A starting pod's Ready can flap (reported Ready as it starts running, then not Ready until its probes
    // pass): the count must hold on consecutive polls at least a second apart before the workload counts as up.
    let settledSince: number | undefined;
    while (waitForReady) {
      const current = await read();
      const status = current.status ?? {};
      const ready = status.readyReplicas ?? 0;
      const total = status.replicas ?? 0;
      heartbeat({ originalReplicaCount: original, replicas, ready, total });
      const settled = ready === replicas && total === replicas && (status.observedGeneration ?? 0) >= (current.metadata?.generation ?? 0);
      if (!settled) settledSince = undefined;
      else if (replicas === 0 || (settledSince !== undefined && Date.now() - settledSince >= 1000)) break;
      else settledSince ??= Date.now();
      await pause(500, signal, `cancelled while waiting for ${kind} ${namespace}/${name} to have ${replicas} ready replicas`);
    }
    return { originalReplicaCount: original };
  },
};
