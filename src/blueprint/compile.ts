/**
 * blueprint + action + target + options → ExecutionPlan. Pure and deterministic: the same input gives a
 * byte-identical plan and hash. Templates stay unrendered (they are rendered inside activities at run time),
 * except `when` conditions, which read only the options and input artifacts and decide which entries the plan
 * holds.
 */
import { CairnError, didYouMean, errorsOf, type Diagnostic } from '../diagnostics.ts';
import { parseDuration } from '../duration.ts';
import { canonicalJson, type JsonObject } from '../json.ts';
import { canonicalHash } from '../plan/hash.ts';
import {
  DEFAULT_RETRY,
  DEFAULT_STEP_TIMEOUT_MS,
  PLAN_VERSION,
  type ExecutionPlan,
  type PlanNode,
  type PlanRetryPolicy,
  type PlanStep,
} from '../plan/types.ts';
import { formatTarget, type TargetRef } from '../target.ts';
import { analyzeTemplate } from '../template/references.ts';
import { selectByConditions } from './conditions.ts';
import { buildActionTree, type PhaseBlock, type PhaseNode } from './structure.ts';
import type { Blueprint, PhaseSpec, RetrySpec } from './types.ts';
import { validateText } from './validate.ts';

export interface CompileRequest {
  blueprint: Blueprint;
  action: string;
  target: TargetRef;
  options?: JsonObject;
  /** The run's input artifacts: `when` conditions may test which were given (conditions.ts). */
  artifacts?: Record<string, JsonObject>;
}

export function compilePlan(request: CompileRequest): ExecutionPlan {
  const { blueprint, target } = request;
  const declared = blueprint.actions[request.action];
  if (!declared) {
    const names = Object.keys(blueprint.actions);
    const suggestion = didYouMean(request.action, names);
    throw new CairnError([{
      code: 'unknown-action',
      severity: 'error',
      message: `blueprint "${blueprint.metadata.name}" has no action "${request.action}"`,
      hint: suggestion ? `did you mean "${suggestion}"?` : `its actions: ${names.join(', ')}`,
    }]);
  }
  if (!declared.kinds.includes(target.kind)) {
    throw new CairnError([{
      code: 'kind-mismatch',
      severity: 'error',
      message: `action "${request.action}" of blueprint "${blueprint.metadata.name}" applies to ${declared.kinds.join(', ')}, not to ${target.kind} (${formatTarget(target)})`,
    }]);
  }
  const action = selectByConditions(declared, { options: request.options ?? {}, ...(request.artifacts ? { artifacts: request.artifacts } : {}) }, ['actions', request.action]);
  const tree = buildActionTree(action, ['actions', request.action]);
  const body: Omit<ExecutionPlan, 'hash'> = {
    planVersion: PLAN_VERSION,
    blueprint: { name: blueprint.metadata.name, digest: canonicalHash(blueprint) },
    action: request.action,
    target: { kind: target.kind, namespace: target.namespace, name: target.name },
    targetRef: formatTarget(target),
    options: request.options ?? {},
    inputArtifactNames: [...(action.inputArtifactNames ?? [])],
    outputArtifacts: structuredClone(action.outputArtifacts ?? {}),
    nodes: compileBlock(tree.root),
    stepCount: tree.all.filter((n) => n.kind !== 'group').length,
  };
  if (tree.root.defer) body.defer = compileStep(tree.root.defer);
  // Round-trip through canonical JSON so the plan object itself has sorted keys: printing it is byte-stable.
  const plan = JSON.parse(canonicalJson({ ...body, hash: canonicalHash(body) })) as ExecutionPlan;
  return plan;
}

function compileBlock(block: PhaseBlock): PlanNode[] {
  return block.nodes.map((node) => {
    if (node.kind === 'group') {
      const group: PlanNode = { type: 'group', id: node.name, dependsOn: [...node.dependsOn], nodes: compileBlock(node.inner!) };
      if (node.inner!.defer) group.defer = compileStep(node.inner!.defer);
      return group;
    }
    return compileStep(node);
  });
}

function compileStep(node: PhaseNode): PlanStep {
  const phase = node.spec as PhaseSpec;
  const objects: PlanStep['objects'] = {};
  for (const [key, ref] of Object.entries(phase.objects ?? {})) {
    objects[key] = { kind: ref.kind, name: ref.name, namespace: ref.namespace ?? '{{Namespace}}' };
  }
  return {
    type: 'step',
    id: node.name,
    func: phase.func,
    args: structuredClone(phase.args ?? {}),
    objects,
    dependsOn: [...node.dependsOn],
    timeoutMs: phase.timeout ? parseDuration(phase.timeout)! : DEFAULT_STEP_TIMEOUT_MS,
    retry: retryPolicy(phase.retry),
    reads: phasesRead(phase, node.name),
  };
}

function retryPolicy(retry: RetrySpec | undefined): PlanRetryPolicy {
  if (!retry) return { ...DEFAULT_RETRY };
  return {
    maximumAttempts: retry.maxAttempts,
    initialIntervalMs: retry.initialInterval ? parseDuration(retry.initialInterval)! : DEFAULT_RETRY.initialIntervalMs,
    backoffCoefficient: retry.backoffCoefficient ?? DEFAULT_RETRY.backoffCoefficient,
    maximumIntervalMs: retry.maximumInterval ? parseDuration(retry.maximumInterval)! : DEFAULT_RETRY.maximumIntervalMs,
  };
}

function phasesRead(phase: PhaseSpec, self: string): string[] {
  const read = new Set<string>();
  const visit = (value: unknown) => {
    if (typeof value === 'string') {
      for (const reference of analyzeTemplate(value).references) {
        if (reference.parts[0] === 'Phases' && reference.parts[2] === 'Output' && reference.parts[1] !== self) read.add(reference.parts[1]!);
      }
    } else if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(visit);
  };
  visit(phase.args ?? {});
  return [...read].sort();
}

/** Validates blueprint text and compiles one of its actions; throws a CairnError listing every problem. */
export function compileBlueprintText(text: string, file: string, request: Omit<CompileRequest, 'blueprint'> & { blueprintName?: string }): ExecutionPlan {
  const result = validateText(text, file);
  const errors = errorsOf(result.diagnostics);
  if (errors.length > 0) throw new CairnError(errors);
  const loaded = request.blueprintName ? result.blueprints.find((b) => b.blueprint.metadata.name === request.blueprintName) : result.blueprints[0];
  if (!loaded) {
    const problem: Diagnostic = { code: 'no-blueprint', severity: 'error', file, message: request.blueprintName ? `no blueprint named "${request.blueprintName}" in ${file}` : `no blueprint in ${file}` };
    throw new CairnError([problem]);
  }
  return compilePlan({ ...request, blueprint: loaded.blueprint });
}
