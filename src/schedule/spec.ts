/**
 * From what a person types (`--cron '0 2 * * *'`, `--every 10s`, `--drill weekly`, `--retention last=7,daily=7`)
 * to the Temporal Schedule options Cairn creates. Pure: unit-tested without Temporal; the server validates
 * cron expressions once more when the schedule is created.
 */
import { ScheduleOverlapPolicy, type ScheduleOptions, type ScheduleSpec } from '@temporalio/client';
import type { ApplicationBackupInput, DrillInput, RetentionPolicy } from '../application/types.ts';
import type { RetireInput, VerifyInput } from '../retention/types.ts';
import {
  DEFAULT_CATCHUP_WINDOW,
  SCHEDULE_MEMO_KEY,
  SCHEDULE_WORKFLOWS,
  scheduleId,
  type ApplicationScheduleRequest,
  type OverlapOption,
  type ScheduleKind,
  type ScheduleMemo,
  type ScheduleTiming,
} from './types.ts';

export class ScheduleSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleSpecError';
  }
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `10s`, `15m`, `1h30m`, `7d`: whole seconds at least (Temporal's intervals have second precision). */
export function parseScheduleDuration(text: string, flag: string): number {
  if (!/^(?:\d+[smhd])+$/.test(text)) throw new ScheduleSpecError(`${flag} must be a duration like 10s, 15m, 1h30m or 7d, got "${text}"`);
  let total = 0;
  for (const match of text.matchAll(/(\d+)([smhd])/g)) total += Number(match[1]) * UNIT_MS[match[2]!]!;
  if (total < 1000) throw new ScheduleSpecError(`${flag} must be at least 1s, got "${text}"`);
  return total;
}

/** Shorthands Temporal accepts for cron. */
const CRON_SHORTHANDS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];
const CRON_FIELD = /^[0-9A-Za-z*?/,#L-]+$/;

export function checkCron(expression: string, flag: string): string {
  const text = expression.trim();
  if (CRON_SHORTHANDS.includes(text)) return text;
  const fields = text.split(/\s+/);
  if (fields.length < 5 || fields.length > 7 || !fields.every((field) => CRON_FIELD.test(field))) {
    throw new ScheduleSpecError(`${flag} must be a cron expression of 5 fields (minute hour day-of-month month day-of-week), e.g. '0 2 * * *', or one of ${CRON_SHORTHANDS.join(', ')}; got "${expression}"`);
  }
  return text;
}

/**
 * The value of `--drill`, `--verify`, `--retire`: a word (`hourly`, `daily`, `weekly`, `monthly`), a duration
 * (`every 6h` or just `6h`: a fixed interval), or a cron expression.
 */
export function parseTiming(value: string, flag: string): ScheduleTiming {
  const text = value.trim();
  if (/^(hourly|daily|weekly|monthly|yearly)$/.test(text)) return { cron: `@${text}` };
  const every = /^(?:every\s+)?((?:\d+[smhd])+)$/.exec(text);
  if (every) {
    parseScheduleDuration(every[1]!, flag);
    return { every: every[1]! };
  }
  return { cron: checkCron(text, flag) };
}

export function timingSpec(timing: ScheduleTiming, timezone?: string): ScheduleSpec {
  if ('every' in timing) return { intervals: [{ every: parseScheduleDuration(timing.every, '--every') }] };
  return { cronExpressions: [checkCron(timing.cron, '--cron')], ...(timezone ? { timezone } : {}) };
}

export function timingText(timing: ScheduleTiming): string {
  return 'every' in timing ? `every ${timing.every}` : timing.cron;
}

const OVERLAP: Record<OverlapOption, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
};

export function overlapPolicy(option: OverlapOption | undefined): ScheduleOverlapPolicy {
  return OVERLAP[option ?? 'skip'];
}

const RETENTION_KEYS: Record<string, keyof RetentionPolicy> = {
  last: 'keepLast',
  keepLast: 'keepLast',
  hourly: 'hourly',
  daily: 'daily',
  weekly: 'weekly',
  monthly: 'monthly',
  yearly: 'yearly',
};

/** `last=7,daily=7,weekly=4,monthly=12` → a RetentionPolicy; at least one count, each a positive integer. */
export function parseRetention(text: string): RetentionPolicy {
  const policy: RetentionPolicy = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^([A-Za-z]+)=(\d+)$/.exec(part);
    const key = match ? RETENTION_KEYS[match[1]!] : undefined;
    if (!match || !key) throw new ScheduleSpecError(`--retention takes last=N, hourly=N, daily=N, weekly=N, monthly=N, yearly=N separated by commas; got "${part}"`);
    const count = Number(match[2]);
    if (count < 1) throw new ScheduleSpecError(`--retention ${match[1]} must be at least 1`);
    policy[key] = count;
  }
  if (Object.keys(policy).length === 0) throw new ScheduleSpecError('--retention needs at least one count, e.g. last=7');
  return policy;
}

/** The workflow input each kind of schedule starts its workflow with. */
export function actionArgs(request: ApplicationScheduleRequest, kind: ScheduleKind): unknown[] {
  const common = { ...(request.profile ? { profile: request.profile } : {}), ...(request.requestedBy ? { requestedBy: request.requestedBy } : {}) };
  switch (kind) {
    case 'backup':
      return [{ application: request.source, ...common } satisfies ApplicationBackupInput];
    case 'drill':
      return [{ application: request.application, ...common } satisfies DrillInput];
    case 'retire':
      return [{ application: request.application, policy: request.retire!.retention, ...common } satisfies RetireInput];
    case 'verify':
      return [{ application: request.application, ...common } satisfies VerifyInput];
  }
}

function timingOf(request: ApplicationScheduleRequest, kind: ScheduleKind): ScheduleTiming | undefined {
  if (kind === 'backup') return request.backup;
  if (kind === 'retire') return request.retire?.timing;
  return request[kind];
}

/** The Temporal Schedules a request makes, backup first. */
export function scheduleOptions(request: ApplicationScheduleRequest): ScheduleOptions[] {
  const catchupWindow = parseScheduleDuration(request.catchupWindow ?? DEFAULT_CATCHUP_WINDOW, '--catchup-window');
  const kinds: ScheduleKind[] = ['backup', 'drill', 'retire', 'verify'];
  return kinds.flatMap((kind): ScheduleOptions[] => {
    const timing = timingOf(request, kind);
    if (!timing) return [];
    const id = scheduleId(request.application, kind);
    const memo: ScheduleMemo = { application: request.application, kind, timing: timingText(timing) };
    return [
      {
        scheduleId: id,
        spec: timingSpec(timing, request.timezone),
        action: {
          type: 'startWorkflow',
          workflowType: SCHEDULE_WORKFLOWS[kind],
          // Temporal appends the scheduled time: `cairn-shop-backup-2026-11-22T02:00:00Z`.
          workflowId: id,
          taskQueue: request.taskQueue,
          args: actionArgs(request, kind),
        },
        policies: { overlap: overlapPolicy(request.overlap), catchupWindow, pauseOnFailure: false },
        memo: { [SCHEDULE_MEMO_KEY]: memo },
        state: { paused: request.paused ?? false, ...(request.paused ? { note: 'created paused' } : {}) },
      },
    ];
  });
}
