/**
 * The run contract shared by the workflows, the activities, the CLI and anyone starting a run from the
 * Temporal Web UI. Pure types and constants: workflow code imports this file.
 */
import type { JsonObject, JsonValue } from '../json.ts';
import type { ExecutionPlan, PlanStep } from '../plan/types.ts';
import type { ApplicationActivities } from '../application/types.ts';
import type { RetentionActivities } from '../retention/types.ts';

export const DEFAULT_TASK_QUEUE = 'cairn';

/** Where the blueprint comes from: a name (worker's blueprint directory, then labelled ConfigMaps) or inline YAML. */
export type BlueprintSource = { name: string } | { inline: string; file?: string };

/** Input artifacts as a backup's output artifacts recorded them. */
export interface ArtifactValue {
  KeyValue: Record<string, string>;
  KopiaSnapshot?: string;
}

/**
 * Who asked for a run, as the Kubernetes API server knows them. Never a token: a name the worker checks with a
 * SubjectAccessReview (src/authz/) before any phase runs. The CLI fills `user`/`groups` from a SelfSubjectReview
 * of the caller's kubeconfig; runs started elsewhere (the Web UI, a schedule) name a ServiceAccount instead.
 */
export interface RunRequester {
  /** The user name the API server authenticated (`alice`, `system:serviceaccount:shop:ui`). */
  user?: string;
  groups?: string[];
  /** `<namespace>/<name>` of a ServiceAccount, checked as `system:serviceaccount:<namespace>:<name>`. */
  serviceAccount?: string;
}

/** The one JSON object `runAction` takes; all of it may appear in history, so it never holds credentials. */
export interface RunActionInput {
  blueprint: BlueprintSource;
  action: string;
  /** `<kind>/<namespace>/<name>`, e.g. `statefulset/shop/postgres`. */
  target: string;
  /** A location profile's name, never its credentials. */
  profile?: string;
  options?: JsonObject;
  artifacts?: Record<string, ArtifactValue>;
  /** How long a step may go without a heartbeat before Temporal retries it elsewhere (default 30s). */
  heartbeatTimeout?: string;
  /** Who started the run; required when the worker enforces authorization. */
  requestedBy?: RunRequester;
  /**
   * The application whose location repository (and restore-point folder) the run's data belongs to; default:
   * the target's namespace. Application workflows set it so every component of an Application shares one
   * repository, and so a restore into another namespace or cluster reads the source's data.
   */
  application?: string;
  /** `false`: a backup writes no restore point of its own (an Application writes one for all its components). */
  restorePoint?: boolean;
}

export type PhaseState = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'skipped';

export interface PhaseProgress {
  id: string;
  func: string;
  state: PhaseState;
  /** Set when the phase ended in failure: the (redacted) message. */
  error?: string;
}

export interface RunProgress {
  planHash?: string;
  blueprint?: string;
  action: string;
  target: string;
  phases: PhaseProgress[];
  /** Ids of the phases running now. */
  current: string[];
  outcome?: RunOutcome;
}

export type RunOutcome = 'succeeded' | 'failed' | 'cancelled';

export interface RunActionResult {
  outcome: 'succeeded';
  workflowId: string;
  plan: { hash: string; blueprint: string; action: string; target: string; stepCount: number };
  /** Outputs of every phase that produced some. */
  phaseOutputs: Record<string, Record<string, JsonValue>>;
  outputArtifacts: Record<string, ArtifactValue>;
  /** A backup's restore-point manifest in the location (absent for other actions and older runs). */
  restorePoint?: RestorePointRef;
}

/** What the generic phase runner gets: the step still unrendered, and only the data it reads. */
export interface PhaseInvocation {
  workflowId: string;
  /** The run's start time, RFC 3339: `Time` in templates, identical across retries. */
  runTime: string;
  target: string;
  profile?: string;
  options: JsonObject;
  step: PlanStep;
  /** Outputs of the phases this step reads (all ended phases for a defer step). */
  phaseOutputs: Record<string, Record<string, JsonValue>>;
  artifacts: Record<string, ArtifactValue>;
  /** RunActionInput.application, when the run set it. */
  application?: string;
}

export interface PhaseResult {
  outputs: Record<string, JsonValue>;
}

export interface CompileActionInput {
  blueprint: BlueprintSource;
  action: string;
  target: string;
  options: JsonObject;
  /** The run's input artifacts, which `when` conditions may test. */
  artifacts?: Record<string, ArtifactValue>;
  /** Checked before compiling when the worker enforces authorization. */
  requestedBy?: RunRequester;
}

export interface CompileActionResult {
  plan: ExecutionPlan;
}

export interface RenderArtifactsInput {
  workflowId: string;
  runTime: string;
  target: string;
  options: JsonObject;
  outputArtifacts: ExecutionPlan['outputArtifacts'];
  phaseOutputs: Record<string, Record<string, JsonValue>>;
}

/** What `writeRestorePoint` needs: the run's identity and results (names only, never credentials). */
export interface WriteRestorePointInput {
  workflowId: string;
  runId: string;
  /** The run's start time, RFC 3339 (the restore point's id derives from it, stable across retries). */
  runTime: string;
  target: string;
  profile?: string;
  /** RunActionInput.application, when the run set it (default: the target's namespace). */
  application?: string;
  action: string;
  blueprint: string;
  planHash: string;
  phaseOutputs: Record<string, Record<string, JsonValue>>;
  outputArtifacts: Record<string, ArtifactValue>;
}

/** Where a restore point was written: `restore-points/<application>/<id>.json` in the profile's location. */
export interface RestorePointRef {
  id: string;
  application: string;
  profile: string;
  key: string;
}

/** Custom search attributes Cairn sets on every run (registered by the stack and the compose file). */
export const SEARCH_ATTRIBUTES = ['CairnBlueprint', 'CairnAction', 'CairnNamespace', 'CairnTarget', 'CairnOutcome'] as const;

/** The activities the workflows call; implemented under activities/, registered by the worker. */
export interface CairnActivities extends RetentionActivities, ApplicationActivities {
  compileAction(input: CompileActionInput): Promise<CompileActionResult>;
  runPhase(input: PhaseInvocation): Promise<PhaseResult>;
  renderOutputArtifacts(input: RenderArtifactsInput): Promise<Record<string, ArtifactValue>>;
  /** The last step of a successful backup: its manifest, written atomically into the location. */
  writeRestorePoint(input: WriteRestorePointInput): Promise<RestorePointRef>;
}
