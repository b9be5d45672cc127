import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bucketOf, isoWeek, planRetention, policyProblems, type RetentionCandidate } from '../../../src/retention/gfs.ts';
import { samplePoints } from '../../../activities/retention/verify.ts';

/** Points at the given instants; ids say when, so failures read plainly. */
function points(...times: string[]): RetentionCandidate[] {
  return times.map((time) => ({ id: time, time }));
}
const kept = (plan: ReturnType<typeof planRetention>) => plan.keep.map((d) => d.id);
const expired = (plan: ReturnType<typeof planRetention>) => plan.expire.map((d) => d.id);

describe('retention: keepLast', () => {
  it('keeps exactly the N newest, whatever order the points come in', () => {
    const input = points('2026-01-03T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-05T00:00:00Z', '2026-01-02T00:00:00Z', '2026-01-04T00:00:00Z');
    const plan = planRetention(input, { keepLast: 2 });
    assert.deepEqual(kept(plan), ['2026-01-05T00:00:00Z', '2026-01-04T00:00:00Z']);
    assert.deepEqual(expired(plan), ['2026-01-03T00:00:00Z', '2026-01-02T00:00:00Z', '2026-01-01T00:00:00Z']);
    assert.deepEqual(plan.keep[0]!.reasons, ['last 1/2']);
  });

  it('keeps everything when there are fewer points than N, and nothing is expired', () => {
    const plan = planRetention(points('2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'), { keepLast: 5 });
    assert.equal(plan.keep.length, 2);
    assert.equal(plan.expire.length, 0);
  });

  it('an empty series plans nothing', () => {
    assert.deepEqual(planRetention([], { keepLast: 1 }), { keep: [], expire: [] });
  });
});

describe('retention: buckets', () => {
  it('daily keeps the newest point of each of the last N days that have one, across a day boundary in UTC', () => {
    const input = points('2026-03-01T23:59:59Z', '2026-03-02T00:00:00Z', '2026-03-02T12:00:00Z', '2026-03-04T08:00:00Z', '2026-03-04T01:00:00Z');
    const plan = planRetention(input, { daily: 2 });
    // Days with points: 03-04 (newest 08:00), 03-02 (newest 12:00); 03-01 is the third day and expires.
    assert.deepEqual(kept(plan), ['2026-03-04T08:00:00Z', '2026-03-02T12:00:00Z']);
    assert.deepEqual(plan.keep.map((d) => d.reasons), [['daily 2026-03-04'], ['daily 2026-03-02']]);
  });

  it('daily buckets are UTC: a time with an offset counts on its UTC day', () => {
    // 2026-03-02T01:00+02:00 is 2026-03-01T23:00Z: the same UTC day as the 10:00Z point, which is newer.
    const plan = planRetention([{ id: 'offset', time: '2026-03-02T01:00:00+02:00' }, { id: 'utc', time: '2026-03-01T10:00:00Z' }], { daily: 5 });
    assert.deepEqual(kept(plan), ['offset']);
    assert.deepEqual(expired(plan), ['utc']);
  });

  it('hourly splits at the hour', () => {
    const plan = planRetention(points('2026-05-05T10:59:59.999Z', '2026-05-05T11:00:00Z', '2026-05-05T11:30:00Z', '2026-05-05T09:00:00Z'), { hourly: 2 });
    assert.deepEqual(kept(plan), ['2026-05-05T11:30:00Z', '2026-05-05T10:59:59.999Z']);
  });

  it('weekly uses ISO weeks starting on Monday, also across a year boundary', () => {
    // 2026-12-31 is a Thursday (2026-W53); 2027-01-03 is a Sunday, still 2026-W53; 2027-01-04 is Monday of 2027-W01.
    assert.equal(bucketOf('weekly', new Date('2026-12-31T12:00:00Z')), '2026-W53');
    assert.equal(bucketOf('weekly', new Date('2027-01-03T23:59:59Z')), '2026-W53');
    assert.equal(bucketOf('weekly', new Date('2027-01-04T00:00:00Z')), '2027-W01');
    // 2024-12-30 (Monday) belongs to 2025-W01.
    assert.deepEqual(isoWeek(new Date('2024-12-30T00:00:00Z')), { year: 2025, week: 1 });
    const plan = planRetention(points('2026-12-29T00:00:00Z', '2027-01-03T23:59:59Z', '2027-01-04T00:00:00Z', '2026-12-20T00:00:00Z'), { weekly: 2 });
    assert.deepEqual(kept(plan), ['2027-01-04T00:00:00Z', '2027-01-03T23:59:59Z']);
    assert.deepEqual(expired(plan), ['2026-12-29T00:00:00Z', '2026-12-20T00:00:00Z']);
  });

  it('monthly and yearly split at month and year ends', () => {
    const input = points('2025-12-31T23:59:59Z', '2026-01-01T00:00:00Z', '2026-01-31T23:00:00Z', '2026-02-01T00:00:00Z', '2024-06-01T00:00:00Z');
    assert.deepEqual(kept(planRetention(input, { monthly: 2 })), ['2026-02-01T00:00:00Z', '2026-01-31T23:00:00Z']);
    assert.deepEqual(kept(planRetention(input, { yearly: 3 })), ['2026-02-01T00:00:00Z', '2025-12-31T23:59:59Z', '2024-06-01T00:00:00Z']);
  });
});

describe('retention: combined rules', () => {
  it('a point kept by several rules carries every reason, and the union is kept', () => {
    const input = points('2026-06-01T10:00:00Z', '2026-06-02T10:00:00Z', '2026-06-03T09:00:00Z', '2026-06-03T10:00:00Z', '2026-05-15T10:00:00Z', '2026-04-10T10:00:00Z');
    const plan = planRetention(input, { keepLast: 2, daily: 3, monthly: 3 });
    assert.deepEqual(kept(plan), ['2026-06-03T10:00:00Z', '2026-06-03T09:00:00Z', '2026-06-02T10:00:00Z', '2026-06-01T10:00:00Z', '2026-05-15T10:00:00Z', '2026-04-10T10:00:00Z']);
    assert.deepEqual(plan.keep[0]!.reasons, ['last 1/2', 'daily 2026-06-03', 'monthly 2026-06']);
    assert.deepEqual(plan.keep[1]!.reasons, ['last 2/2']);
    assert.deepEqual(plan.keep[4]!.reasons, ['monthly 2026-05']);
  });

  it('a long daily history under daily 7 + weekly 4 + monthly 2 keeps the expected set and nothing else', () => {
    // One point a day at 02:00 from 2026-01-01 to 2026-03-15 (Sunday).
    const input: RetentionCandidate[] = [];
    for (let day = new Date('2026-01-01T02:00:00Z'); day <= new Date('2026-03-15T02:00:00Z'); day = new Date(day.getTime() + 86_400_000)) input.push({ id: day.toISOString().slice(0, 10), time: day.toISOString() });
    const plan = planRetention(input, { daily: 7, weekly: 4, monthly: 2 });
    // daily: 03-09..03-15; weekly (Sunday ends a week): 03-15 (W11), 03-08 (W10), 03-01 (W09), 02-22 (W08); monthly: 03-15, 02-28.
    assert.deepEqual(kept(plan).sort(), ['2026-02-22', '2026-02-28', '2026-03-01', '2026-03-08', '2026-03-09', '2026-03-10', '2026-03-11', '2026-03-12', '2026-03-13', '2026-03-14', '2026-03-15']);
    assert.equal(plan.keep.length + plan.expire.length, input.length);
  });
});

describe('retention: guarantees', () => {
  it('the newest point is always kept, even by a policy whose rules all keep older points', () => {
    // yearly: 1 keeps the newest of the year: the newest point. Any policy with a rule keeps it; the safeguard says "newest" if none would.
    const plan = planRetention(points('2026-01-01T00:00:00Z', '2025-01-01T00:00:00Z'), { yearly: 1 });
    assert.deepEqual(kept(plan), ['2026-01-01T00:00:00Z']);
    for (const policy of [{ keepLast: 1 }, { hourly: 1 }, { daily: 1 }, { weekly: 1 }, { monthly: 1 }, { yearly: 1 }]) {
      const many = points('2026-02-03T04:05:06Z', '2026-02-03T04:05:05Z', '2020-01-01T00:00:00Z');
      assert.equal(planRetention(many, policy).keep[0]!.id, '2026-02-03T04:05:06Z', JSON.stringify(policy));
    }
  });

  it('is deterministic: the same points in any order give the same plan; equal times are ordered by id', () => {
    const input = [
      { id: 'b', time: '2026-01-01T00:00:00Z' },
      { id: 'a', time: '2026-01-01T00:00:00Z' },
      { id: 'c', time: '2026-01-01T00:00:00Z' },
      { id: 'old', time: '2025-01-01T00:00:00Z' },
    ];
    const first = planRetention(input, { keepLast: 1, daily: 1 });
    for (const order of [[...input].reverse(), [input[2]!, input[0]!, input[3]!, input[1]!]]) assert.deepEqual(planRetention(order, { keepLast: 1, daily: 1 }), first);
    assert.deepEqual(kept(first), ['c']);
  });

  it('refuses a policy that keeps nothing or has bad counts, and a point without a valid time', () => {
    assert.deepEqual(policyProblems({}), ['the policy keeps nothing: give keepLast and/or hourly, daily, weekly, monthly, yearly']);
    assert.deepEqual(policyProblems({ keepLast: 0, daily: 0 }).length, 1);
    assert.match(policyProblems({ keepLast: -1 })[0]!, /keepLast must be a whole number/);
    assert.match(policyProblems({ daily: 1.5 })[0]!, /daily must be a whole number/);
    assert.throws(() => planRetention(points('2026-01-01T00:00:00Z'), {}), /keeps nothing/);
    assert.throws(() => planRetention([{ id: 'x', time: 'yesterday' }], { keepLast: 1 }), /restore point x: time "yesterday"/);
  });
});

describe('verify sampling', () => {
  it('takes the newest always and spreads the rest over the older points', () => {
    const all = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9'];
    assert.deepEqual(samplePoints(all, 1), ['p9']);
    assert.deepEqual(samplePoints(all, 3), ['p0', 'p4', 'p9']);
    assert.deepEqual(samplePoints(all, 20), all);
    assert.equal(new Set(samplePoints(all, 5)).size, 5);
  });
});
