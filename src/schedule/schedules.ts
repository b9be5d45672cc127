/**
 * Cairn's schedules on Temporal (`client.schedule`): create an application's set, list, describe, pause,
 * resume, trigger now, delete. Temporal keeps the schedules and starts the workflows; nothing of Cairn needs to
 * be running for a schedule to fire except a worker to run what it starts.
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleDescription, type ScheduleSummary } from '@temporalio/client';
import { scheduleOptions } from './spec.ts';
import {
  SCHEDULE_ID_PREFIX,
  SCHEDULE_KINDS,
  SCHEDULE_MEMO_KEY,
  SCHEDULE_WORKFLOWS,
  isScheduleKind,
  scheduleId,
  type ApplicationScheduleRequest,
  type ScheduleKind,
  type ScheduleMemo,
  type ScheduleState,
} from './types.ts';

/** A failure a person can act on (the schedule exists already, or does not); the CLI prints it as is. */
export class ScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleError';
  }
}

/**
 * Creates every schedule of the request, or none: when one cannot be created (most often because it exists),
 * the ones this call created are deleted again so a retry starts from a clean slate.
 */
export async function createApplicationSchedules(client: Client, request: ApplicationScheduleRequest): Promise<string[]> {
  const created: string[] = [];
  for (const options of scheduleOptions(request)) {
    try {
      await client.schedule.create(options);
      created.push(options.scheduleId);
    } catch (error) {
      await Promise.all(created.map((id) => client.schedule.getHandle(id).delete().catch(() => undefined)));
      if (error instanceof ScheduleAlreadyRunning) {
        throw new ScheduleError(`schedule ${options.scheduleId} exists already; delete it first ('cairn schedule delete ${request.application}') or pick another application name`);
      }
      throw new ScheduleError(`cannot create schedule ${options.scheduleId}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return created;
}

function memoOf(memo: Record<string, unknown> | undefined): ScheduleMemo | undefined {
  const value = memo?.[SCHEDULE_MEMO_KEY] as Partial<ScheduleMemo> | undefined;
  if (!value || typeof value.application !== 'string' || typeof value.kind !== 'string' || !isScheduleKind(value.kind)) return undefined;
  return { application: value.application, kind: value.kind, timing: typeof value.timing === 'string' ? value.timing : '' };
}

function specText(memo: ScheduleMemo, spec: ScheduleSummary['spec']): string[] {
  if (memo.timing) return [memo.timing];
  return (spec?.intervals ?? []).map((interval) => `every ${Math.round(interval.every / 1000)}s`);
}

function stateOf(summary: ScheduleSummary | ScheduleDescription, memo: ScheduleMemo): ScheduleState {
  const state: ScheduleState = {
    scheduleId: summary.scheduleId,
    application: memo.application,
    kind: memo.kind,
    workflowType: summary.action?.workflowType ?? SCHEDULE_WORKFLOWS[memo.kind],
    spec: specText(memo, summary.spec),
    paused: summary.state.paused,
    nextActionTimes: summary.info.nextActionTimes.map((time) => time.toISOString()),
    recentActions: summary.info.recentActions.map((action) => ({
      scheduledAt: action.scheduledAt.toISOString(),
      takenAt: action.takenAt.toISOString(),
      workflowId: action.action.workflow.workflowId,
    })),
  };
  if (summary.spec?.timezone) state.timezone = summary.spec.timezone;
  if (summary.state.note) state.note = summary.state.note;
  return state;
}

/**
 * Cairn's schedules (those carrying its memo), of one application or all, sorted by id. Temporal lists
 * schedules through its visibility store, which may lag a create or delete by a moment.
 */
export async function listApplicationSchedules(client: Client, application?: string): Promise<ScheduleState[]> {
  const found: ScheduleState[] = [];
  for await (const summary of client.schedule.list()) {
    if (!summary.scheduleId.startsWith(SCHEDULE_ID_PREFIX)) continue;
    const memo = memoOf(summary.memo);
    if (!memo || (application !== undefined && memo.application !== application)) continue;
    found.push(stateOf(summary, memo));
  }
  return found.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

/** One schedule in full; undefined when there is none. Reads the schedule itself, so it never lags. */
export async function describeSchedule(client: Client, application: string, kind: ScheduleKind): Promise<ScheduleState | undefined> {
  const id = scheduleId(application, kind);
  let description: ScheduleDescription;
  try {
    description = await client.schedule.getHandle(id).describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return undefined;
    throw error;
  }
  const memo = memoOf(description.memo) ?? { application, kind, timing: '' };
  return {
    ...stateOf(description, memo),
    overlap: description.policies.overlap,
    catchupWindowMs: description.policies.catchupWindow,
    numActionsTaken: description.info.numActionsTaken,
    numActionsSkippedOverlap: description.info.numActionsSkippedOverlap,
    numActionsMissedCatchupWindow: description.info.numActionsMissedCatchupWindow,
    runningWorkflows: description.info.runningActions.map((action) => action.workflow.workflowId),
  };
}

/** The kinds of an application's schedules that exist (describe is read-your-writes, unlike list). */
export async function existingKinds(client: Client, application: string, kinds: readonly ScheduleKind[] = SCHEDULE_KINDS): Promise<ScheduleKind[]> {
  const present = await Promise.all(
    kinds.map(async (kind) => {
      try {
        await client.schedule.getHandle(scheduleId(application, kind)).describe();
        return kind;
      } catch (error) {
        if (error instanceof ScheduleNotFoundError) return undefined;
        throw error;
      }
    }),
  );
  return present.filter((kind): kind is ScheduleKind => kind !== undefined);
}

export type ScheduleOperation = 'pause' | 'resume' | 'trigger' | 'delete';

/**
 * Applies one operation to an application's schedules of the given kinds (all that exist when none are named).
 * `trigger` starts the action now, with the schedule's own overlap policy: a backup still running is not doubled.
 */
export async function operateSchedules(client: Client, application: string, operation: ScheduleOperation, kinds?: readonly ScheduleKind[], note?: string): Promise<string[]> {
  const targets = await existingKinds(client, application, kinds ?? SCHEDULE_KINDS);
  if (kinds?.length && targets.length < kinds.length) {
    const missing = kinds.filter((kind) => !targets.includes(kind)).map((kind) => scheduleId(application, kind));
    throw new ScheduleError(`no schedule ${missing.join(', ')} ('cairn schedule list ${application}' shows what exists)`);
  }
  if (targets.length === 0) throw new ScheduleError(`application ${application} has no schedules ('cairn schedule create ${application} ...' makes them)`);
  const ids = targets.map((kind) => scheduleId(application, kind));
  for (const id of ids) {
    const handle = client.schedule.getHandle(id);
    if (operation === 'pause') await handle.pause(note ?? 'paused with cairn schedule pause');
    else if (operation === 'resume') await handle.unpause(note ?? 'resumed with cairn schedule resume');
    else if (operation === 'trigger') await handle.trigger();
    else await handle.delete();
  }
  return ids;
}
