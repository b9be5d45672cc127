/**
 * MultiContainerRun (Kanister's name and args): a one-off pod with an `output` and a `background` container
 * (and an optional `init` container) sharing an emptyDir at `sharedVolumeDir` (default `/tmp/`), say a dump
 * written to a FIFO by one and pushed by the other. The phase's outputs are the `###Phase-output###` lines of
 * the output container's log; the phase ends when both have ended, and fails, naming each failed container
 * with its log tail, when either fails. Runs in `namespace` (default: the target's); the pod is named after
 * the run and phase and always deleted. Containers that run `kando location` get the run's location.
 */
import type * as k8s from '@kubernetes/client-node';
import { wantsKandoLocation } from './kando-location.ts';
import { runTaskPodWithLocation, taskPodManifest } from './task-pod.ts';
import { PermanentFunctionError, type CairnFunction } from './types.ts';

const SHARED_VOLUME = 'shared';
const MEDIA = ['', 'Memory'];

export const MultiContainerRun: CairnFunction = {
  name: 'MultiContainerRun',
  async run(context) {
    const { args, resourceName, template } = context;
    const namespace = args.namespace === undefined ? template.Namespace : String(args.namespace);
    const sharedDir = String(args.sharedVolumeDir ?? '/tmp/');
    if (!sharedDir.startsWith('/')) throw new PermanentFunctionError(`sharedVolumeDir must be an absolute path, not "${sharedDir}"`);
    const medium = String(args.sharedVolumeMedium ?? '');
    if (!MEDIA.includes(medium)) throw new PermanentFunctionError(`sharedVolumeMedium must be "" (the node's disk) or Memory, not "${medium}"`);
    const mounts = [{ name: SHARED_VOLUME, mountPath: sharedDir }];
    const command = (value: unknown) => (value as unknown[]).map(String);
    if (args.initCommand !== undefined && args.initImage === undefined) throw new PermanentFunctionError('initCommand needs initImage');
    const spec: k8s.V1PodSpec = {
      volumes: [{ name: SHARED_VOLUME, emptyDir: { ...(medium ? { medium } : {}), ...(args.sharedVolumeSizeLimit !== undefined ? { sizeLimit: String(args.sharedVolumeSizeLimit) } : {}) } }],
      ...(args.initImage !== undefined
        ? { initContainers: [{ name: 'init', image: String(args.initImage), ...(args.initCommand !== undefined ? { command: command(args.initCommand) } : {}), volumeMounts: mounts }] }
        : {}),
      containers: [
        { name: 'output', image: String(args.outputImage), command: command(args.outputCommand), volumeMounts: mounts },
        { name: 'background', image: String(args.backgroundImage), command: command(args.backgroundCommand), volumeMounts: mounts },
      ],
    };
    // kubectl logs and exec pick the output container by default, as with Kanister's pod.
    const manifest = taskPodManifest(resourceName('multi-container'), namespace, spec, args, { 'kubectl.kubernetes.io/default-container': 'output' });
    const withLocation = wantsKandoLocation(args, [args.outputCommand, args.backgroundCommand, args.initCommand]);
    return runTaskPodWithLocation(context, manifest, withLocation, { outputContainer: 'output', label: 'multi-container pod' });
  },
};
