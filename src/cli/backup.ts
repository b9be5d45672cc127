/** `cairn backup <application>`: starts backupApplication; with --wait follows it component by component. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { validateApplicationText } from '../application/spec.ts';
import type { ApplicationBackupInput, ApplicationBackupResult, ApplicationSource } from '../application/types.ts';
import { CairnError, errorsOf } from '../diagnostics.ts';
import { isApplicationName } from '../location/layout.ts';
import { startApplicationRun } from './application-run.ts';
import { defineCommand, UsageError } from './io.ts';
import { requesterOf } from './requester.ts';
import { settingsFromFlags, TEMPORAL_FLAGS, TEMPORAL_FLAGS_HELP } from './temporal-flags.ts';

const HELP = `Usage: cairn backup <application file|name> [--wait] [--output json]

Backs up a whole Application (kind: Application, docs/applications.md): captures its namespace's resources
into the location (Secrets encrypted), backs up every component that has a blueprint — in parallel, at most
spec.concurrency (default 9) at once, all into the application's one repository — and then writes one restore
point for all of it. A failed component fails the backup and leaves no restore point.

<application> is a file (checked here, then sent inline) or the name of an Application the workers know (their
application directories, or a ConfigMap labelled cairn.io/application).

Options:
      --profile <name>       the location profile (default: the spec's, else the embedded location)
      --id <workflowId>      choose the workflow ID (default: backup-<app>-<time>)
  -w, --wait                 follow the backup until it ends, one line per component change; exit 1 if it fails
  -o, --output <format>      text (default) or json ({workflowId, url} and, with --wait, the result)
${TEMPORAL_FLAGS_HELP}      --debug                stack traces of unexpected errors
  -h, --help                 show this help

Exit status: 0 started (with --wait: succeeded), 1 failed, 2 usage error.
`;

export const backupCommand = defineCommand(
  { name: 'backup', help: HELP, flags: { ...TEMPORAL_FLAGS, profile: { type: 'string' }, id: { type: 'string' }, wait: { type: 'boolean', short: 'w' } } },
  async ({ values, positionals, format }, io) => {
    if (positionals.length !== 1) throw new UsageError('name exactly one application (a file or a name)');
    const { source, name } = await applicationSource(positionals[0]!);
    const settings = settingsFromFlags(values);
    const requester = await requesterOf('backup', io);
    const input: ApplicationBackupInput = {
      application: source,
      ...(values.profile ? { profile: values.profile } : {}),
      ...requester,
    };
    const workflowId = values.id ?? `backup-${name}-${Date.now().toString(36)}`;
    return startApplicationRun<ApplicationBackupResult>(
      settings,
      {
        workflowType: 'backupApplication',
        workflowId,
        input,
        wait: values.wait === true,
        format,
        describe: (id, result) =>
          `succeeded: ${id}\n  restore point: ${result.restorePoint.id} (${result.restorePoint.key}, profile ${result.restorePoint.profile})\n` +
          `  resources:     ${result.resources.count} (${Object.entries(result.resources.kinds).map(([kind, n]) => `${kind} ${n}`).join(', ')})\n` +
          result.components.map((c) => `  ${c.name.padEnd(14)} ${c.workflowId ? `${(c.durationMs / 1000).toFixed(1)}s  ${c.workflowId}` : 'resources only'}\n`).join('') +
          `  took ${(result.durationMs / 1000).toFixed(1)}s\n`,
      },
      io,
    );
  },
);

/** A file is checked here and sent inline; anything else is a name the workers resolve. */
async function applicationSource(reference: string): Promise<{ source: ApplicationSource; name: string }> {
  if (!existsSync(reference)) {
    if (/[/\\]|\.ya?ml$/.test(reference)) throw new UsageError(`no such file: ${reference}`);
    if (!isApplicationName(reference)) throw new UsageError(`"${reference}" is neither a file nor an application name`);
    return { source: { name: reference }, name: reference };
  }
  const text = await readFile(reference, 'utf8');
  const checked = validateApplicationText(text, reference);
  const errors = errorsOf(checked.diagnostics);
  if (errors.length) throw new CairnError(errors);
  if (checked.applications.length !== 1) throw new UsageError(`${reference} holds ${checked.applications.length} Applications; back up one at a time`);
  return { source: { inline: text, file: basename(reference) }, name: checked.applications[0]!.spec.metadata.name };
}
