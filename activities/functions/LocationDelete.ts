/**
 * LocationDelete (Kanister's name and arg): deletes one artifact from the location. In Cairn's layout every
 * artifact is a kopia snapshot in the application's repository, so `artifact` is either
 * - a snapshot ID (32 hex digits, what BackupStream's `snapshotID` and BackupData's `backupID` are): that
 *   snapshot is deleted; or
 * - an artifact path (`bucket/path`, `s3://bucket/path`, `/path`; the scheme is ignored): every snapshot
 *   whose source path is that path or lies under it is deleted (a BackupData `backupArtifactPrefix`, a
 *   CopyVolumeData `dataArtifactPrefix`, a BackupStream `path`), like deleting an object-store prefix.
 * Nothing else is touched: not the repository, its key, nor restore-point manifests. What is already gone
 * is success. Space is given back by kopia's maintenance (DeleteData `reclaimSpace`), not here.
 */
import { deleteSnapshot, isUnderArtifactPath, listSnapshotEntries, artifactPathOf } from '../kopia/snapshots.ts';
import { repositoryFor } from './exec-target.ts';
import { PermanentFunctionError, type CairnFunction } from './types.ts';

const SNAPSHOT_ID = /^[0-9a-f]{32}$/;

export const LocationDelete: CairnFunction = {
  name: 'LocationDelete',
  async run(context) {
    const { args, log, heartbeat } = context;
    const artifact = String(args.artifact).trim();
    const repository = await repositoryFor(context);
    const all = await listSnapshotEntries(repository);
    let doomed;
    if (SNAPSHOT_ID.test(artifact)) {
      doomed = all.filter((snapshot) => snapshot.id === artifact);
    } else {
      const path = artifactPathOf(artifact.replace(/^[a-z][a-z0-9+.-]*:\/\//i, ''));
      if (path === '/') throw new PermanentFunctionError(`artifact "${artifact}" names the whole location; give a snapshot ID or a path under it`);
      doomed = all.filter((snapshot) => isUnderArtifactPath(snapshot.source.path, path));
    }
    if (doomed.length === 0) log('artifact already gone', { artifact });
    const deleted: string[] = [];
    for (const snapshot of doomed) {
      if (await deleteSnapshot(repository, snapshot.id)) deleted.push(snapshot.id);
      heartbeat({ deleted: deleted.length, of: doomed.length });
    }
    return { deletedSnapshots: deleted };
  },
};
