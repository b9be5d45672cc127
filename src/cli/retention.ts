import type { RetentionPolicy } from '../application/types.ts';
import { innermostMessage } from '../diagnostics.ts';
import { parseDuration } from '../duration.ts';
import { isApplicationName } from '../location/layout.ts';
import { policyProblems } from '../retention/gfs.ts';
import type { MaintenanceSafety, RetireInput, RetireResult } from '../retention/types.ts';
import { workflowUrl } from '../temporal-config.ts';
import { defineCommand, EXIT_FAILED, EXIT_OK, UsageError } from './io.ts';
import { requesterOf } from './requester.ts';
import { connectClient, settingsFromFlags, TEMPORAL_FLAGS, TEMPORAL_FLAGS_HELP } from './temporal-flags.ts';

const HELP = `Usage: cairn retention apply <app> [--keep-last N] [--hourly N] [--daily N] [--weekly N] [--monthly N] [--yearly N] [--dry-run]

Enforces a retention policy on an application's restore points through the retireRestorePoints workflow:
plans which points each series keeps (keep the N newest and/or the newest of each of the last N hours, days,
ISO weeks, months, years, in UTC; the newest point is always kept), deletes each expired restore point —
its manifest first, then its kopia snapshots —, collects Cairn snapshots no manifest names once older than
the grace period (an interrupted delete's, a dead run's), then runs kopia's full maintenance so the space
is given back. A series is the points of one scope, target and blueprint. See docs/retention.md.

Options:
      --keep-last <N>           keep the N newest restore points (no count given: the spec.retention of
                                the Application spec stored in the newest restore point)
      --hourly/--daily/--weekly/--monthly/--yearly <N>
                                keep the newest point of each of the last N hours/days/weeks/months/years
      --dry-run                 print the plan (what is kept and why, what would go); delete nothing
      --orphan-grace <duration> leave unreferenced snapshots younger than this (default 24h): a running
                                backup's snapshots have no manifest until it ends
      --no-maintenance          skip kopia maintenance (space comes back at the next one)
      --maintenance-safety <s>  full (default) or none (drops unreferenced data at once: only when nothing
                                else writes to the repository)
      --profile <name>          the location profile (default: the embedded location)
      --id <workflowId>         choose the workflow ID (default: cairn-<app>-retire-<time>)
  -o, --output <format>         text (default) or json (the workflow's result)
${TEMPORAL_FLAGS_HELP}      --debug                   stack traces of unexpected errors
  -h, --help                    show this help

Exit status: 0 done (or planned), 1 the workflow failed, 2 usage error.
`;

const COUNT_FLAGS = { 'keep-last': 'keepLast', hourly: 'hourly', daily: 'daily', weekly: 'weekly', monthly: 'monthly', yearly: 'yearly' } as const;

export const retentionCommand = defineCommand(
  {
    name: 'retention',
    help: HELP,
    flags: {
      ...TEMPORAL_FLAGS,
      'keep-last': { type: 'string' },
      hourly: { type: 'string' },
      daily: { type: 'string' },
      weekly: { type: 'string' },
      monthly: { type: 'string' },
      yearly: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'orphan-grace': { type: 'string' },
      'no-maintenance': { type: 'boolean' },
      'maintenance-safety': { type: 'string' },
      profile: { type: 'string' },
      id: { type: 'string' },
    },
  },
  async ({ values, positionals, format }, io) => {
    const [sub, application, ...rest] = positionals;
    if (sub !== 'apply') throw new UsageError(sub === undefined ? 'name a subcommand: apply' : `unknown subcommand "${sub}" (apply)`);
    if (application === undefined || rest.length) throw new UsageError('name exactly one application');
    if (!isApplicationName(application)) throw new UsageError(`"${application}" is not an application name`);
    const policy: RetentionPolicy = {};
    for (const [flag, rule] of Object.entries(COUNT_FLAGS)) {
      const text = values[flag as keyof typeof COUNT_FLAGS];
      if (text === undefined) continue;
      if (!/^\d+$/.test(text)) throw new UsageError(`--${flag} takes a whole number, got "${text}"`);
      policy[rule] = Number(text);
    }
    const given = Object.keys(policy).length > 0;
    const problems = given ? policyProblems(policy) : [];
    if (problems.length) throw new UsageError(problems.join('; ').replace(/keepLast/g, '--keep-last'));
    let orphanGraceMs: number | undefined;
    if (values['orphan-grace'] !== undefined) {
      orphanGraceMs = parseDuration(values['orphan-grace']);
      if (orphanGraceMs === undefined) throw new UsageError(`--orphan-grace takes a duration such as 24h or 90m, got "${values['orphan-grace']}"`);
    }
    const safety = values['maintenance-safety'];
    if (safety !== undefined && safety !== 'full' && safety !== 'none') throw new UsageError(`--maintenance-safety is full or none, got "${safety}"`);
    if (safety !== undefined && values['no-maintenance']) throw new UsageError('--maintenance-safety and --no-maintenance exclude each other');

    const settings = settingsFromFlags(values);
    const requester = await requesterOf('retention', io);
    const input: RetireInput = {
      application,
      ...(given ? { policy } : {}),
      ...(values.profile ? { profile: values.profile } : {}),
      ...(values['dry-run'] ? { dryRun: true } : {}),
      ...(orphanGraceMs !== undefined ? { orphanGraceMs } : {}),
      ...(values['no-maintenance'] ? { maintenance: false as const } : safety ? { maintenance: { safety: safety as MaintenanceSafety } } : {}),
      ...requester,
    };
    const workflowId = values.id ?? `cairn-${application}-retire-${new Date().toISOString().replace(/[-:.]/g, '')}`;
    const { client, close } = await connectClient(settings);
    try {
      const handle = await client.workflow.start('retireRestorePoints', { taskQueue: settings.taskQueue, workflowId, args: [input] });
      const url = workflowUrl(settings, workflowId);
      io.stderr(`started ${workflowId}${url ? `  ${url}` : ''}\n`);
      let result: RetireResult;
      try {
        result = (await handle.result()) as RetireResult;
      } catch (error) {
        io.stderr(`cairn retention: ${workflowId} failed: ${innermostMessage(error)}\n`);
        return EXIT_FAILED;
      }
      io.stdout(format === 'json' ? `${JSON.stringify({ workflowId, ...result }, null, 2)}\n` : describeRetirement(result));
      return EXIT_OK;
    } finally {
      await close();
    }
  },
);

export function describeRetirement(result: RetireResult): string {
  const { plan } = result;
  const rules = Object.entries(plan.policy).map(([rule, count]) => `${rule} ${count}`).join(', ');
  const lines = [`retention of ${result.application} in profile ${plan.profile}${result.dryRun ? ' (dry run: nothing deleted)' : ''}`, `  policy: ${rules} (from ${plan.policySource})`];
  if (plan.series.length === 0) lines.push('  no restore points');
  for (const series of plan.series) {
    lines.push(`  series ${series.key}: keep ${series.keep.length}, expire ${series.expire.length}`);
    for (const decision of series.keep) lines.push(`    keep    ${decision.id}  ${decision.reasons.join(', ')}`);
    for (const decision of series.expire) lines.push(`    ${result.dryRun ? 'expire ' : 'deleted'} ${decision.id}`);
  }
  const snapshots = result.deleted.reduce((total, d) => total + d.deletedSnapshots.length, 0);
  if (!result.dryRun) lines.push(`  deleted ${result.deleted.length} restore point(s), ${snapshots} snapshot(s)`);
  lines.push(`  orphan snapshots: ${plan.orphans.length} past the grace period${result.dryRun ? '' : ` (${result.orphansDeleted.length} deleted)`}, ${plan.youngOrphans} younger (left alone)`);
  for (const problem of plan.problems) lines.push(`  unreadable manifest (kept; orphans not collected): ${problem}`);
  if (result.maintenance) {
    const m = result.maintenance;
    lines.push(`  maintenance: repository ${m.storedBytesBefore} → ${m.storedBytesAfter} bytes in ${(m.durationMs / 1000).toFixed(1)}s`);
  }
  return `${lines.join('\n')}\n`;
}
