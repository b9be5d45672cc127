/**
 * BackupDataAll (Kanister's name and args): BackupData of `includePath` in `container` of every pod given by
 * `pods` (space-separated, or a list), by default every running pod of the target, each under
 * `<backupArtifactPrefix>/<pod>`. Output `BackupAllInfo`, as Kanister: a JSON string mapping each pod to
 * `{PodName, BackupID, BackupTag}`, which RestoreDataAll and DeleteDataAll take as `backupInfo`.
 */
import type { JsonValue } from '../../src/json.ts';
import { BackupData } from './BackupData.ts';
import { forEachPod, podContext, podPrefix, type PodBackupInfo } from './per-pod.ts';
import { PermanentFunctionError, type CairnFunction } from './types.ts';
import { podsArg, targetOf } from './workload-volumes.ts';

export const BackupDataAll: CairnFunction = {
  name: 'BackupDataAll',
  async run(context) {
    const { args } = context;
    let pods = podsArg(args.pods);
    if (pods.length === 0) {
      const target = await targetOf(context);
      pods = target.pods;
      if (pods.length === 0) throw new PermanentFunctionError(`no pods given, and the target ${target.kind} ${target.namespace}/${target.name} has no running pods`);
    }
    const beats = new Map<string, JsonValue>();
    const results = await forEachPod(pods, (pod) =>
      BackupData.run(
        podContext(context, pod, {
          namespace: String(args.namespace),
          pod,
          container: String(args.container),
          includePath: String(args.includePath),
          backupArtifactPrefix: podPrefix(String(args.backupArtifactPrefix), pod),
        }, beats),
      ),
    );
    const info: Record<string, PodBackupInfo> = {};
    let size = 0;
    for (const pod of pods) {
      const outputs = results.get(pod)!;
      info[pod] = { PodName: pod, BackupID: String(outputs.backupID), BackupTag: String(outputs.backupTag) };
      size += Number(outputs.size ?? 0);
    }
    return { BackupAllInfo: JSON.stringify(info), size };
  },
};
