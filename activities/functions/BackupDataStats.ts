/**
 * BackupDataStats (Kanister's name and args): what a backup holds, as Kanister's restic stats report it in
 * its default `restore-size` mode: `fileCount` (entries that are not directories) and `size` (bytes of file
 * contents, a number here where restic prints "1.2 MiB"), `mode`. For a BackupData or CopyVolumeData snapshot
 * the archive is read from kopia on the worker and counted as it streams, nothing staged; any other snapshot
 * (BackupStream, kando) counts kopia's own summary. `backupID` must be stored under `backupArtifactPrefix`.
 * Other restic modes (raw-data, files-by-contents, blobs-per-file) have no kopia counterpart and are refused.
 */
import { pipeline } from 'node:stream/promises';
import { kopiaOrThrow } from '../kopia/kopia.ts';
import { artifactPathOf, findSnapshot, openSnapshotFileReader } from '../kopia/snapshots.ts';
import { heartbeatEvery } from './data-stream.ts';
import { repositoryFor } from './exec-target.ts';
import { TAR_FUNCTIONS } from './RestoreData.ts';
import { TAR_FILE } from './tar-archive.ts';
import { TarStats } from './tar-stats.ts';
import { PermanentFunctionError, type CairnFunction } from './types.ts';

const MODE = 'restore-size';

export const BackupDataStats: CairnFunction = {
  name: 'BackupDataStats',
  async run(context) {
    const { args } = context;
    const mode = String(args.statsMode ?? MODE);
    if (mode !== MODE) throw new PermanentFunctionError(`statsMode "${mode}" is not supported: Cairn reports ${MODE} (restic's raw-data, files-by-contents and blobs-per-file have no kopia counterpart)`);
    const backupID = String(args.backupID);
    const repository = await repositoryFor(context);
    const snapshot = await findSnapshot(repository, backupID);
    if (!snapshot) throw new PermanentFunctionError(`no backup ${backupID} in repository ${repository.application}`);
    const prefix = artifactPathOf(String(args.backupArtifactPrefix));
    if (artifactPathOf(snapshot.source.path) !== prefix) {
      throw new PermanentFunctionError(`backup ${backupID} is stored under ${snapshot.source.path}, not under backupArtifactPrefix ${prefix}`);
    }
    if (!TAR_FUNCTIONS.includes(snapshot.tags['cairn-function'] ?? '')) {
      const summary = await kopiaSummary(repository.session, backupID);
      return { mode, fileCount: summary.files, size: summary.size };
    }
    const stats = new TarStats();
    const reader = openSnapshotFileReader(repository, snapshot, TAR_FILE);
    const stopBeating = heartbeatEvery(context, () => ({ files: stats.files, bytes: stats.bytes }));
    const abort = () => reader.process.kill('SIGKILL');
    context.signal.addEventListener('abort', abort, { once: true });
    try {
      await pipeline(reader.process.stdout!, stats);
      const { code, stderr } = await reader.done;
      if (code !== 0) throw new Error(`kopia could not read backup ${backupID} (exit ${code}): ${stderr}`);
    } finally {
      stopBeating();
      context.signal.removeEventListener('abort', abort);
    }
    return { mode, fileCount: stats.files, size: stats.bytes };
  },
};

async function kopiaSummary(session: Parameters<typeof kopiaOrThrow>[0], id: string): Promise<{ files: number; size: number }> {
  const manifests = JSON.parse((await kopiaOrThrow(session, ['snapshot', 'list', '--all', '--json'], 'snapshot list')) || '[]') as { id: string; rootEntry?: { summ?: { files?: number; symlinks?: number; size?: number } } }[];
  const summary = manifests.find((manifest) => manifest.id === id)?.rootEntry?.summ ?? {};
  return { files: (summary.files ?? 0) + (summary.symlinks ?? 0), size: summary.size ?? 0 };
}
