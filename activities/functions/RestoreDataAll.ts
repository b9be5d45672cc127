/**
 * RestoreDataAll (Kanister's name and args): RestoreData of each pod's backup in `backupInfo` (BackupDataAll's
 * `BackupAllInfo`) into the PVCs of that pod, mounted where the pod mounts them, in a one-off pod per pod
 * running `image`. Pods: `pods` (space-separated, or a list), else the target's running pods, else (scaled to
 * zero, as a restore usually is) the pods named in `backupInfo`, whose PVCs come from the workload's pod
 * template. Outputs `restoredFrom` (a JSON string: pod → snapshot ID) and `size` (bytes restored in all).
 */
import type { JsonObject, JsonValue } from '../../src/json.ts';
import { forEachPod, parseBackupInfo, podContext, podPrefix } from './per-pod.ts';
import { RestoreData } from './RestoreData.ts';
import { PermanentFunctionError, type CairnFunction } from './types.ts';
import { DATA_POD_IMAGE } from './volume-pod.ts';
import { podsArg, podVolumes, targetOf } from './workload-volumes.ts';

export const RestoreDataAll: CairnFunction = {
  name: 'RestoreDataAll',
  async run(context) {
    const { args } = context;
    const namespace = String(args.namespace);
    const info = parseBackupInfo(args.backupInfo);
    const target = await targetOf(context);
    let pods = podsArg(args.pods);
    if (pods.length === 0) pods = target.pods.length > 0 ? target.pods : Object.keys(info);
    const missing = pods.filter((pod) => !Object.hasOwn(info, pod));
    if (missing.length > 0) throw new PermanentFunctionError(`backupInfo has no backup of pod ${missing.join(', ')} (it has ${Object.keys(info).join(', ')})`);
    // Every pod's volumes are known before anything is restored.
    const volumes = new Map<string, Record<string, string>>();
    for (const pod of pods) volumes.set(pod, await podVolumes(context, namespace, pod, target));
    const beats = new Map<string, JsonValue>();
    const results = await forEachPod(pods, (pod) => {
      const podArgs: JsonObject = {
        namespace,
        image: String(args.image ?? DATA_POD_IMAGE),
        backupArtifactPrefix: podPrefix(String(args.backupArtifactPrefix), pod),
        backupIdentifier: info[pod]!.BackupID,
        restorePath: String(args.restorePath ?? '/'),
        volumes: volumes.get(pod)!,
      };
      if (args.podOverride !== undefined) podArgs.podOverride = args.podOverride;
      if (args.podLabels !== undefined) podArgs.podLabels = args.podLabels;
      if (args.podAnnotations !== undefined) podArgs.podAnnotations = args.podAnnotations;
      return RestoreData.run(podContext(context, pod, podArgs, beats));
    });
    const restoredFrom: Record<string, string> = {};
    let size = 0;
    for (const pod of pods) {
      restoredFrom[pod] = String(results.get(pod)!.restoredFrom);
      size += Number(results.get(pod)!.size ?? 0);
    }
    return { restoredFrom: JSON.stringify(restoredFrom), size };
  },
};
