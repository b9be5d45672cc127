import { innermostMessage } from '../diagnostics.ts';
import { defaultPayloadConverter } from '@temporalio/common';
import type { RunActionResult, RunProgress } from '../run/types.ts';
import { workflowUrl } from '../temporal-config.ts';
import { defineCommand, EXIT_FAILED, EXIT_OK, UsageError } from './io.ts';
import { connectClient, settingsFromFlags, TEMPORAL_FLAGS, TEMPORAL_FLAGS_HELP } from './temporal-flags.ts';

const HELP = `Usage: cairn status <workflowId> [--output json]

Shows a run: its state, each phase with its state, and the progress that running phases report in their
heartbeats (bytes moved, time slept, ...).

Options:
  -o, --output <format>  text (default) or json
${TEMPORAL_FLAGS_HELP}      --debug                stack traces of unexpected errors
  -h, --help             show this help

Exit status: 0 shown, 1 no such run or Temporal unreachable, 2 usage error.
`;

export interface RunStatus {
  workflowId: string;
  status: string;
  url?: string;
  startTime?: string;
  closeTime?: string;
  progress?: RunProgress;
  /** Heartbeat details of running activities, by phase id. */
  activeProgress: Record<string, { attempt: number; details?: unknown; lastFailure?: string }>;
  result?: RunActionResult;
  failure?: string;
}

export const statusCommand = defineCommand(
  { name: 'status', help: HELP, flags: { ...TEMPORAL_FLAGS } },
  async ({ values, positionals, format }, io) => {
    if (positionals.length !== 1) throw new UsageError('name exactly one workflow ID');
    const settings = settingsFromFlags(values);
    const { client, close } = await connectClient(settings);
    try {
      const handle = client.workflow.getHandle(positionals[0]!);
      let description;
      try {
        description = await handle.describe();
      } catch (error) {
        io.stderr(`cairn status: no run ${positionals[0]} in namespace ${settings.namespace}: ${(error as Error).message}\n`);
        return EXIT_FAILED;
      }
      const status: RunStatus = { workflowId: description.workflowId, status: description.status.name, activeProgress: {} };
      const url = workflowUrl(settings, description.workflowId);
      if (url) status.url = url;
      status.startTime = description.startTime.toISOString();
      if (description.closeTime) status.closeTime = description.closeTime.toISOString();
      for (const pending of description.raw.pendingActivities ?? []) {
        const phase = (pending.activityId ?? '').replace(/^phase\//, '');
        const payload = pending.heartbeatDetails?.payloads?.[0];
        status.activeProgress[phase] = {
          attempt: pending.attempt ?? 1,
          ...(payload ? { details: defaultPayloadConverter.fromPayload(payload) } : {}),
          ...(pending.lastFailure?.message ? { lastFailure: pending.lastFailure.message } : {}),
        };
      }
      try {
        status.progress = await withTimeout(handle.query<RunProgress>('progress'), 3000);
      } catch {
        // No worker answers queries right now; the state below still tells the outcome.
      }
      if (description.status.name === 'COMPLETED') status.result = (await handle.result()) as RunActionResult;
      if (description.status.name === 'FAILED') {
        try {
          await handle.result();
        } catch (error) {
          status.failure = innermostMessage(error);
        }
      }
      if (format === 'json') io.stdout(`${JSON.stringify(status, null, 2)}\n`);
      else io.stdout(describe(status));
      return EXIT_OK;
    } finally {
      await close();
    }
  },
);

function describe(status: RunStatus): string {
  const progress = status.progress;
  const lines = [`${status.workflowId}  ${status.status}${progress ? `  ${progress.blueprint ?? ''} ${progress.action} ${progress.target}` : ''}`];
  if (status.url) lines.push(status.url);
  if (progress) {
    const width = Math.max(5, ...progress.phases.map((p) => p.id.length));
    lines.push('', `${'phase'.padEnd(width)}  ${'function'.padEnd(22)}  ${'state'.padEnd(9)}  detail`);
    for (const phase of progress.phases) {
      const active = status.activeProgress[phase.id];
      const detail = phase.error ?? (active ? `attempt ${active.attempt}${active.details !== undefined ? ` ${JSON.stringify(active.details)}` : ''}${active.lastFailure ? ` (last failure: ${active.lastFailure})` : ''}` : '');
      lines.push(`${phase.id.padEnd(width)}  ${phase.func.padEnd(22)}  ${phase.state.padEnd(9)}  ${detail}`);
    }
  }
  if (status.failure) lines.push('', `failure: ${status.failure}`);
  if (status.result && Object.keys(status.result.outputArtifacts).length) lines.push('', `output artifacts: ${JSON.stringify(status.result.outputArtifacts)}`);
  return `${lines.join('\n')}\n`;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);
}
