import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { innermostMessage } from '../diagnostics.ts';
import { isApplicationName } from '../location/layout.ts';
import type { VerifyInput, VerifyReport } from '../retention/types.ts';
import { workflowUrl } from '../temporal-config.ts';
import { defineCommand, EXIT_FAILED, EXIT_OK, UsageError } from './io.ts';
import { requesterOf } from './requester.ts';
import { connectClient, settingsFromFlags, TEMPORAL_FLAGS, TEMPORAL_FLAGS_HELP } from './temporal-flags.ts';

const HELP = `Usage: cairn verify <app> [--sample N] [--files-percent P] [--output json]

Checks that an application's restore points can still be restored, through the verifyRepository workflow:
for a sample of restore points (the newest always), every kopia snapshot the manifest names must be in the
repository and pass 'kopia snapshot verify' — every object reachable, its blobs present — with P% of the
files read back in full and their checksums and encryption checked. Reads go to the location itself, never
to a worker's cache. See docs/retention.md.

Options:
      --sample <N>           restore points to check (default: all)
      --files-percent <P>    share of files read back in full, 0-100 (default 10)
      --profile <name>       the location profile (default: the embedded location)
      --id <workflowId>      choose the workflow ID (default: cairn-<app>-verify-<time>)
  -o, --output <format>      text (default) or json (the report)
${TEMPORAL_FLAGS_HELP}      --debug                stack traces of unexpected errors
  -h, --help                 show this help

Exit status: 0 verified OK, 1 verification failed (the report names each snapshot) or could not run, 2 usage error.
`;

export const verifyCommand = defineCommand(
  {
    name: 'verify',
    help: HELP,
    flags: { ...TEMPORAL_FLAGS, sample: { type: 'string' }, 'files-percent': { type: 'string' }, profile: { type: 'string' }, id: { type: 'string' } },
  },
  async ({ values, positionals, format }, io) => {
    if (positionals.length !== 1) throw new UsageError('name exactly one application');
    const application = positionals[0]!;
    if (!isApplicationName(application)) throw new UsageError(`"${application}" is not an application name`);
    if (values.sample !== undefined && !/^[1-9]\d*$/.test(values.sample)) throw new UsageError(`--sample takes a whole number ≥ 1, got "${values.sample}"`);
    const percent = values['files-percent'] === undefined ? undefined : Number(values['files-percent']);
    if (percent !== undefined && !(percent >= 0 && percent <= 100)) throw new UsageError(`--files-percent takes a number from 0 to 100, got "${values['files-percent']}"`);

    const settings = settingsFromFlags(values);
    const requester = await requesterOf('verify', io);
    const input: VerifyInput = {
      application,
      ...(values.profile ? { profile: values.profile } : {}),
      ...(values.sample !== undefined ? { sample: Number(values.sample) } : {}),
      ...(percent !== undefined ? { filesPercent: percent } : {}),
      ...requester,
    };
    const workflowId = values.id ?? `cairn-${application}-verify-${new Date().toISOString().replace(/[-:.]/g, '')}`;
    const { client, close } = await connectClient(settings);
    try {
      const handle = await client.workflow.start('verifyRepository', { taskQueue: settings.taskQueue, workflowId, args: [input] });
      const url = workflowUrl(settings, workflowId);
      io.stderr(`started ${workflowId}${url ? `  ${url}` : ''}\n`);
      let report: VerifyReport;
      try {
        report = (await handle.result()) as VerifyReport;
      } catch (error) {
        const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
        if (!(cause instanceof ApplicationFailure && cause.type === 'VerificationFailed' && cause.details?.[0])) {
          io.stderr(`cairn verify: ${workflowId} could not run: ${innermostMessage(error)}\n`);
          return EXIT_FAILED;
        }
        report = cause.details[0] as VerifyReport;
      }
      io.stdout(format === 'json' ? `${JSON.stringify({ workflowId, ...report }, null, 2)}\n` : describeVerification(report));
      return report.ok ? EXIT_OK : EXIT_FAILED;
    } finally {
      await close();
    }
  },
);

export function describeVerification(report: VerifyReport): string {
  const lines = [
    `verification of ${report.application} in profile ${report.profile}: ${report.ok ? 'OK' : 'FAILED'}`,
    `  restore points: ${report.checkedRestorePoints.length} of ${report.restorePoints} checked, ${report.checkedSnapshots} snapshot(s), ${report.filesPercent}% of files read back`,
    ...report.failures.map((f) => `  FAIL  snapshot ${f.snapshotID} of restore point ${f.restorePoint}: ${f.error}`),
    ...report.problems.map((problem) => `  FAIL  unreadable manifest: ${problem}`),
  ];
  return `${lines.join('\n')}\n`;
}
