/** `cairn backup <application>`: starts backupApplication; with --wait follows it component by component. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ApplicationFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { validateApplicationText } from '../application/spec.ts';
import type { ApplicationBackupInput, ApplicationBackupResult, ApplicationProgress, ApplicationSource } from '../application/types.ts';
import { callerRequester } from '../authz/identity.ts';
import { CairnError, errorsOf, innermostMessage } from '../diagnostics.ts';
import { loadKubeConfig } from '../kube/clients.ts';
import { isApplicationName } from '../location/layout.ts';
import { workflowUrl } from '../temporal-config.ts';
import { defineCommand, EXIT_FAILED, EXIT_OK, UsageError, type CommandIO } from './io.ts';
import { connectClient, settingsFromFlags, TEMPORAL_FLAGS, TEMPORAL_FLAGS_HELP } from './temporal-flags.ts';

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
    const identity = await callerRequester(() => loadKubeConfig());
    if (identity.warning) io.stderr(`cairn backup: ${identity.warning}\n`);
    const input: ApplicationBackupInput = {
      application: source,
      ...(values.profile ? { profile: values.profile } : {}),
      ...(identity.requester ? { requestedBy: identity.requester } : {}),
    };
    const workflowId = values.id ?? `backup-${name}-${Date.now().toString(36)}`;
    const { client, close } = await connectClient(settings);
    try {
      const handle = await client.workflow.start('backupApplication', { taskQueue: settings.taskQueue, workflowId, args: [input] });
      const url = workflowUrl(settings, workflowId);
      if (!values.wait) {
        io.stdout(format === 'json' ? `${JSON.stringify({ workflowId, ...(url ? { url } : {}) })}\n` : `${workflowId}\n${url ? `${url}\n` : ''}`);
        return EXIT_OK;
      }
      if (format === 'text') io.stderr(`started ${workflowId}${url ? `  ${url}` : ''}\n`);
      const outcome = await followApplication<ApplicationBackupResult>(handle, format === 'text' ? io : undefined);
      if ('error' in outcome) {
        if (format === 'json') io.stdout(`${JSON.stringify({ workflowId, outcome: 'failed', error: outcome.error }, null, 2)}\n`);
        else io.stderr(`failed: ${workflowId}: ${outcome.error}\n`);
        return EXIT_FAILED;
      }
      const result = outcome.result;
      if (format === 'json') io.stdout(`${JSON.stringify({ workflowId, outcome: 'succeeded', ...result }, null, 2)}\n`);
      else {
        io.stdout(
          `succeeded: ${workflowId}\n  restore point: ${result.restorePoint.id} (${result.restorePoint.key}, profile ${result.restorePoint.profile})\n` +
            `  resources:     ${result.resources.count} (${Object.entries(result.resources.kinds).map(([kind, n]) => `${kind} ${n}`).join(', ')})\n` +
            result.components.map((c) => `  ${c.name.padEnd(14)} ${c.workflowId ? `${(c.durationMs / 1000).toFixed(1)}s  ${c.workflowId}` : 'resources only'}\n`).join('') +
            `  took ${(result.durationMs / 1000).toFixed(1)}s\n`,
        );
      }
      return EXIT_OK;
    } finally {
      await close();
    }
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

/**
 * Waits for an application workflow, printing (when `io` is given) its stage and each component's state as they
 * change, from its `progress` query.
 */
export async function followApplication<T>(handle: WorkflowHandle, io: CommandIO | undefined): Promise<{ result: T } | { error: string }> {
  const seen = new Map<string, string>();
  const poll = async () => {
    const progress = await handle.query<ApplicationProgress>('progress').catch(() => undefined);
    if (!progress || !io) return;
    const report = (key: string, line: string) => {
      if (seen.get(key) !== line) io.stderr(`  ${line}\n`);
      seen.set(key, line);
    };
    report('', `stage: ${progress.stage}`);
    for (const c of progress.components) report(c.name, `${c.name}: ${c.state}${c.error ? ` (${c.error})` : ''}`);
  };
  const timer = setInterval(() => void poll(), 1000);
  try {
    const result = (await handle.result()) as T;
    await poll();
    return { result };
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    await poll();
    // The workflow's own message names the component and carries the innermost cause.
    return { error: error.cause instanceof ApplicationFailure && error.cause.message ? error.cause.message : innermostMessage(error) };
  } finally {
    clearInterval(timer);
  }
}
