/**
 * planRetirement: reads an application's restore points from its location, applies the retention policy to
 * each series (src/retention/gfs.ts) and finds orphan snapshots — Cairn's snapshots that no manifest names
 * (left by a delete interrupted after its manifest went, or by a run that died before writing its manifest),
 * collected only once older than the grace period so a running backup's snapshots are never taken.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { checkApplication } from '../../src/location/layout.ts';
import type { RestorePoint } from '../../src/location/restore-point.ts';
import { planRetention, policyProblems } from '../../src/retention/gfs.ts';
import { DEFAULT_ORPHAN_GRACE_MS, type RetireInput, type RetirePlan, type RetentionSeries } from '../../src/retention/types.ts';
import { listSnapshotEntries } from '../kopia/snapshots.ts';
import { listRestorePoints } from '../location/restore-points.ts';
import { cairnMark, existingRepository, keepAlive, locationFor, namedStrings, ownedSnapshots, type RetentionDeps } from './catalog.ts';

/** Points of one series are comparable backups: same scope, same target, same blueprint. */
export function seriesKey(point: RestorePoint): string {
  return `${point.scope ?? 'component'} ${point.target} ${point.blueprint}`;
}

export function createPlanRetirement(deps: RetentionDeps) {
  return async function planRetirement(input: RetireInput): Promise<RetirePlan> {
    return keepAlive('plan', () => plan(deps, input));
  };
}

async function plan(deps: RetentionDeps, input: RetireInput): Promise<RetirePlan> {
  try {
    checkApplication(input.application);
  } catch (error) {
    throw ApplicationFailure.nonRetryable((error as Error).message, 'CairnError');
  }
  const problems = policyProblems(input.policy);
  if (problems.length) throw ApplicationFailure.nonRetryable(`invalid retention policy: ${problems.join('; ')}`, 'CairnError');
  const graceMs = input.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS;
  if (!Number.isFinite(graceMs) || graceMs < 0) throw ApplicationFailure.nonRetryable(`orphanGraceMs must be ≥ 0 (got ${graceMs})`, 'CairnError');

  const location = await locationFor(deps, input.profile);
  const listing = await listRestorePoints(location, { application: input.application });
  const bySeries = new Map<string, RestorePoint[]>();
  for (const point of listing.points) {
    const key = seriesKey(point);
    bySeries.set(key, [...(bySeries.get(key) ?? []), point]);
  }
  const series: RetentionSeries[] = [];
  const expiring = new Set<string>();
  for (const [key, points] of [...bySeries].sort(([a], [b]) => a.localeCompare(b))) {
    const decided = planRetention(
      points.map((point) => ({ id: point.id, time: point.startTime })),
      input.policy,
    );
    series.push({ key, ...decided });
    decided.expire.forEach((decision) => expiring.add(decision.id));
  }
  const expire = listing.points.filter((point) => expiring.has(point.id)).map((point) => ({ id: point.id, snapshotIDs: ownedSnapshots(point) }));

  const result: RetirePlan = { application: input.application, profile: location.profile.name, series, expire, orphans: [], youngOrphans: 0, problems: listing.problems };
  const repository = await existingRepository(location, input.application);
  // An unreadable manifest might name any snapshot: orphans are collected only when every manifest was read.
  if (!repository || listing.problems.length) return result;
  const named = namedStrings(listing.points);
  const cutoff = Date.now() - graceMs;
  for (const snapshot of await listSnapshotEntries(repository)) {
    const mark = cairnMark(snapshot);
    if (!mark || named.has(snapshot.id)) continue;
    if (new Date(snapshot.startTime).getTime() <= cutoff) result.orphans.push({ id: snapshot.id, startTime: snapshot.startTime, mark });
    else result.youngOrphans++;
  }
  return result;
}
