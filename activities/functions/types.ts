/**
 * The contract between the generic phase runner and one function. A function gets its rendered, validated
 * arguments and the phase's template context, and returns its outputs; it must be idempotent (a retried
 * attempt finds what the previous one created, using `resourceName`) and heartbeat long work so that a retry
 * resumes from `previousHeartbeat` instead of starting over.
 */
import type { JsonObject, JsonValue } from '../../src/json.ts';
import type { KubeClients } from '../../src/kube/clients.ts';
import type { TemplateContext } from '../../src/template/context.ts';

export interface FunctionContext {
  args: JsonObject;
  template: TemplateContext;
  /** The repository key of the run's data (RunActionInput.application); absent means the target's namespace. */
  application?: string;
  kube(): KubeClients;
  /** Records progress; Temporal hands the last details to the next attempt if this one dies. */
  heartbeat(details?: JsonValue): void;
  /** Details of the last heartbeat of an earlier attempt of this phase, if any. */
  previousHeartbeat: JsonValue | undefined;
  /** Aborted when the run is cancelled or the activity times out. */
  signal: AbortSignal;
  /** A DNS-safe name that is the same for every attempt of this phase in this run: `cairn-<hash>-<suffix>`. */
  resourceName(suffix: string): string;
  log(message: string, fields?: Record<string, unknown>): void;
}

export type FunctionOutputs = Record<string, JsonValue>;

export interface CairnFunction {
  /** As in `func:` and `schemas/functions/<name>.schema.json`. */
  name: string;
  run(context: FunctionContext): Promise<FunctionOutputs>;
}

/** A failure the function knows retrying cannot fix (bad arguments, a missing pod named by the blueprint). */
export class PermanentFunctionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentFunctionError';
  }
}
