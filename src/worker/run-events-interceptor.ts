/**
 * Workflow interceptors (bundled with the workflows, so deterministic: no I/O, no clocks but the workflow's
 * own) that report each run's start, end and quiesce windows to the worker through the `runEvents` sink.
 * They only observe: every promise they look at is the one the workflow already awaits, handled on a side
 * branch that never rejects, so the commands a run issues are the same with or without them (replay-safe).
 */
import {
  isCancellation,
  proxySinks,
  workflowInfo,
  type ActivityInput,
  type Next,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { innermostMessage } from '../diagnostics.ts';
import type { ExecutionPlan, PlanNode } from '../plan/types.ts';
import type { CompileActionResult, PhaseInvocation, RunActionInput, RunActionResult } from '../run/types.ts';
import { targetNamespace, type RunEventSinks, type RunSummary } from './run-events.ts';

const { runEvents } = proxySinks<RunEventSinks>();

interface ReleaseGroup {
  id: string;
  members: Set<string>;
  defer: string;
  /** Workflow time at which its first member was scheduled. */
  startedAt?: number;
}

class RunTracker implements WorkflowInboundCallsInterceptor, WorkflowOutboundCallsInterceptor {
  private summary: RunSummary = {};
  private groups: ReleaseGroup[] = [];

  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const isRun = workflowInfo().workflowType === 'runAction';
    if (isRun) this.summary = summarize(input.args[0] as Partial<RunActionInput> | undefined);
    try {
      const result = await next(input);
      const planned = isRun ? (result as Partial<RunActionResult> | undefined)?.plan?.blueprint : undefined;
      if (planned) this.summary.blueprint = planned;
      runEvents.ended({ ...this.summary, outcome: 'succeeded' });
      return result;
    } catch (error) {
      runEvents.ended({ ...this.summary, outcome: isCancellation(error) ? 'cancelled' : 'failed', error: innermostMessage(error) });
      throw error;
    }
  }

  scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>): Promise<unknown> {
    const result = next(input);
    if (input.activityType === 'compileAction') {
      result.then((value) => {
        const plan = (value as Partial<CompileActionResult> | undefined)?.plan;
        if (plan) this.planned(plan);
      }, () => undefined);
    } else if (input.activityType === 'runPhase') {
      const phase = (input.args[0] as Partial<PhaseInvocation> | undefined)?.step?.id ?? '';
      const now = Date.now();
      for (const group of this.groups) {
        if (group.members.has(phase)) group.startedAt ??= now;
        if (group.defer === phase) {
          const settle = () => {
            if (group.startedAt !== undefined) runEvents.quiesceWindow(this.summary, group.id, Date.now() - group.startedAt);
          };
          result.then(settle, settle);
        }
      }
    }
    return result;
  }

  private planned(plan: ExecutionPlan): void {
    this.summary.blueprint = plan.blueprint.name;
    this.groups = releaseGroups(plan.nodes);
    runEvents.started(this.summary);
  }
}

/** Never throws: a malformed input (a hand-written Web UI payload) must fail in the workflow, not here. */
function summarize(run: Partial<RunActionInput> | undefined): RunSummary {
  if (!run || typeof run !== 'object') return {};
  const blueprint = run.blueprint && typeof run.blueprint === 'object' ? ('name' in run.blueprint ? run.blueprint.name : 'inline') : undefined;
  const target = typeof run.target === 'string' ? run.target : undefined;
  return {
    ...(blueprint ? { blueprint } : {}),
    ...(typeof run.action === 'string' ? { action: run.action } : {}),
    ...(target ? { target, namespace: targetNamespace(target) } : {}),
    ...(typeof run.profile === 'string' ? { profile: run.profile } : {}),
    ...(run.requestedBy && typeof run.requestedBy === 'object' ? { requestedBy: run.requestedBy } : {}),
  };
}

function releaseGroups(nodes: PlanNode[]): ReleaseGroup[] {
  const groups: ReleaseGroup[] = [];
  for (const node of nodes) {
    if (node.type !== 'group') continue;
    groups.push(...releaseGroups(node.nodes));
    if (node.defer) groups.push({ id: node.id, members: stepIds(node.nodes), defer: node.defer.id });
  }
  return groups;
}

function stepIds(nodes: PlanNode[]): Set<string> {
  const ids = new Set<string>();
  for (const node of nodes) {
    if (node.type === 'step') ids.add(node.id);
    else {
      for (const id of stepIds(node.nodes)) ids.add(id);
      if (node.defer) ids.add(node.defer.id);
    }
  }
  return ids;
}

export const interceptors: WorkflowInterceptorsFactory = () => {
  const tracker = new RunTracker();
  return { inbound: [tracker], outbound: [tracker] };
};
