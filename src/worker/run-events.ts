/**
 * What the workflows tell the worker process about the runs they execute, through a Temporal sink (workflow
 * code cannot do I/O: a sink call is queued and delivered to Node code when the workflow task completes, and
 * by default not again on replay). The worker turns these into metrics (src/metrics/) and audit lines
 * (src/audit/). Pure types: the workflow bundle imports this file.
 */
import type { Sinks } from '@temporalio/workflow';
import type { RunOutcome, RunRequester } from '../run/types.ts';

export interface RunSummary {
  /** Only set for `runAction` runs; other workflow types (applications, drills) report their type alone. */
  blueprint?: string;
  action?: string;
  target?: string;
  namespace?: string;
  profile?: string;
  requestedBy?: RunRequester;
}

export interface RunEnd extends RunSummary {
  outcome: RunOutcome;
  /** The innermost failure message (phase errors are already scrubbed of Secret values by the phase runner). */
  error?: string;
}

export interface RunEventSinks extends Sinks {
  runEvents: {
    /** A runAction run compiled its plan and is about to run its first phase. */
    started(run: RunSummary): void;
    /** Any workflow of this worker ended (runAction or another type). */
    ended(run: RunEnd): void;
    /** A scoped-release group (a group with a deferPhase) ended: from its first phase's scheduling to its defer's end. */
    quiesceWindow(run: RunSummary, group: string, windowMs: number): void;
  };
}

/** `statefulset/shop/postgres` → `shop`; `namespace/shop` → `shop`. */
export function targetNamespace(target: string): string {
  return target.split('/')[1] ?? '';
}
