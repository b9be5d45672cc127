/**
 * planRetirement: reads an application's restore points from its location, applies the retention policy to
 * each series (src/retention/gfs.ts) and finds orphan snapshots — Cairn's snapshots that no manifest names
 * (left by a delete interrupted after its manifest went, or by a run that died before writing its manifest),
 * collected only once older than the grace period so a running backup's snapshots are never taken.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { RetentionPolicy } from '../../src/application/types.ts';
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
  if (input.policy) {
    const problems = policyProblems(input.policy);
    if (problems.length) throw ApplicationFailure.nonRetryable(`invalid retention policy: ${problems.join('; ')}`, 'CairnError');
  }
  const graceMs = input.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS;
  if (!Number.isFinite(graceMs) || graceMs < 0) throw ApplicationFailure.nonRetryable(`orphanGraceMs must be ≥ 0 (got ${graceMs})`, 'CairnError');

  const location = await locationFor(deps, input.profile);
  const listing = await listRestorePoints(location, { application: input.application });
  const { policy, policySource } = policyFor(input, listing.points);
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
      policy,
    );
    series.push({ key, ...decided });
    decided.expire.forEach((decision) => expiring.add(decision.id));
  }
  const expire = listing.points.filter((point) => expiring.has(point.id)).map((point) => ({ id: point.id, snapshotIDs: ownedSnapshots(point) }));

  const result: RetirePlan = { application: input.application, profile: location.profile.name, policy, policySource, series, expire, orphans: [], youngOrphans: 0, problems: listing.problems };
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

/** The input's policy, else the retention of the newest stored Application spec that declares one. */
export function policyFor(input: RetireInput, points: readonly RestorePoint[]): { policy: RetentionPolicy; policySource: string } {
  if (input.policy) return { policy: input.policy, policySource: 'input' };
  const declaring = [...points].reverse().find((point) => point.spec?.spec.retention);
  if (!declaring) {
    throw ApplicationFailure.nonRetryable(`no retention policy given, and no restore point of application ${input.application} stores an Application spec with spec.retention`, 'CairnError');
  }
  const policy = declaring.spec!.spec.retention!;
  const problems = policyProblems(policy);
  if (problems.length) throw ApplicationFailure.nonRetryable(`the retention of the Application spec stored in restore point ${declaring.id} is not usable: ${problems.join('; ')}`, 'CairnError');
  return { policy, policySource: `spec of restore point ${declaring.id}` };
}
