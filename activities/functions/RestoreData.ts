/**
 * RestoreData (Kanister's name and args): a BackupData or CopyVolumeData snapshot, chosen by
 * `backupIdentifier` or `backupTag`, streams from kopia on the worker into `tar -x` under `restorePath`
 * (default `/`: the backed-up path is put back where it was). With `pod`, tar runs in that running pod's
 * container (`container`, default its first); with `volumes` (PVC → mount path), in a one-off pod that mounts
 * them, deleted afterwards. Files are overwritten or recreated; files that did not exist at backup time are
 * left alone, as with Kanister's restic.
 */
import type { JsonObject } from '../../src/json.ts';
import type { Repository } from '../kopia/repository.ts';
import { artifactPathOf, completeSnapshots, findSnapshot, type SnapshotEntry } from '../kopia/snapshots.ts';
import { restoreIntoCommand } from './data-stream.ts';
import { repositoryFor, resolveEndpoint } from './exec-target.ts';
import { absolutePathArg, TAR_FILE, tarExtractScript } from './tar-archive.ts';
import { PermanentFunctionError, type CairnFunction, type FunctionContext } from './types.ts';
import { DATA_POD_IMAGE, withVolumePod } from './volume-pod.ts';

/** Functions whose snapshots hold a tar archive RestoreData can extract. */
export const TAR_FUNCTIONS = ['BackupData', 'CopyVolumeData'];

export const RestoreData: CairnFunction = {
  name: 'RestoreData',
  async run(context) {
    const { args } = context;
    const volumes = (args.volumes ?? {}) as Record<string, string>;
    const byPod = args.pod !== undefined;
    if (byPod === Object.keys(volumes).length > 0) throw new PermanentFunctionError('give exactly one of pod and volumes');
    if ((args.backupTag === undefined) === (args.backupIdentifier === undefined)) throw new PermanentFunctionError('give exactly one of backupIdentifier and backupTag');
    const restorePath = absolutePathArg('restorePath', args.restorePath ?? '/');
    const repository = await repositoryFor(context);
    const snapshot = await chooseSnapshot(repository, args);

    const extract = tarExtractScript(restorePath);
    const restored = byPod
      ? await restoreIntoCommand(context, repository, snapshot, TAR_FILE, await resolveEndpoint({ ...context, args: { ...args, command: [] } }), extract, 'tar')
      : await withVolumePod(
          context,
          {
            namespace: String(args.namespace),
            suffix: 'restore-data',
            image: String(args.image ?? DATA_POD_IMAGE),
            volumes,
            podOverride: args.podOverride as JsonObject | undefined,
            podLabels: args.podLabels as Record<string, string> | undefined,
            podAnnotations: args.podAnnotations as Record<string, string> | undefined,
          },
          (pod) => restoreIntoCommand(context, repository, snapshot, TAR_FILE, pod, extract, 'tar'),
        );
    return { restoredFrom: snapshot.id, size: restored.bytes };
  },
};

async function chooseSnapshot(repository: Repository, args: FunctionContext['args']): Promise<SnapshotEntry> {
  const prefix = String(args.backupArtifactPrefix);
  let snapshot: SnapshotEntry | undefined;
  if (args.backupIdentifier !== undefined) {
    snapshot = await findSnapshot(repository, String(args.backupIdentifier));
    if (!snapshot) throw new PermanentFunctionError(`no backup ${String(args.backupIdentifier)} in repository ${repository.application}`);
  } else {
    snapshot = (await completeSnapshots(repository, { backupTag: String(args.backupTag) })).at(-1);
    if (!snapshot) throw new PermanentFunctionError(`no backup tagged ${String(args.backupTag)} in repository ${repository.application}`);
  }
  if (!TAR_FUNCTIONS.includes(snapshot.tags['cairn-function'] ?? '')) {
    throw new PermanentFunctionError(`snapshot ${snapshot.id} was not made by BackupData or CopyVolumeData, so it holds no archive to extract`);
  }
  if (artifactPathOf(snapshot.source.path) !== artifactPathOf(prefix)) {
    throw new PermanentFunctionError(`backup ${snapshot.id} is stored under ${snapshot.source.path}, not under backupArtifactPrefix ${artifactPathOf(prefix)}`);
  }
  return snapshot;
}
