/**
 * KubeTask: runs a one-off pod (image, command, podOverride) in `namespace` (default: the target's), waits for
 * it to finish, collects phase outputs from its log (`###Phase-output###` lines, as `kando output` prints
 * them) and always deletes it. The pod's name is derived from the run and phase, so a retried attempt picks
 * up the pod of the attempt before. A command that runs `kando location` (or `locationCredentials: true`)
 * gets the run's location in its environment (kando-location.ts).
 */
import { wantsKandoLocation } from './kando-location.ts';
import { runTaskPodWithLocation, taskPodManifest } from './task-pod.ts';
import type { CairnFunction } from './types.ts';

export const KubeTask: CairnFunction = {
  name: 'KubeTask',
  async run(context) {
    const { args, resourceName, template } = context;
    const namespace = args.namespace === undefined ? template.Namespace : String(args.namespace);
    const manifest = taskPodManifest(resourceName('task'), namespace, { containers: [{ name: 'container', image: String(args.image), command: (args.command as unknown[]).map(String) }] }, args);
    return runTaskPodWithLocation(context, manifest, wantsKandoLocation(args, [args.command]));
  },
};
