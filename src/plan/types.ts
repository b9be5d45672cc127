/**
 * The execution plan: what the compiler produces and the `runAction` workflow interprets. Plain, versioned
 * JSON (`schemas/plan.schema.json`); workflow code imports this file, so it must stay free of Node APIs.
 */
import type { JsonObject, JsonValue } from '../json.ts';
import type { TargetRef } from '../target.ts';

export const PLAN_VERSION = 1;

export interface ExecutionPlan {
  planVersion: typeof PLAN_VERSION;
  blueprint: {
    name: string;
    /** sha256 of the canonical JSON of the whole parsed blueprint. */
    digest: string;
  };
  action: string;
  target: TargetRef;
  /** `formatTarget(target)`, e.g. `statefulset/shop/postgres`. */
  targetRef: string;
  options: JsonObject;
  inputArtifactNames: string[];
  /** Templates rendered by an activity after all phases succeed. */
  outputArtifacts: Record<string, PlanOutputArtifact>;
  /** Top-level nodes, a DAG through `dependsOn` (ids of sibling nodes). */
  nodes: PlanNode[];
  /** Runs after the top-level nodes end, whatever their outcome. */
  defer?: PlanStep;
  /** Number of steps in the plan, defer steps included. */
  stepCount: number;
  /** sha256 (hex) of the canonical JSON of this plan without `hash`. Same input, same hash. */
  hash: string;
}

export interface PlanOutputArtifact {
  keyValue?: Record<string, string>;
  kopiaSnapshot?: string;
}

export type PlanNode = PlanStep | PlanGroup;

export interface PlanStep {
  type: 'step';
  /** The phase name; unique in the plan. */
  id: string;
  func: string;
  /** Unrendered: strings may hold templates, rendered inside the activity at run time. */
  args: { [key: string]: JsonValue };
  objects: Record<string, PlanObjectReference>;
  dependsOn: string[];
  timeoutMs: number;
  retry: PlanRetryPolicy;
  /** Phases whose outputs this step's templates read (for tooling; ordering comes from `dependsOn`). */
  reads: string[];
}

export interface PlanGroup {
  type: 'group';
  id: string;
  dependsOn: string[];
  nodes: PlanNode[];
  /** Runs as soon as the group's nodes end, whatever their outcome. */
  defer?: PlanStep;
}

export interface PlanObjectReference {
  kind: 'Secret' | 'ConfigMap';
  /** Template; defaults to `{{Namespace}}`. */
  namespace: string;
  /** Template. */
  name: string;
}

export interface PlanRetryPolicy {
  maximumAttempts: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
}

export const DEFAULT_STEP_TIMEOUT_MS = 30 * 60 * 1000;
export const DEFAULT_RETRY: PlanRetryPolicy = {
  maximumAttempts: 3,
  initialIntervalMs: 1000,
  backoffCoefficient: 2,
  maximumIntervalMs: 60_000,
};

/** Every step of a plan in a stable order (depth first, each group's defer after its nodes, plan defer last). */
export function planSteps(plan: Pick<ExecutionPlan, 'nodes' | 'defer'>): PlanStep[] {
  const steps: PlanStep[] = [];
  const visit = (nodes: PlanNode[], defer: PlanStep | undefined) => {
    for (const node of nodes) {
      if (node.type === 'step') steps.push(node);
      else visit(node.nodes, node.defer);
    }
    if (defer) steps.push(defer);
  };
  visit(plan.nodes, plan.defer);
  return steps;
}
