/**
 * Interprets an ExecutionPlan. Deterministic code only: no I/O, clocks or Node APIs; every side effect is an
 * activity. The plan comes from the first activity and so is pinned in history: a blueprint edited mid-run
 * cannot change a resumed run.
 */
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  defineQuery,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { innermostMessage } from '../src/diagnostics.ts';
import { parseDuration } from '../src/duration.ts';
import type { JsonValue } from '../src/json.ts';
import { planSteps, type PlanNode, type PlanStep } from '../src/plan/types.ts';
import type {
  CairnActivities,
  PhaseProgress,
  RestorePointRef,
  RunActionInput,
  RunActionResult,
  RunOutcome,
  RunProgress,
} from '../src/run/types.ts';

export const progressQuery = defineQuery<RunProgress>('progress');

/** Marks runs whose backup ends with writeRestorePoint (older histories have no such step). */
export const RESTORE_POINT_PATCH = 'cairn-restore-point';

const attribute = {
  blueprint: defineSearchAttributeKey('CairnBlueprint', SearchAttributeType.KEYWORD),
  action: defineSearchAttributeKey('CairnAction', SearchAttributeType.KEYWORD),
  namespace: defineSearchAttributeKey('CairnNamespace', SearchAttributeType.KEYWORD),
  target: defineSearchAttributeKey('CairnTarget', SearchAttributeType.KEYWORD),
  outcome: defineSearchAttributeKey('CairnOutcome', SearchAttributeType.KEYWORD),
};

const setupRetry = { maximumAttempts: 5, initialInterval: '1 second', nonRetryableErrorTypes: ['CairnError', 'InvalidBlueprint'] };
const setup = proxyActivities<CairnActivities>({ startToCloseTimeout: '2 minutes', retry: setupRetry });
// Compiling and rendering take seconds and do not heartbeat: after a worker crash their retry waits out this
// timeout, which is time a consistency group's databases stay quiesced (workflows/consistency-group.ts).
const quick = proxyActivities<CairnActivities>({ startToCloseTimeout: '30 seconds', retry: setupRetry });

export async function runAction(input: RunActionInput): Promise<RunActionResult> {
  const info = workflowInfo();
  const runTime = info.startTime.toISOString();
  const progress: RunProgress = { action: input.action, target: input.target, phases: [], current: [] };
  setHandler(progressQuery, () => progress);

  const [, targetNamespace = ''] = input.target.split('/');
  upsertSearchAttributes([
    { key: attribute.action, value: input.action },
    { key: attribute.target, value: input.target },
    { key: attribute.namespace, value: input.target.startsWith('namespace/') ? input.target.slice('namespace/'.length) : targetNamespace },
  ]);

  // requestedBy rides on the first activity, which checks it before any phase (activity arguments are not part
  // of replay's determinism check, so runs recorded without it replay unchanged).
  const { plan } = await quick.compileAction({
    blueprint: input.blueprint,
    action: input.action,
    target: input.target,
    options: input.options ?? {},
    ...(input.artifacts ? { artifacts: input.artifacts } : {}),
    ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
  });
  progress.planHash = plan.hash;
  progress.blueprint = plan.blueprint.name;
  progress.phases = planSteps(plan).map((step): PhaseProgress => ({ id: step.id, func: step.func, state: 'pending' }));
  upsertSearchAttributes([{ key: attribute.blueprint, value: plan.blueprint.name }]);

  const outputs: Record<string, Record<string, JsonValue>> = {};
  const heartbeatTimeoutMs = (input.heartbeatTimeout && parseDuration(input.heartbeatTimeout)) || 30_000;
  const phaseState = (id: string) => progress.phases.find((p) => p.id === id)!;

  const runStep = async (step: PlanStep, isDefer: boolean): Promise<void> => {
    const state = phaseState(step.id);
    state.state = 'running';
    progress.current.push(step.id);
    const reads = isDefer ? Object.keys(outputs) : step.reads;
    const activities = proxyActivities<CairnActivities>({
      startToCloseTimeout: step.timeoutMs,
      heartbeatTimeout: Math.min(heartbeatTimeoutMs, step.timeoutMs),
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      retry: {
        maximumAttempts: step.retry.maximumAttempts,
        initialInterval: step.retry.initialIntervalMs,
        backoffCoefficient: step.retry.backoffCoefficient,
        maximumInterval: step.retry.maximumIntervalMs,
        nonRetryableErrorTypes: ['CairnError', 'InvalidArguments', 'TemplateRenderError'],
      },
      activityId: `phase/${step.id}`,
      summary: `${step.id}: ${step.func}`,
    });
    try {
      const result = await activities.runPhase({
        workflowId: info.workflowId,
        runTime,
        target: input.target,
        ...(input.profile ? { profile: input.profile } : {}),
        options: input.options ?? {},
        step,
        phaseOutputs: Object.fromEntries(reads.filter((id) => outputs[id]).map((id) => [id, outputs[id]!])),
        artifacts: input.artifacts ?? {},
        ...(input.application ? { application: input.application } : {}),
      });
      outputs[step.id] = result.outputs;
      state.state = 'succeeded';
    } catch (error) {
      state.state = isCancellation(error) ? 'cancelled' : 'failed';
      if (state.state === 'failed') state.error = innermostMessage(error);
      throw error;
    } finally {
      progress.current = progress.current.filter((id) => id !== step.id);
    }
  };

  /**
   * Runs sibling nodes as a DAG; on the first failure the others are cancelled, then the block's defer runs
   * in a non-cancellable scope so cleanup happens even when the whole run is being cancelled.
   */
  const runBlock = async (nodes: PlanNode[], defer: PlanStep | undefined): Promise<void> => {
    let failure: unknown;
    try {
      await CancellationScope.cancellable(async () => {
        const scope = CancellationScope.current();
        const started = new Map<string, Promise<void>>();
        const byId = new Map(nodes.map((node) => [node.id, node]));
        const start = (node: PlanNode): Promise<void> => {
          let running = started.get(node.id);
          if (!running) {
            running = (async () => {
              await Promise.all(node.dependsOn.map((id) => start(byId.get(id)!)));
              if (node.type === 'step') await runStep(node, false);
              else await runBlock(node.nodes, node.defer);
            })();
            running.catch((error: unknown) => {
              if (failure === undefined) {
                failure = error;
                scope.cancel();
              }
            });
            started.set(node.id, running);
          }
          return running;
        };
        await Promise.allSettled(nodes.map(start));
      });
    } catch (error) {
      failure ??= error;
    }
    for (const node of nodes) markSkipped(node, progress);
    if (defer) await CancellationScope.nonCancellable(() => runStep(defer, true).catch((error: unknown) => void (failure ??= error)));
    if (failure !== undefined) throw failure;
  };

  /**
   * A backup ends with its restore point, written last: a run that failed or was cancelled above never gets
   * one. Histories recorded before this step existed replay without it (`patched`).
   */
  const writeRestorePoint = async (ran: typeof plan, phaseOutputs: typeof outputs, outputArtifacts: RunActionResult['outputArtifacts']): Promise<RestorePointRef> => {
    try {
      return await setup.writeRestorePoint({
        workflowId: info.workflowId,
        runId: info.runId,
        runTime,
        target: input.target,
        ...(input.profile ? { profile: input.profile } : {}),
        ...(input.application ? { application: input.application } : {}),
        action: ran.action,
        blueprint: ran.blueprint.name,
        planHash: ran.hash,
        phaseOutputs,
        outputArtifacts,
      });
    } catch (error) {
      progress.outcome = 'failed';
      upsertSearchAttributes([{ key: attribute.outcome, value: 'failed' }]);
      throw ApplicationFailure.create({
        type: 'RestorePointFailed',
        message: `${ran.action} of ${ran.targetRef}: every phase succeeded but the restore point could not be written: ${innermostMessage(error)}`,
        nonRetryable: true,
        cause: error instanceof Error ? error : undefined,
      });
    }
  };

  let outcome: RunOutcome = 'succeeded';
  try {
    await runBlock(plan.nodes, plan.defer);
    // A cancellation that arrived after the last phase had already finished still ends the run as cancelled.
    if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('run cancelled');
  } catch (error) {
    outcome = isCancellation(error) ? 'cancelled' : 'failed';
    progress.outcome = outcome;
    upsertSearchAttributes([{ key: attribute.outcome, value: outcome }]);
    if (outcome === 'cancelled') throw error;
    const failed = progress.phases.filter((p) => p.state === 'failed').map((p) => p.id);
    throw ApplicationFailure.create({
      type: 'PhaseFailed',
      message: `${plan.action} of ${plan.targetRef} failed in phase ${failed.join(', ') || '?'}: ${innermostMessage(error)}`,
      nonRetryable: true,
      cause: error instanceof Error ? error : undefined,
    });
  }

  const outputArtifacts = Object.keys(plan.outputArtifacts).length
    ? await quick.renderOutputArtifacts({ workflowId: info.workflowId, runTime, target: input.target, options: input.options ?? {}, outputArtifacts: plan.outputArtifacts, phaseOutputs: outputs })
    : {};
  const restorePoint = plan.action === 'backup' && input.restorePoint !== false && patched(RESTORE_POINT_PATCH) ? await writeRestorePoint(plan, outputs, outputArtifacts) : undefined;
  progress.outcome = outcome;
  upsertSearchAttributes([{ key: attribute.outcome, value: outcome }]);
  return {
    outcome: 'succeeded',
    workflowId: info.workflowId,
    plan: { hash: plan.hash, blueprint: plan.blueprint.name, action: plan.action, target: plan.targetRef, stepCount: plan.stepCount },
    phaseOutputs: outputs,
    outputArtifacts,
    ...(restorePoint ? { restorePoint } : {}),
  };
}

function markSkipped(node: PlanNode, progress: RunProgress): void {
  if (node.type === 'group') node.nodes.forEach((child) => markSkipped(child, progress));
  const state = progress.phases.find((p) => p.id === node.id);
  if (state && state.state === 'pending') state.state = 'skipped';
}
