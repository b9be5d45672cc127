/**
 * What a phase's templates can read. Built afresh for every phase at run time, inside the activity (pods may
 * be gone after a scale to zero, and Secrets must never pass through workflow history).
 * `schemas/template-context.schema.json` describes the same shape; `docs/templates.md` documents it.
 */
import type { JsonObject, JsonValue } from '../json.ts';
import type { WorkloadKind } from '../target.ts';

export interface TemplateContext {
  Target: TargetContext;
  /** The target's full object as the API server returned it. */
  Object: JsonObject;
  /** The target's namespace (for a Namespace target, its name). */
  Namespace: string;
  /** Per phase that has run (and the current one, for its own Secrets/ConfigMaps). */
  Phases: Record<string, PhaseContext>;
  /** Input artifacts, by name. */
  ArtifactsIn: Record<string, ArtifactContext>;
  /** Location only, never credentials. Absent when the run has no profile. */
  Profile?: ProfileContext;
  /** Run options (`--option k=v` strings, or typed values from `--context`/workflow input). */
  Options: JsonObject;
  /** The run's start time, RFC 3339 (fixed for the whole run, so retries render identically). */
  Time: string;
}

export interface TargetContext {
  kind: WorkloadKind;
  namespace: string;
  name: string;
  /** Names of the workload's pods, sorted. Empty after a scale to zero. */
  pods: string[];
  /** Container names per pod. */
  containers: Record<string, string[]>;
  /** PVC names per pod. */
  pvcs: Record<string, string[]>;
  /** The workload object (same as `Object`). */
  object: JsonObject;
}

export interface PhaseContext {
  Output: Record<string, JsonValue>;
  /** Decoded values of the phase's own `objects` of kind Secret: `Secrets.<objectKey>.<dataKey>`. */
  Secrets: Record<string, Record<string, string>>;
  ConfigMaps: Record<string, Record<string, string>>;
}

export interface ArtifactContext {
  KeyValue: Record<string, string>;
  KopiaSnapshot?: string;
}

export interface ProfileContext {
  name: string;
  location: {
    type: 'filesystem' | 's3';
    /** Filesystem root path or S3 bucket. */
    bucket?: string;
    path?: string;
    prefix?: string;
    endpoint?: string;
    region?: string;
  };
}

/** Top-level names a template may start a path with; anything else is a reference error. */
export const CONTEXT_ROOTS = ['Target', 'Object', 'Namespace', 'Phases', 'ArtifactsIn', 'Profile', 'Options', 'Time'] as const;
