/**
 * Cairn's Temporal Schedules: one per application and kind (`cairn-<app>-<kind>`), each starting one workflow.
 * Pure types and constants, shared by the schedule client code, the CLI and the docs (docs/dr.md).
 */
import type { ApplicationSource, RetentionPolicy } from '../application/types.ts';
import type { RunRequester } from '../run/types.ts';

export const SCHEDULE_KINDS = ['backup', 'drill', 'retire', 'verify'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

/** The workflow each kind of schedule starts (export names of workflows/index.ts). */
export const SCHEDULE_WORKFLOWS: Record<ScheduleKind, string> = {
  backup: 'backupApplication',
  drill: 'drillApplication',
  retire: 'retireRestorePoints',
  verify: 'verifyRepository',
};

export const SCHEDULE_ID_PREFIX = 'cairn-';

/** Memo key on every Cairn schedule: tells Cairn's schedules from others in a shared Temporal namespace. */
export const SCHEDULE_MEMO_KEY = 'cairn';

export interface ScheduleMemo {
  application: string;
  kind: ScheduleKind;
  /** What was asked for (`0 2 * * *`, `every 10s`): Temporal describes cron only as compiled calendars. */
  timing: string;
}

/** `skip` (default): a run still going when the next is due makes that one skipped; `buffer-one` queues one. */
export const OVERLAP_OPTIONS = ['skip', 'buffer-one', 'allow-all'] as const;
export type OverlapOption = (typeof OVERLAP_OPTIONS)[number];

/** When a schedule fires: a cron expression (UTC unless a time zone is given) or a fixed interval. */
export type ScheduleTiming = { cron: string } | { every: string };

/** Everything `cairn schedule create` asks for; one Temporal Schedule per kind present. */
export interface ApplicationScheduleRequest {
  /** The Application's name: schedule ids, workflow ids and the location's repository key. */
  application: string;
  /** What backups load the spec from (a name the worker resolves, or the spec inline). */
  source: ApplicationSource;
  profile?: string;
  /** The task queue of the Cairn workers. */
  taskQueue: string;
  backup: ScheduleTiming;
  drill?: ScheduleTiming;
  /** Present when a retention policy is given: a retire schedule (default timing: the backup's). */
  retire?: { timing: ScheduleTiming; retention: RetentionPolicy };
  verify?: ScheduleTiming;
  overlap?: OverlapOption;
  /** How late a missed action may still be taken after an outage (`1h`, `30m`; default 1h). */
  catchupWindow?: string;
  /** IANA time zone the cron expressions are read in (default UTC). */
  timezone?: string;
  paused?: boolean;
  /** Who the scheduled runs act as (a ServiceAccount: schedules have no user of their own). */
  requestedBy?: RunRequester;
}

export const DEFAULT_CATCHUP_WINDOW = '1h';

/** One Cairn schedule as `list`/`describe` show it. */
export interface ScheduleState {
  scheduleId: string;
  application: string;
  kind: ScheduleKind;
  workflowType: string;
  /** Cron expressions and intervals, as text. */
  spec: string[];
  timezone?: string;
  paused: boolean;
  note?: string;
  overlap?: string;
  catchupWindowMs?: number;
  nextActionTimes: string[];
  recentActions: Array<{ scheduledAt: string; takenAt: string; workflowId: string }>;
  /** Only from describe. */
  numActionsTaken?: number;
  numActionsSkippedOverlap?: number;
  numActionsMissedCatchupWindow?: number;
  runningWorkflows?: string[];
}

export function scheduleId(application: string, kind: ScheduleKind): string {
  return `${SCHEDULE_ID_PREFIX}${application}-${kind}`;
}

export function isScheduleKind(value: string): value is ScheduleKind {
  return (SCHEDULE_KINDS as readonly string[]).includes(value);
}
