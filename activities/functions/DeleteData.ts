/**
 * DeleteData (Kanister's name and args): deletes the kopia snapshots named by `backupID` or `backupTag`
 * (Kanister's space-separated lists, or YAML lists), each stored under the matching `backupArtifactPrefix`
 * (one prefix for all, or one per item). A snapshot that is already gone counts as deleted; one stored under
 * another prefix is refused before anything is deleted. `reclaimSpace: true` then runs kopia's full
 * maintenance and reports what the repository shrank by as `spaceFreed` (kopia keeps deleted contents for
 * its safety margin, so space is often given back only by a later maintenance).
 */
import { repositoryBytes } from '../kopia/repository.ts';
import { artifactPathOf, deleteSnapshot, listSnapshotEntries, runFullMaintenance, type SnapshotEntry } from '../kopia/snapshots.ts';
import type { JsonValue } from '../../src/json.ts';
import { heartbeatEvery } from './data-stream.ts';
import { repositoryFor } from './exec-target.ts';
import { PermanentFunctionError, type CairnFunction } from './types.ts';

/** Kanister passes lists as space-separated strings (`strings.Fields`); Cairn also takes YAML lists. */
export function listArg(value: JsonValue | undefined): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.map(String).filter((item) => item !== '');
  return String(value).split(/\s+/).filter((item) => item !== '');
}

export const DeleteData: CairnFunction = {
  name: 'DeleteData',
  async run(context) {
    const { args, log, heartbeat } = context;
    const ids = listArg(args.backupID);
    const tags = listArg(args.backupTag);
    if ((ids.length === 0) === (tags.length === 0)) throw new PermanentFunctionError('give exactly one of backupID and backupTag');
    const items = ids.length > 0 ? ids : tags;
    const prefixes = listArg(args.backupArtifactPrefix);
    if (prefixes.length !== 1 && prefixes.length !== items.length) {
      throw new PermanentFunctionError(`backupArtifactPrefix has ${prefixes.length} entries for ${items.length} ${ids.length > 0 ? 'backupID' : 'backupTag'} entries: give one for all, or one for each`);
    }

    const repository = await repositoryFor(context);
    const all = await listSnapshotEntries(repository);
    const doomed: SnapshotEntry[] = [];
    items.forEach((item, index) => {
      const prefix = artifactPathOf(prefixes.length === 1 ? prefixes[0]! : prefixes[index]!);
      const matches = ids.length > 0 ? all.filter((s) => s.id === item) : all.filter((s) => s.tags.backupTag === item);
      if (matches.length === 0) log('backup already gone', { [ids.length > 0 ? 'backupID' : 'backupTag']: item });
      for (const snapshot of matches) {
        if (artifactPathOf(snapshot.source.path) !== prefix) {
          throw new PermanentFunctionError(`backup ${snapshot.id} is stored under ${snapshot.source.path}, not under backupArtifactPrefix ${prefix}; nothing was deleted`);
        }
        doomed.push(snapshot);
      }
    });

    const deleted: string[] = [];
    for (const snapshot of doomed) {
      if (await deleteSnapshot(repository, snapshot.id)) deleted.push(snapshot.id);
      heartbeat({ deleted: deleted.length, of: doomed.length });
    }
    let spaceFreed = 0;
    if (args.reclaimSpace === true) {
      const before = await repositoryBytes(repository);
      const stopBeating = heartbeatEvery(context, () => ({ deleted: deleted.length, maintenance: 'running' }));
      await runFullMaintenance(repository).finally(stopBeating);
      spaceFreed = Math.max(0, before - (await repositoryBytes(repository)));
    }
    return { deletedSnapshots: deleted, spaceFreed: `${spaceFreed} B` };
  },
};
