import type { JsonValue } from '../json.ts';
import type { WorkloadKind } from '../target.ts';

/** The blueprint format as authors write it (`schemas/blueprint.schema.json` is its JSON Schema). */
export const BLUEPRINT_API_VERSION = 'cairn.io/v1alpha1';

export interface Blueprint {
  apiVersion: typeof BLUEPRINT_API_VERSION;
  kind: 'Blueprint';
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  description?: string;
  /** At least `backup`, `restore` and `delete` by convention; any other name (e.g. `validate`) is a custom action. */
  actions: Record<string, BlueprintAction>;
}

export interface BlueprintAction {
  description?: string;
  /** Workload kinds this action can be run against. */
  kinds: WorkloadKind[];
  /** Artifacts a run of this action needs from an earlier run (e.g. restore needs backup's `dump`). */
  inputArtifactNames?: string[];
  /** Artifacts this action produces; values are templates rendered once all phases are done. */
  outputArtifacts?: Record<string, OutputArtifactSpec>;
  phases: PhaseEntry[];
  /** Runs at the end of the action, after success, failure or cancellation. */
  deferPhase?: PhaseSpec;
}

export interface OutputArtifactSpec {
  keyValue?: Record<string, string>;
  kopiaSnapshot?: string;
  /** Template of Options rendering `true` or `false`: whether the backup produces this artifact (conditions.ts). */
  when?: string;
}

export type PhaseEntry = PhaseSpec | PhaseGroupSpec;

export interface PhaseSpec {
  /** Unique within the action (groups and defer phases included). */
  name: string;
  /** A function from the registry, e.g. `KubeExec`. */
  func: string;
  /** Function arguments; any string may be a handlebars template rendered at run time. */
  args?: Record<string, JsonValue>;
  /** Secrets and ConfigMaps resolved at run time, readable as `Phases.<self>.Secrets.<key>.<dataKey>`. */
  objects?: Record<string, ObjectReferenceSpec>;
  /** Duration string: `90s`, `10m`, `1h30m`. */
  timeout?: string;
  retry?: RetrySpec;
  /** Phases (siblings in the same list) this one waits for; absent means "the phase listed before". */
  dependsOn?: string[];
  /** Template of Options rendering `true` or `false`, decided when the plan is compiled (conditions.ts). */
  when?: string;
}

/**
 * Scoped release: the group's phases run, then its own `deferPhase` runs as soon as the group ends, so
 * "quiesce → snapshot → unquiesce" is over before a long export starts.
 */
export interface PhaseGroupSpec {
  name: string;
  phases: PhaseEntry[];
  deferPhase?: PhaseSpec;
  dependsOn?: string[];
  when?: string;
}

export interface ObjectReferenceSpec {
  kind: 'Secret' | 'ConfigMap';
  /** Template; usually the target's namespace when omitted. */
  namespace?: string;
  name: string;
}

export interface RetrySpec {
  maxAttempts: number;
  initialInterval?: string;
  backoffCoefficient?: number;
  maximumInterval?: string;
}

export function isPhaseGroup(entry: PhaseEntry): entry is PhaseGroupSpec {
  return Array.isArray((entry as PhaseGroupSpec).phases);
}
