/**
 * KubeTask: runs a one-off pod (image, command, podOverride), waits for it to finish, collects phase outputs
 * from its log (`###Phase-output###` lines, as `kando output` prints them) and always deletes it. The pod's
 * name is derived from the run and phase, so a retried attempt picks up the pod of the attempt before.
 */
import type * as k8s from '@kubernetes/client-node';
import { isNotFound } from '../../src/kube/clients.ts';
import type { JsonObject } from '../../src/json.ts';
import { tail } from '../kube/exec.ts';
import { deepMerge } from '../kube/pod-override.ts';
import { parsePhaseOutputs } from './phase-output.ts';
import type { CairnFunction } from './types.ts';
import { pause } from './pause.ts';

export const KubeTask: CairnFunction = {
  name: 'KubeTask',
  async run({ args, kube, heartbeat, signal, resourceName, log }) {
    const namespace = String(args.namespace);
    const name = resourceName('task');
    const { core } = kube();
    const manifest = deepMerge(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name,
          namespace,
          labels: { 'app.kubernetes.io/managed-by': 'cairn', ...((args.podLabels ?? {}) as Record<string, string>) },
          annotations: { ...((args.podAnnotations ?? {}) as Record<string, string>) },
        },
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'container', image: String(args.image), command: (args.command as unknown[]).map(String) }],
        },
      },
      { spec: (args.podOverride ?? {}) as JsonObject },
    ) as k8s.V1Pod;

    try {
      try {
        await core.createNamespacedPod({ namespace, body: manifest });
        log('task pod created', { pod: name });
      } catch (error) {
        if ((error as { code?: number }).code !== 409) throw new Error(`cannot create pod ${namespace}/${name}: ${(error as Error).message}`);
        log('task pod of an earlier attempt found; waiting for it', { pod: name });
      }
      let phase = '';
      for (;;) {
        const pod = await core.readNamespacedPod({ namespace, name });
        phase = pod.status?.phase ?? 'Pending';
        heartbeat({ pod: name, phase });
        if (phase === 'Succeeded' || phase === 'Failed') break;
        await pause(500, signal, `cancelled while pod ${namespace}/${name} was ${phase}`);
      }
      const output = await core.readNamespacedPodLog({ namespace, name, container: manifest.spec!.containers[0]!.name }).catch(() => '');
      if (phase === 'Failed') throw new Error(`task pod ${namespace}/${name} failed${output ? `; log:\n${tail(output)}` : ''}`);
      return parsePhaseOutputs(output);
    } finally {
      await core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 }).catch((error: unknown) => {
        if (!isNotFound(error)) log('could not delete the task pod', { pod: name, error: (error as Error).message });
      });
    }
  },
};
