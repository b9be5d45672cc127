/**
 * CopyVolumeData (Kanister's name and args): a PVC's files as a kopia snapshot. A one-off pod mounts the PVC
 * at `/mnt/vol_data/<pvc>` (Kanister's mount point, returned as `backupRoot`), tar streams out of it into
 * kopia on the worker, and the pod is deleted whatever happens. As with Kanister, the PVC should not be in
 * use by a running workload (stop it, or copy a PVC restored from a CSI snapshot). RestoreData with
 * `volumes: {<pvc>: <backupRoot>}` puts the files into another PVC.
 */
import type { JsonObject } from '../../src/json.ts';
import { repositoryBytes } from '../kopia/repository.ts';
import { artifactSource, completeSnapshots } from '../kopia/snapshots.ts';
import { runTag, snapshotCommandOutput } from './data-stream.ts';
import { repositoryFor } from './exec-target.ts';
import { TAR_FILE, tarCreateCommand } from './tar-archive.ts';
import type { CairnFunction } from './types.ts';
import { DATA_POD_IMAGE, withVolumePod } from './volume-pod.ts';

export const MOUNT_ROOT = '/mnt/vol_data';

export const CopyVolumeData: CairnFunction = {
  name: 'CopyVolumeData',
  async run(context) {
    const { args, log } = context;
    const namespace = String(args.namespace);
    const volume = String(args.volume);
    const prefix = String(args.dataArtifactPrefix);
    const backupRoot = `${MOUNT_ROOT}/${volume}`;
    const repository = await repositoryFor(context);
    const backupTag = runTag(context, 'copy-volume');
    const previous = (await completeSnapshots(repository, { backupTag }))[0];
    if (previous) {
      log('snapshot of an earlier attempt found; not copying again', { backupID: previous.id });
      return { backupID: previous.id, backupRoot, backupArtifactLocation: prefix, backupTag, size: previous.size, phySize: 0 };
    }

    const bytesBefore = await repositoryBytes(repository);
    const { snapshotID, bytes } = await withVolumePod(
      context,
      {
        namespace,
        suffix: 'copy-volume',
        image: DATA_POD_IMAGE,
        volumes: { [volume]: backupRoot },
        podOverride: args.podOverride as JsonObject | undefined,
        podLabels: args.podLabels as Record<string, string> | undefined,
        podAnnotations: args.podAnnotations as Record<string, string> | undefined,
      },
      (pod) =>
        snapshotCommandOutput(
          context,
          repository,
          { ...pod, command: tarCreateCommand(backupRoot) },
          {
            file: TAR_FILE,
            source: artifactSource(namespace, prefix),
            tags: { backupTag, 'cairn-function': 'CopyVolumeData', includePath: backupRoot, volume: `${namespace}/${volume}` },
            description: `CopyVolumeData of PVC ${namespace}/${volume}`,
          },
          'tar',
        ),
    );
    const phySize = Math.max(0, (await repositoryBytes(repository)) - bytesBefore);
    return { backupID: snapshotID, backupRoot, backupArtifactLocation: prefix, backupTag, size: bytes, phySize };
  },
};
