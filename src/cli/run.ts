import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { cliAuditLog, runAuditAction } from '../audit/audit-log.ts';
import { CairnError, errorsOf, innermostMessage } from '../diagnostics.ts';
import { validateText } from '../blueprint/validate.ts';
import type { ArtifactValue, BlueprintSource, RunActionInput, RunActionResult } from '../run/types.ts';
import { parseTarget } from '../target.ts';
import { workflowUrl } from '../temporal-config.ts';
import { defineCommand, EXIT_FAILED, EXIT_OK, UsageError } from './io.ts';
import { requesterOf } from './requester.ts';
import { parseOptionFlags, readContextFile } from './options.ts';
import { followRun } from './follow.ts';
import { connectClient, settingsFromFlags, TEMPORAL_FLAGS, TEMPORAL_FLAGS_HELP } from './temporal-flags.ts';

const HELP = `Usage: cairn run <blueprint> --action <action> --target <kind>/<namespace>/<name> [options]

Starts a durable run of one blueprint action on Temporal and prints its workflow ID. <blueprint> is a file
(sent inline, after validating it here) or the name of a blueprint the workers know (their blueprints
directory, or a ConfigMap labelled cairn.io/blueprint=true).

The run carries who started it (requestedBy: your user name and groups as the Kubernetes API server of your
kubeconfig reports them); a worker that enforces authorization checks them before the first phase. With
CAIRN_AUDIT_LOG set (a file, or stderr) the start is written to that audit log as a JSON line.

Options:
  -a, --action <name>        backup, restore, delete, or a custom action
  -t, --target <ref>         statefulset/shop/postgres, deployment/shop/api, pvc/shop/data, namespace/shop
      --option <k=v>         a run option (a string); repeatable
      --context <file>       JSON whose "Options" object gives typed options
      --profile <name>       the location profile to use
      --from <workflowId>    take input artifacts from the result of an earlier run (e.g. a backup)
      --artifacts <file>     take input artifacts from a JSON file ({"name": {"KeyValue": {...}}})
      --id <workflowId>      choose the workflow ID (default: <action>-<namespace>-<name>-<time>)
  -w, --wait                 follow the run's progress until it ends; exit 1 if it fails
  -o, --output <format>      text (default) or json ({workflowId, url} and, with --wait, outcome and outputs)
${TEMPORAL_FLAGS_HELP}      --debug                stack traces of unexpected errors
  -h, --help                 show this help

Exit status: 0 started (with --wait: succeeded), 1 failed, 2 usage error.
`;

export const runActionCommand = defineCommand(
  {
    name: 'run',
    help: HELP,
    flags: {
      ...TEMPORAL_FLAGS,
      action: { type: 'string', short: 'a' },
      target: { type: 'string', short: 't' },
      option: { type: 'string', multiple: true },
      context: { type: 'string' },
      profile: { type: 'string' },
      from: { type: 'string' },
      artifacts: { type: 'string' },
      id: { type: 'string' },
      wait: { type: 'boolean', short: 'w' },
    },
  },
  async ({ values, positionals, format }, io) => {
    if (positionals.length !== 1) throw new UsageError('name exactly one blueprint (a file or a name)');
    if (!values.action) throw new UsageError('--action is required');
    if (!values.target) throw new UsageError('--target is required');
    const target = parseTarget(values.target);
    if (!target.ok) throw new UsageError(target.message);
    if (values.from && values.artifacts) throw new UsageError('use --from or --artifacts, not both');
    const known = await readContextFile(values.context);
    const options = { ...((known.Options ?? {}) as Record<string, never>), ...parseOptionFlags(values.option) };
    const blueprint = await blueprintSource(positionals[0]!);

    const settings = settingsFromFlags(values);
    const requester = await requesterOf('run', io);
    const { client, close } = await connectClient(settings);
    try {
      let artifacts: Record<string, ArtifactValue> | undefined;
      if (values.from) {
        const earlier = (await client.workflow.getHandle(values.from).result()) as RunActionResult;
        artifacts = earlier.outputArtifacts;
      } else if (values.artifacts) {
        artifacts = JSON.parse(await readFile(values.artifacts, 'utf8')) as Record<string, ArtifactValue>;
      }
      const input: RunActionInput = {
        blueprint,
        action: values.action,
        target: values.target,
        options,
        ...(values.profile ? { profile: values.profile } : {}),
        ...(artifacts ? { artifacts } : {}),
        ...requester,
      };
      const workflowId = values.id ?? `${values.action}-${target.target.namespace}-${target.target.name}-${Date.now().toString(36)}`;
      const audited = {
        who: requester.requestedBy ?? {},
        action: runAuditAction(values.action),
        what: { workflowId, action: values.action, blueprint: 'name' in blueprint ? blueprint.name : (blueprint.file ?? 'inline'), ...(values.profile ? { profile: values.profile } : {}) },
        where: { namespace: target.target.namespace, target: values.target, temporalNamespace: settings.namespace },
      };
      const handle = await client.workflow.start('runAction', { taskQueue: settings.taskQueue, workflowId, args: [input] }).catch((error: Error) => {
        cliAuditLog().record({ ...audited, outcome: 'failed', reason: error.message });
        throw error;
      });
      cliAuditLog().record({ ...audited, outcome: 'requested' });
      const url = workflowUrl(settings, workflowId);
      if (!values.wait) {
        if (format === 'json') io.stdout(`${JSON.stringify({ workflowId, ...(url ? { url } : {}) })}\n`);
        else io.stdout(`${workflowId}\n${url ? `${url}\n` : ''}`);
        return EXIT_OK;
      }
      if (format === 'text') io.stderr(`started ${workflowId}${url ? `  ${url}` : ''}\n`);
      try {
        const result = await followRun(handle, format === 'text' ? io : undefined);
        if (format === 'json') io.stdout(`${JSON.stringify({ workflowId, ...(url ? { url } : {}), outcome: 'succeeded', phaseOutputs: result.phaseOutputs, outputArtifacts: result.outputArtifacts }, null, 2)}\n`);
        else io.stdout(`succeeded: ${workflowId}\n${Object.keys(result.outputArtifacts).length ? `output artifacts: ${JSON.stringify(result.outputArtifacts)}\n` : ''}`);
        return EXIT_OK;
      } catch (error) {
        if (!(error instanceof WorkflowFailedError)) throw error;
        const message = innermostMessage(error);
        if (format === 'json') io.stdout(`${JSON.stringify({ workflowId, ...(url ? { url } : {}), outcome: error.cause?.name === 'CancelledFailure' ? 'cancelled' : 'failed', error: message }, null, 2)}\n`);
        else io.stderr(`failed: ${workflowId}: ${message}\n`);
        return EXIT_FAILED;
      }
    } finally {
      await close();
    }
  },
);

async function blueprintSource(reference: string): Promise<BlueprintSource> {
  if (!existsSync(reference)) {
    if (/[/\\]|\.ya?ml$/.test(reference)) throw new UsageError(`no such file: ${reference}`);
    return { name: reference };
  }
  const text = await readFile(reference, 'utf8');
  const errors = errorsOf(validateText(text, reference).diagnostics);
  if (errors.length) throw new CairnError(errors);
  return { inline: text, file: basename(reference) };
}
