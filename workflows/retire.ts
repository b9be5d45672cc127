/**
 * retireRestorePoints: enforces an application's retention policy. Plans (which restore points each series
 * keeps and why, which orphan snapshots are old enough to collect), deletes each expired restore point
 * (manifest first, then its snapshots), collects the orphans, then runs kopia's full maintenance so the bytes
 * actually leave the location. Every step is idempotent: a retried or re-run retirement finishes what an
 * interrupted one started. Deterministic workflow code: all I/O is in activities/retention/.
 */
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import { DEFAULT_ORPHAN_GRACE_MS, type RetentionActivities, type RetireInput, type RetireResult } from '../src/retention/types.ts';

const retry = { maximumAttempts: 5, initialInterval: '2 seconds', nonRetryableErrorTypes: ['CairnError'] };

const quick = proxyActivities<RetentionActivities>({ startToCloseTimeout: '5 minutes', heartbeatTimeout: '1 minute', retry });
const maintenance = proxyActivities<RetentionActivities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '1 minute',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry,
});

export async function retireRestorePoints(input: RetireInput): Promise<RetireResult> {
  const plan = await quick.planRetirement(input);
  const result: RetireResult = { application: input.application, dryRun: input.dryRun === true, plan, deleted: [], orphansDeleted: [] };
  if (input.dryRun) return result;
  const where = { application: input.application, ...(input.profile !== undefined ? { profile: input.profile } : {}) };
  // One at a time, oldest first: a retirement cut short has removed the oldest points, never a random subset.
  for (const point of [...plan.expire].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    result.deleted.push(await quick.deleteRestorePoint({ ...where, id: point.id, snapshotIDs: point.snapshotIDs }));
  }
  if (plan.orphans.length) {
    result.orphansDeleted = await quick.collectOrphanSnapshots({
      ...where,
      snapshotIDs: plan.orphans.map((orphan) => orphan.id),
      orphanGraceMs: input.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS,
    });
  }
  if (input.maintenance !== false) {
    result.maintenance = await maintenance.maintainRepository({ ...where, safety: input.maintenance?.safety ?? 'full' });
  }
  return result;
}
