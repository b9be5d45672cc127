/**
 * Retention arithmetic (grandfather-father-son), pure and deterministic: which restore points a policy keeps,
 * and why. Workflow code may import it (no clock, no I/O).
 *
 * Rules, the same as restic's `forget` and kopia's policies: `keepLast` keeps the N newest points; `hourly: N`
 * keeps the newest point of each of the N most recent hours that have a point (and likewise `daily`, `weekly`
 * (ISO 8601 weeks, Monday first), `monthly`, `yearly`). Buckets are UTC. A point is kept when any rule keeps it,
 * and carries every reason. The newest point is always kept, whatever the policy says, so retention can never
 * empty a series.
 */
import type { RetentionPolicy } from '../application/types.ts';

export interface RetentionCandidate {
  id: string;
  /** ISO 8601 instant of the point (a restore point's start time). */
  time: string;
}

export interface RetentionDecision {
  id: string;
  time: string;
  /** `last 1/3`, `daily 2026-11-20`, `weekly 2026-W47`, `newest`; empty for expired points. */
  reasons: string[];
}

export interface RetentionPlan {
  /** Newest first. */
  keep: RetentionDecision[];
  /** Newest first. */
  expire: RetentionDecision[];
}

export const BUCKET_RULES = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
export type BucketRule = (typeof BUCKET_RULES)[number];

/** Problems of a policy (negative or fractional counts, nothing to keep); empty when it is usable. */
export function policyProblems(policy: RetentionPolicy): string[] {
  const problems: string[] = [];
  let any = false;
  for (const rule of ['keepLast', ...BUCKET_RULES] as const) {
    const value = policy[rule];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 0) problems.push(`${rule} must be a whole number ≥ 0 (got ${value})`);
    else if (value > 0) any = true;
  }
  if (!any && problems.length === 0) problems.push('the policy keeps nothing: give keepLast and/or hourly, daily, weekly, monthly, yearly');
  return problems;
}

/** The bucket a UTC instant falls in for a rule: `2026-11-20T07`, `2026-11-20`, `2026-W47`, `2026-11`, `2026`. */
export function bucketOf(rule: BucketRule, time: Date): string {
  const iso = time.toISOString();
  switch (rule) {
    case 'hourly':
      return iso.slice(0, 13);
    case 'daily':
      return iso.slice(0, 10);
    case 'weekly': {
      const { year, week } = isoWeek(time);
      return `${year}-W${String(week).padStart(2, '0')}`;
    }
    case 'monthly':
      return iso.slice(0, 7);
    case 'yearly':
      return iso.slice(0, 4);
  }
}

/** ISO 8601 week: the week with the year's first Thursday is week 1; weeks start on Monday. */
export function isoWeek(time: Date): { year: number; week: number } {
  const day = new Date(Date.UTC(time.getUTCFullYear(), time.getUTCMonth(), time.getUTCDate()));
  const weekday = day.getUTCDay() || 7; // Monday 1 … Sunday 7
  day.setUTCDate(day.getUTCDate() + 4 - weekday); // the Thursday of this week decides the year
  const year = day.getUTCFullYear();
  const week = Math.ceil(((day.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return { year, week };
}

/** Applies a policy to one series of points (any order in; newest first out). Throws on an unusable policy. */
export function planRetention(points: readonly RetentionCandidate[], policy: RetentionPolicy): RetentionPlan {
  const problems = policyProblems(policy);
  if (problems.length) throw new Error(`invalid retention policy: ${problems.join('; ')}`);
  const dated = points.map((point) => {
    const instant = new Date(point.time);
    if (Number.isNaN(instant.getTime())) throw new Error(`restore point ${point.id}: time "${point.time}" is not an ISO 8601 instant`);
    return { point, instant };
  });
  // Newest first; equal times are ordered by id so the same input always gives the same plan.
  dated.sort((a, b) => b.instant.getTime() - a.instant.getTime() || (a.point.id < b.point.id ? 1 : a.point.id > b.point.id ? -1 : 0));

  const reasons = dated.map(() => [] as string[]);
  const keepLast = policy.keepLast ?? 0;
  for (let index = 0; index < Math.min(keepLast, dated.length); index++) reasons[index]!.push(`last ${index + 1}/${keepLast}`);
  for (const rule of BUCKET_RULES) {
    const count = policy[rule] ?? 0;
    if (count === 0) continue;
    const seen = new Set<string>();
    dated.forEach(({ instant }, index) => {
      const bucket = bucketOf(rule, instant);
      // Newest first: the first point met in a bucket is that bucket's newest.
      if (seen.has(bucket) || seen.size >= count) return;
      seen.add(bucket);
      reasons[index]!.push(`${rule} ${bucket}`);
    });
  }
  if (dated.length && reasons[0]!.length === 0) reasons[0]!.push('newest');

  const plan: RetentionPlan = { keep: [], expire: [] };
  dated.forEach(({ point }, index) => {
    const decision = { id: point.id, time: point.time, reasons: reasons[index]! };
    (decision.reasons.length ? plan.keep : plan.expire).push(decision);
  });
  return plan;
}
