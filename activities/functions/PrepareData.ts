/**
 * PrepareData (Kanister's name and args): a one-off pod that mounts PVCs and runs a command in `image`, to
 * seed or fix data before an application starts on it. `volumes` maps PVC name → mount path; without it,
 * every PVC of the target's pods is mounted at `/mnt/prepare_data/<pvc>` (Kanister's default). Outputs are
 * the `###Phase-output###` lines of its log; the pod is named after the run and phase and always deleted. A
 * command that runs `kando location` gets the run's location.
 */
import { wantsKandoLocation } from './kando-location.ts';
import { runTaskPodWithLocation, taskPodManifest } from './task-pod.ts';
import { PermanentFunctionError, type CairnFunction } from './types.ts';
import { claimVolumes } from './volume-pod.ts';
import { targetOf } from './workload-volumes.ts';

export const DEFAULT_MOUNT_ROOT = '/mnt/prepare_data';

export const PrepareData: CairnFunction = {
  name: 'PrepareData',
  async run(context) {
    const { args, resourceName } = context;
    const namespace = String(args.namespace);
    let claims = (args.volumes ?? {}) as Record<string, string>;
    if (Object.keys(claims).length === 0) {
      const target = await targetOf(context);
      const pvcs = [...new Set(Object.values(target.pvcs).flat())].sort();
      if (pvcs.length === 0) throw new PermanentFunctionError(`no volumes given, and the target ${target.kind} ${target.namespace}/${target.name} has no running pods with PVCs to default to`);
      claims = Object.fromEntries(pvcs.map((pvc) => [pvc, `${DEFAULT_MOUNT_ROOT}/${pvc}`]));
    }
    const { volumes, mounts } = await claimVolumes(context, namespace, claims);
    const spec = {
      ...(args.serviceaccount !== undefined ? { serviceAccountName: String(args.serviceaccount) } : {}),
      containers: [{ name: 'container', image: String(args.image), command: (args.command as unknown[]).map(String), volumeMounts: mounts }],
      volumes,
    };
    const manifest = taskPodManifest(resourceName('prepare-data'), namespace, spec, args);
    return runTaskPodWithLocation(context, manifest, wantsKandoLocation(args, [args.command]), { label: 'prepare-data pod' });
  },
};
