/**
 * KubeTask: runs a one-off pod (image, command, podOverride) in `namespace` (default: the target's), waits for
 * it to finish, collects phase outputs from its log (`###Phase-output###` lines, as `kando output` prints
 * them) and always deletes it. The pod's name is derived from the run and phase, so a retried attempt picks
 * up the pod of the attempt before. A command that runs `kando location` (or `locationCredentials: true`)
 * gets the run's location in its environment (kando-location.ts).
 */
import type * as k8s from '@kubernetes/client-node';
import type { JsonObject } from '../../src/json.ts';
import { deepMerge } from '../kube/pod-override.ts';
import { wantsKandoLocation } from './kando-location.ts';
import { runTaskPodWithLocation } from './task-pod.ts';
import type { CairnFunction } from './types.ts';

export const KubeTask: CairnFunction = {
  name: 'KubeTask',
  async run(context) {
    const { args, resourceName, template } = context;
    const namespace = args.namespace === undefined ? template.Namespace : String(args.namespace);
    const manifest = deepMerge(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: resourceName('task'),
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
    return runTaskPodWithLocation(context, manifest, wantsKandoLocation(args, [args.command]));
  },
};
