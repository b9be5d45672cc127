/**
 * Deleting restore points and their data. The manifest goes first: from that moment the point is no longer
 * listed, so a delete cut short never leaves a restore point whose data is half gone. Its kopia snapshots go
 * next (pinned or not: `snapshot delete` removes the manifest either way); one another remaining restore point
 * still names is kept. Every step is idempotent — a retried or repeated delete finishes the job — and a delete
 * interrupted between the two steps leaves orphans that the next retirement collects (plan.ts). The bytes go at
 * the next full maintenance (maintenance.ts).
 */
import { ApplicationFailure } from '@temporalio/activity';
import { checkApplication, restorePointKey } from '../../src/location/layout.ts';
import type { CollectOrphansInput, DeleteRestorePointInput, DeleteRestorePointResult } from '../../src/retention/types.ts';
import type { Repository } from '../kopia/repository.ts';
import { deleteSnapshot, listSnapshotEntries } from '../kopia/snapshots.ts';
import type { OpenedLocation } from '../location/location.ts';
import { listRestorePoints, readRestorePoint } from '../location/restore-points.ts';
import { beat, cairnMark, existingRepository, keepAlive, locationFor, namedStrings, ownedSnapshots, type RetentionDeps } from './catalog.ts';

export function createDeleteRestorePoint(deps: RetentionDeps) {
  return async function deleteRestorePointActivity(input: DeleteRestorePointInput): Promise<DeleteRestorePointResult> {
    try {
      checkApplication(input.application);
    } catch (error) {
      throw ApplicationFailure.nonRetryable((error as Error).message, 'CairnError');
    }
    return keepAlive('delete', async () => deleteRestorePoint(await locationFor(deps, input.profile), input.application, input.id, input.snapshotIDs));
  };
}

/**
 * Deletes one restore point: manifest, then the snapshots it owns (from the manifest when it is still there,
 * plus `knownSnapshots` for a retry that comes after the manifest went).
 */
export async function deleteRestorePoint(location: OpenedLocation, application: string, id: string, knownSnapshots: readonly string[] = []): Promise<DeleteRestorePointResult> {
  const point = await readRestorePoint(location, application, id);
  const owned = [...new Set([...knownSnapshots, ...(point ? ownedSnapshots(point) : [])])];
  if (point) await location.store.remove(restorePointKey(application, id));
  const result: DeleteRestorePointResult = { id, manifestRemoved: !!point, deletedSnapshots: [], sharedSnapshots: [] };
  beat({ restorePoint: id, manifestRemoved: true });
  if (owned.length === 0) return result;

  const repository = await existingRepository(location, application);
  if (!repository) return result;
  const remaining = await listRestorePoints(location, { application });
  if (remaining.problems.length) {
    // An unreadable manifest might name these snapshots: keep them (the next retirement collects them once it can read every manifest).
    result.sharedSnapshots = owned;
    return result;
  }
  const named = namedStrings(remaining.points);
  const present = new Set((await listSnapshotEntries(repository)).map((snapshot) => snapshot.id));
  for (const snapshotID of owned) {
    if (named.has(snapshotID)) result.sharedSnapshots.push(snapshotID);
    else if (present.has(snapshotID) && (await deleteSnapshot(repository, snapshotID))) result.deletedSnapshots.push(snapshotID);
    beat({ restorePoint: id, deleted: result.deletedSnapshots.length, of: owned.length });
  }
  return result;
}

export function createCollectOrphanSnapshots(deps: RetentionDeps) {
  return async function collectOrphanSnapshots(input: CollectOrphansInput): Promise<string[]> {
    return keepAlive('orphans', async () => {
      const location = await locationFor(deps, input.profile);
      const repository = await existingRepository(location, input.application);
      return repository ? collectOrphans(location, repository, input.snapshotIDs, input.orphanGraceMs) : [];
    });
  };
}

/**
 * Deletes the planned orphans that are still orphans now: checked again against the manifests and the grace
 * period at delete time, since a backup may have written its manifest since the plan was made.
 */
export async function collectOrphans(location: OpenedLocation, repository: Repository, snapshotIDs: readonly string[], graceMs: number): Promise<string[]> {
  if (snapshotIDs.length === 0) return [];
  const listing = await listRestorePoints(location, { application: repository.application });
  if (listing.problems.length) return [];
  const named = namedStrings(listing.points);
  const cutoff = Date.now() - graceMs;
  const byId = new Map((await listSnapshotEntries(repository)).map((snapshot) => [snapshot.id, snapshot]));
  const deleted: string[] = [];
  for (const id of snapshotIDs) {
    const snapshot = byId.get(id);
    if (!snapshot || !cairnMark(snapshot) || named.has(id) || new Date(snapshot.startTime).getTime() > cutoff) continue;
    if (await deleteSnapshot(repository, id)) deleted.push(id);
    beat({ orphansDeleted: deleted.length, of: snapshotIDs.length });
  }
  return deleted;
}
