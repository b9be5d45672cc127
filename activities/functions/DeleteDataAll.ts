/**
 * DeleteDataAll (Kanister's name and args): DeleteData of every pod's backup in `backupInfo` (BackupDataAll's
 * `BackupAllInfo`), each stored under `<backupArtifactPrefix>/<pod>`; `reclaimSpace: true` then runs kopia's
 * full maintenance once. A backup already gone counts as deleted. Outputs are DeleteData's:
 * `deletedSnapshots`, `spaceFreed`.
 */
import { DeleteData } from './DeleteData.ts';
import { parseBackupInfo, podPrefix } from './per-pod.ts';
import type { CairnFunction } from './types.ts';

export const DeleteDataAll: CairnFunction = {
  name: 'DeleteDataAll',
  async run(context) {
    const { args } = context;
    const info = parseBackupInfo(args.backupInfo);
    const pods = Object.keys(info).sort();
    return DeleteData.run({
      ...context,
      args: {
        namespace: String(args.namespace),
        backupID: pods.map((pod) => info[pod]!.BackupID),
        backupArtifactPrefix: pods.map((pod) => podPrefix(String(args.backupArtifactPrefix), pod)),
        reclaimSpace: args.reclaimSpace === true,
      },
    });
  },
};
