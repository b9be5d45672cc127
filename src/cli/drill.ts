import { ApplicationFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { DrillInput, DrillReport } from '../application/types.ts';
import { innermostMessage } from '../diagnostics.ts';
import { isApplicationName } from '../location/layout.ts';
import { RESTORE_POINT_ID } from '../location/restore-point.ts';
import { workflowUrl } from '../temporal-config.ts';
import { defineCommand, EXIT_FAILED, EXIT_OK, UsageError, type CommandIO } from './io.ts';
import { requesterOf } from './requester.ts';
import { connectClient, settingsFromFlags, TEMPORAL_FLAGS, TEMPORAL_FLAGS_HELP } from './temporal-flags.ts';

const HELP = `Usage: cairn drill <app> [--restore-point <id>] [--keep] [--output json]

A DR drill: restores the application's latest restore point (or the one named) into an isolated namespace
<source namespace>-drill-<id> (labelled cairn.io/drill, deny-all NetworkPolicies created before anything is
restored; LoadBalancer/NodePort Services become ClusterIP, Ingresses get an unserved class and drill hosts),
waits for every component to be ready and runs their blueprints' validate actions, then deletes the
namespace. The source is never written to: the restore refuses any object that exists, and the drill
compares the source's resourceVersions before and after. Prints the report: RTO, each check, whether the
data was verified, whether the namespace was cleaned up. See docs/dr.md.

Options:
      --restore-point <id>   the restore point to drill (default: the latest of the application)
      --suffix <name>        the drill namespace's suffix (default: drill-<8 characters of the run id>)
      --keep                 leave the drill namespace for inspection (delete it yourself afterwards)
      --profile <name>       the location profile (default: the embedded location)
      --id <workflowId>      choose the workflow ID (default: drill-<app>-<time>)
  -o, --output <format>      text (default) or json (the report)
${TEMPORAL_FLAGS_HELP}      --debug                stack traces of unexpected errors
  -h, --help                 show this help

Exit status: 0 the drill passed, 1 it failed (the report says which check) or could not run, 2 usage error.
`;

export const drillCommand = defineCommand(
  {
    name: 'drill',
    help: HELP,
    flags: { ...TEMPORAL_FLAGS, 'restore-point': { type: 'string' }, suffix: { type: 'string' }, keep: { type: 'boolean' }, profile: { type: 'string' }, id: { type: 'string' } },
  },
  async ({ values, positionals, format }, io) => {
    if (positionals.length !== 1) throw new UsageError('name exactly one application');
    const application = positionals[0]!;
    if (!isApplicationName(application)) throw new UsageError(`"${application}" is not an application name`);
    const restorePoint = values['restore-point'];
    if (restorePoint !== undefined && !RESTORE_POINT_ID.test(restorePoint)) throw new UsageError(`--restore-point "${restorePoint}" is not a restore point id (cairn restore-points list shows them)`);
    if (values.suffix !== undefined && !/^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/.test(values.suffix)) throw new UsageError(`--suffix must be a DNS label of at most 32 characters, got "${values.suffix}"`);

    const settings = settingsFromFlags(values);
    const requester = await requesterOf('drill', io);
    const input: DrillInput = {
      application,
      ...(restorePoint ? { restorePoint } : {}),
      ...(values.profile ? { profile: values.profile } : {}),
      ...(values.suffix ? { suffix: values.suffix } : {}),
      ...(values.keep ? { keep: true } : {}),
      ...requester,
    };
    const workflowId = values.id ?? `drill-${application}-${Date.now().toString(36)}`;
    const { client, close } = await connectClient(settings);
    try {
      const handle = await client.workflow.start('drillApplication', { taskQueue: settings.taskQueue, workflowId, args: [input] });
      const url = workflowUrl(settings, workflowId);
      io.stderr(`started ${workflowId}${url ? `  ${url}` : ''}\n`);
      const outcome = await followDrill(handle, io);
      if ('report' in outcome) {
        io.stdout(format === 'json' ? `${JSON.stringify({ workflowId, ...outcome.report }, null, 2)}\n` : describeReport(workflowId, outcome.report));
        return outcome.report.passed ? EXIT_OK : EXIT_FAILED;
      }
      if (format === 'json') io.stdout(`${JSON.stringify({ workflowId, passed: false, error: outcome.error }, null, 2)}\n`);
      else io.stderr(`drill ${workflowId} could not run: ${outcome.error}\n`);
      return EXIT_FAILED;
    } finally {
      await close();
    }
  },
);

/** Waits for the drill, printing its stage as it moves; a failed drill's report rides in its failure's details. */
async function followDrill(handle: WorkflowHandle, io: CommandIO): Promise<{ report: DrillReport } | { error: string }> {
  let last = '';
  const timer = setInterval(() => {
    handle
      .query<{ stage: string; namespace?: string }>('drillProgress')
      .then((progress) => {
        const line = `${progress.stage}${progress.namespace ? ` (${progress.namespace})` : ''}`;
        if (line !== last) io.stderr(`  ${line}\n`);
        last = line;
      })
      .catch(() => undefined);
  }, 2000);
  try {
    return { report: (await handle.result()) as DrillReport };
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    const cause = error.cause;
    if (cause instanceof ApplicationFailure && cause.type === 'DrillFailed' && cause.details?.[0]) return { report: cause.details[0] as DrillReport };
    return { error: innermostMessage(error) };
  } finally {
    clearInterval(timer);
  }
}

export function describeReport(workflowId: string, report: DrillReport): string {
  const lines = [
    `drill of ${report.application}: ${report.passed ? 'PASSED' : 'FAILED'}   (${workflowId})`,
    `  restore point:  ${report.restorePoint}`,
    `  namespace:      ${report.namespace} (${report.cleanedUp ? 'deleted' : 'still there'})`,
    `  RTO:            ${(report.rtoMs / 1000).toFixed(1)}s`,
    `  data verified:  ${report.dataVerified ? 'yes (validate actions passed)' : 'no'}`,
    '  checks:',
    ...report.checks.map((check) => `    ${check.passed ? 'ok  ' : 'FAIL'}  ${check.name}${check.detail ? ` — ${check.detail}` : ''}`),
  ];
  return `${lines.join('\n')}\n`;
}
