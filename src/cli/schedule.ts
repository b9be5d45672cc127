import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseApplication } from '../application/spec.ts';
import type { ApplicationSource } from '../application/types.ts';
import { isApplicationName } from '../location/layout.ts';
import { createApplicationSchedules, describeSchedule, listApplicationSchedules, operateSchedules, ScheduleError, type ScheduleOperation } from '../schedule/schedules.ts';
import { parseRetention, parseTiming, ScheduleSpecError } from '../schedule/spec.ts';
import {
  isScheduleKind,
  OVERLAP_OPTIONS,
  SCHEDULE_KINDS,
  type ApplicationScheduleRequest,
  type OverlapOption,
  type ScheduleKind,
  type ScheduleState,
  type ScheduleTiming,
} from '../schedule/types.ts';
import { defineCommand, EXIT_FAILED, EXIT_OK, UsageError } from './io.ts';
import { connectClient, settingsFromFlags, TEMPORAL_FLAGS, TEMPORAL_FLAGS_HELP } from './temporal-flags.ts';

const HELP = `Usage: cairn schedule <create|list|describe|pause|resume|trigger|delete> [options]

Temporal Schedules for an application's backups, DR drills, retention and repository checks. Each is one
schedule named cairn-<app>-<kind> (kind: backup, drill, retire, verify) whose runs are named
cairn-<app>-<kind>-<scheduled time>. Temporal keeps them: they fire as long as a Cairn worker serves the task
queue. See docs/dr.md.

  cairn schedule create <app|file> (--cron <expr> | --every <duration>) [options]
      <app> is an Application the workers know (a file in their directories or a labelled ConfigMap);
      <file> is an Application spec, sent inline with every backup.
        --cron <expr>            backups on a cron expression, e.g. '0 2 * * *' (UTC unless --timezone)
        --every <duration>       backups at a fixed interval: 10s, 15m, 6h, 1d
        --drill <when>           also a DR drill: hourly, daily, weekly, monthly, a duration or a cron expression
        --retention <counts>     also a retire schedule: last=N,hourly=N,daily=N,weekly=N,monthly=N,yearly=N
        --retire <when>          when retention runs (default: with each backup)
        --verify <when>          also a repository check (kopia snapshot verify on a sample)
        --overlap <policy>       skip (default: a run due while the last still runs is skipped), buffer-one
                                 (it waits for the last one), allow-all
        --catchup-window <dur>   after an outage, take missed runs at most this late (default 1h; min 10s)
        --timezone <zone>        IANA zone the cron expressions are read in (e.g. Europe/Paris)
        --paused                 create the schedules paused
        --profile <name>         the location profile the runs use
        --service-account <ns/name>  who the runs act as, for workers that enforce authorization

  cairn schedule list [<app>]
      Cairn's schedules: id, timing, paused, next and last run.
  cairn schedule describe <app> [--kind <kind>]
      Each schedule in full: policies, counts of runs taken, skipped and missed, running and recent runs.
  cairn schedule pause <app> [--kind <kind>] [--note <text>]
  cairn schedule resume <app> [--kind <kind>] [--note <text>]
  cairn schedule delete <app> [--kind <kind>]
      Every schedule of the application, or only the kinds named (--kind repeatable). Runs already started
      are not touched.
  cairn schedule trigger <app> [--kind <kind>]
      Starts a run now (default kind: backup), under the schedule's overlap policy.

Options:
  -o, --output <format>  text (default) or json
${TEMPORAL_FLAGS_HELP}      --debug                stack traces of unexpected errors
  -h, --help             show this help

Exit status: 0 ok, 1 failed (Temporal unreachable, schedule exists already or does not exist), 2 usage error.
`;

const SUBCOMMANDS = ['create', 'list', 'describe', 'pause', 'resume', 'trigger', 'delete'] as const;

export const scheduleCommand = defineCommand(
  {
    name: 'schedule',
    help: HELP,
    flags: {
      ...TEMPORAL_FLAGS,
      cron: { type: 'string' },
      every: { type: 'string' },
      drill: { type: 'string' },
      retention: { type: 'string' },
      retire: { type: 'string' },
      verify: { type: 'string' },
      overlap: { type: 'string' },
      'catchup-window': { type: 'string' },
      timezone: { type: 'string' },
      paused: { type: 'boolean' },
      profile: { type: 'string' },
      'service-account': { type: 'string' },
      kind: { type: 'string', multiple: true },
      note: { type: 'string' },
    },
  },
  async ({ values, positionals, format }, io) => {
    const [sub, ...rest] = positionals;
    if (!sub || !(SUBCOMMANDS as readonly string[]).includes(sub)) {
      throw new UsageError(sub === undefined ? `name a subcommand: ${SUBCOMMANDS.join(', ')}` : `unknown subcommand "${sub}" (${SUBCOMMANDS.join(', ')})`);
    }
    const kinds = parseKinds(values.kind);

    if (sub === 'create') {
      if (rest.length !== 1) throw new UsageError('name one application (a name or a spec file)');
      const request = await createRequest(rest[0]!, values, settingsFromFlags(values).taskQueue);
      return withClient(values, async (client) => {
        const ids = await createApplicationSchedules(client, request);
        if (format === 'json') io.stdout(`${JSON.stringify({ application: request.application, schedules: ids }, null, 2)}\n`);
        else io.stdout(`${ids.map((id) => `created ${id}`).join('\n')}\n`);
        return EXIT_OK;
      });
    }

    if (sub === 'list') {
      if (rest.length > 1) throw new UsageError('name at most one application');
      const application = rest[0] === undefined ? undefined : checkName(rest[0]);
      return withClient(values, async (client) => {
        const schedules = await listApplicationSchedules(client, application);
        io.stdout(format === 'json' ? `${JSON.stringify({ schedules }, null, 2)}\n` : table(schedules));
        return EXIT_OK;
      });
    }

    if (rest.length !== 1) throw new UsageError('name one application');
    const application = checkName(rest[0]!);

    if (sub === 'describe') {
      return withClient(values, async (client) => {
        const described = (await Promise.all((kinds ?? SCHEDULE_KINDS).map((kind) => describeSchedule(client, application, kind)))).filter((s): s is ScheduleState => s !== undefined);
        if (described.length === 0) {
          io.stderr(`cairn schedule: application ${application} has no${kinds ? ` ${kinds.join('/')}` : ''} schedules\n`);
          return EXIT_FAILED;
        }
        io.stdout(format === 'json' ? `${JSON.stringify({ schedules: described }, null, 2)}\n` : described.map(details).join('\n'));
        return EXIT_OK;
      });
    }

    const operation = sub as ScheduleOperation;
    return withClient(values, async (client) => {
      const ids = await operateSchedules(client, application, operation, operation === 'trigger' ? (kinds ?? ['backup']) : kinds, values.note);
      const verb = { pause: 'paused', resume: 'resumed', trigger: 'triggered', delete: 'deleted' }[operation];
      io.stdout(format === 'json' ? `${JSON.stringify({ application, [verb]: ids }, null, 2)}\n` : `${ids.map((id) => `${verb} ${id}`).join('\n')}\n`);
      return EXIT_OK;
    });
  },
);

type Flags = {
  address?: string;
  namespace?: string;
  'task-queue'?: string;
  cron?: string;
  every?: string;
  drill?: string;
  retention?: string;
  retire?: string;
  verify?: string;
  overlap?: string;
  'catchup-window'?: string;
  timezone?: string;
  paused?: boolean;
  profile?: string;
  'service-account'?: string;
};

async function withClient(values: Flags, body: (client: Awaited<ReturnType<typeof connectClient>>['client']) => Promise<number>): Promise<number> {
  const { client, close } = await connectClient(settingsFromFlags(values));
  try {
    return await body(client);
  } catch (error) {
    if (error instanceof ScheduleError) throw new Error(error.message);
    throw error;
  } finally {
    await close();
  }
}

function checkName(name: string): string {
  if (!isApplicationName(name)) throw new UsageError(`"${name}" is not an application name (lower-case letters, digits, "-" and ".")`);
  return name;
}

function parseKinds(flags: string[] | undefined): ScheduleKind[] | undefined {
  if (!flags?.length) return undefined;
  return flags.map((kind) => {
    if (!isScheduleKind(kind)) throw new UsageError(`--kind must be one of ${SCHEDULE_KINDS.join(', ')}, got "${kind}"`);
    return kind;
  });
}

function specError<T>(build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof ScheduleSpecError) throw new UsageError(error.message);
    throw error;
  }
}

/** A name, or a spec file (validated here) whose `metadata.name` names the schedules and which every backup carries inline. */
async function applicationSource(reference: string): Promise<{ application: string; source: ApplicationSource }> {
  if (!existsSync(reference)) {
    if (/[/\\]|\.ya?ml$/.test(reference)) throw new UsageError(`no such file: ${reference}`);
    return { application: checkName(reference), source: { name: reference } };
  }
  const text = await readFile(reference, 'utf8');
  // Checked now, with file:line:column, rather than failing every night when the schedule fires.
  const spec = parseApplication(text, basename(reference));
  return { application: checkName(spec.metadata.name), source: { inline: text, file: basename(reference) } };
}

export async function createRequest(reference: string, values: Flags, taskQueue: string): Promise<ApplicationScheduleRequest> {
  if (values.cron && values.every) throw new UsageError('use --cron or --every, not both');
  if (!values.cron && !values.every) throw new UsageError('say when backups run: --cron <expr> or --every <duration>');
  if (values.retire && !values.retention) throw new UsageError('--retire needs --retention');
  if (values.overlap !== undefined && !(OVERLAP_OPTIONS as readonly string[]).includes(values.overlap)) {
    throw new UsageError(`--overlap must be one of ${OVERLAP_OPTIONS.join(', ')}, got "${values.overlap}"`);
  }
  const serviceAccount = values['service-account'];
  if (serviceAccount !== undefined && !/^[a-z0-9][-a-z0-9]*\/[a-z0-9][-a-z0-9.]*$/.test(serviceAccount)) {
    throw new UsageError(`--service-account must be <namespace>/<name>, got "${serviceAccount}"`);
  }
  const { application, source } = await applicationSource(reference);
  return specError(() => {
    const backup: ScheduleTiming = values.cron ? parseTiming(values.cron, '--cron') : parseTiming(values.every!, '--every');
    if (values.cron && 'every' in backup) throw new ScheduleSpecError(`--cron takes a cron expression; for a fixed interval use --every ${values.cron}`);
    if (values.every && !('every' in backup)) throw new ScheduleSpecError(`--every must be a duration like 10s, 15m, 6h or 1d, got "${values.every}"`);
    const request: ApplicationScheduleRequest = { application, source, taskQueue, backup };
    if (values.drill) request.drill = parseTiming(values.drill, '--drill');
    if (values.retention) request.retire = { timing: values.retire ? parseTiming(values.retire, '--retire') : backup, retention: parseRetention(values.retention) };
    if (values.verify) request.verify = parseTiming(values.verify, '--verify');
    if (values.overlap) request.overlap = values.overlap as OverlapOption;
    if (values['catchup-window']) request.catchupWindow = values['catchup-window'];
    if (values.timezone) request.timezone = values.timezone;
    if (values.paused) request.paused = true;
    if (values.profile) request.profile = values.profile;
    if (serviceAccount) request.requestedBy = { serviceAccount };
    return request;
  });
}

function table(schedules: ScheduleState[]): string {
  if (schedules.length === 0) return 'no Cairn schedules\n';
  const rows = schedules.map((s) => [s.scheduleId, s.spec.join(' + ') || '-', s.paused ? 'paused' : 'active', s.nextActionTimes[0] ?? '-', s.recentActions.at(-1)?.workflowId ?? '-']);
  const header = ['SCHEDULE', 'WHEN', 'STATE', 'NEXT', 'LAST RUN'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`;
  return line(header) + rows.map(line).join('');
}

function details(s: ScheduleState): string {
  const lines = [
    `${s.scheduleId}  (${s.kind}: starts ${s.workflowType})`,
    `  when:            ${s.spec.join(' + ') || '-'}${s.timezone ? ` (${s.timezone})` : ' (UTC)'}`,
    `  state:           ${s.paused ? 'paused' : 'active'}${s.note ? ` (${s.note})` : ''}`,
    `  overlap:         ${s.overlap ?? '-'}`,
    `  catch-up window: ${s.catchupWindowMs !== undefined ? `${Math.round(s.catchupWindowMs / 1000)}s` : '-'}`,
    `  runs taken:      ${s.numActionsTaken ?? '-'} (skipped for overlap: ${s.numActionsSkippedOverlap ?? '-'}, missed catch-up window: ${s.numActionsMissedCatchupWindow ?? '-'})`,
    `  running:         ${s.runningWorkflows?.join(', ') || '-'}`,
    `  next:            ${s.nextActionTimes.slice(0, 3).join(', ') || '-'}`,
    `  recent:`,
    ...(s.recentActions.length ? s.recentActions.map((a) => `    ${a.takenAt}  ${a.workflowId}`) : ['    -']),
  ];
  return `${lines.join('\n')}\n`;
}
