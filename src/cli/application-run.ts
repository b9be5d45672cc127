/**
 * What `cairn backup` and `cairn restore` share: start the application workflow, then either print its id or
 * follow it to the end, component by component, and print its result for people or for scripts.
 */
import { ApplicationFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { ApplicationProgress } from '../application/types.ts';
import { innermostMessage } from '../diagnostics.ts';
import { workflowUrl, type TemporalSettings } from '../temporal-config.ts';
import { EXIT_FAILED, EXIT_OK, type CommandIO } from './io.ts';
import { connectClient } from './temporal-flags.ts';

export interface ApplicationRun<T> {
  workflowType: 'backupApplication' | 'restoreApplication';
  workflowId: string;
  input: unknown;
  wait: boolean;
  format: string;
  /** The text output of a run that succeeded. */
  describe(workflowId: string, result: T): string;
}

export async function startApplicationRun<T extends object>(settings: TemporalSettings, run: ApplicationRun<T>, io: CommandIO): Promise<number> {
  const { workflowId, format } = run;
  const { client, close } = await connectClient(settings);
  try {
    const handle = await client.workflow.start(run.workflowType, { taskQueue: settings.taskQueue, workflowId, args: [run.input] });
    const url = workflowUrl(settings, workflowId);
    if (!run.wait) {
      io.stdout(format === 'json' ? `${JSON.stringify({ workflowId, ...(url ? { url } : {}) })}\n` : `${workflowId}\n${url ? `${url}\n` : ''}`);
      return EXIT_OK;
    }
    if (format === 'text') io.stderr(`started ${workflowId}${url ? `  ${url}` : ''}\n`);
    const outcome = await followApplication<T>(handle, format === 'text' ? io : undefined);
    if ('error' in outcome) {
      if (format === 'json') io.stdout(`${JSON.stringify({ workflowId, outcome: 'failed', error: outcome.error }, null, 2)}\n`);
      else io.stderr(`failed: ${workflowId}: ${outcome.error}\n`);
      return EXIT_FAILED;
    }
    io.stdout(format === 'json' ? `${JSON.stringify({ workflowId, outcome: 'succeeded', ...outcome.result }, null, 2)}\n` : run.describe(workflowId, outcome.result));
    return EXIT_OK;
  } finally {
    await close();
  }
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
