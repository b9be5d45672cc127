/** Follows a run until it ends, printing each phase as its state changes. */
import type { WorkflowHandle } from '@temporalio/client';
import type { RunActionResult, RunProgress } from '../run/types.ts';
import type { CommandIO } from './io.ts';

export async function followRun(handle: WorkflowHandle, io: CommandIO | undefined): Promise<RunActionResult> {
  const seen = new Map<string, string>();
  let done = false;
  const result = handle.result().finally(() => {
    done = true;
  }) as Promise<RunActionResult>;
  const poll = async () => {
    while (!done) {
      try {
        const progress = await handle.query<RunProgress>('progress');
        for (const phase of progress.phases) {
          if (seen.get(phase.id) !== phase.state && phase.state !== 'pending') {
            seen.set(phase.id, phase.state);
            io?.stderr(`  ${phase.state.padEnd(9)} ${phase.id} (${phase.func})${phase.error ? `: ${phase.error}` : ''}\n`);
          }
        }
      } catch {
        // Not started yet, or no worker to answer: try again.
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };
  const polling = io ? poll() : Promise.resolve();
  try {
    return await result;
  } finally {
    await polling;
  }
}
