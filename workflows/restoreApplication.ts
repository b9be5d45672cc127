/**
 * restoreApplication: from the location alone (the restore point holds the spec and blueprint sources),
 * recreates the foundation resources, then each component in dependency order — its workload, ready, its
 * data through a child runAction reading the source application's repository, ready again and validated —
 * with independent components in parallel up to the bound; dependents start only once their dependencies
 * are ready. Then the remaining resources. The RTO (start → every component ready) is in the result.
 * Deterministic code only: Date.now() is workflow time, identical on replay.
 */
import { ApplicationFailure, defineQuery, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { hasAction } from '../src/application/blueprint-actions.ts';
import { planRestore, workloadTarget, type ComponentPlan, type RestorePlan } from '../src/application/restore-plan.ts';
import {
  DEFAULT_CONCURRENCY,
  type ApplicationActivities,
  type ApplicationProgress,
  type ApplicationRestoreInput,
  type ApplicationRestoreResult,
  type ComponentRestoreResult,
  type ExistingPolicy,
  type RestoreResourcesResult,
} from '../src/application/types.ts';
import { innermostMessage } from '../src/diagnostics.ts';
import { parseDuration } from '../src/duration.ts';
import type { RunActionInput } from '../src/run/types.ts';
import { failedComponents, runComponentAction, runComponents, type ComponentRunContext } from './component-dag.ts';

export const restoreProgressQuery = defineQuery<ApplicationProgress>('progress');

const activities = proxyActivities<ApplicationActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 5, initialInterval: '1 second', nonRetryableErrorTypes: ['CairnError', 'InvalidApplication', 'ExistingResource', 'NotReady', 'Forbidden'] },
});

const DEFAULT_READINESS_TIMEOUT_MS = 10 * 60_000;

export async function restoreApplication(input: ApplicationRestoreInput): Promise<ApplicationRestoreResult> {
  const info = workflowInfo();
  const startedAt = Date.now();
  const progress: ApplicationProgress = { operation: 'restore', application: input.application, stage: 'loading', components: [] };
  setHandler(restoreProgressQuery, () => progress);
  const fail = (type: string, message: string, cause?: unknown): never => {
    progress.stage = 'failed';
    throw ApplicationFailure.create({ type, message, nonRetryable: true, cause: cause instanceof Error ? cause : undefined });
  };

  const point = await activities.readApplicationRestorePoint({
    application: input.application,
    ...(input.restorePoint ? { id: input.restorePoint } : {}),
    ...(input.profile ? { profile: input.profile } : {}),
  });
  let plan: RestorePlan;
  try {
    plan = planRestore(point, input);
  } catch (error) {
    return fail('InvalidApplication', innermostMessage(error));
  }
  const spec = point.spec!;
  // Resources are recreated by this workflow itself, so the requester is checked before anything is touched.
  await activities.authorizeApplication({
    action: 'restore',
    application: point.application,
    namespace: plan.targetNamespace,
    ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
  });
  const profile = input.profile ?? point.profile;
  const existing: ExistingPolicy = input.existing ?? spec.spec.existingResources ?? 'skip';
  const children: ComponentRunContext = {
    blueprints: point.blueprints ?? {},
    application: point.application,
    ...(profile ? { profile } : {}),
    ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
  };
  const counts = { created: 0, updated: 0, skipped: 0 };
  const count = (result: RestoreResourcesResult) => {
    counts.created += result.created.length;
    counts.updated += result.updated.length;
    counts.skipped += result.skipped.length;
  };
  const snapshotID = point.resources?.snapshotID;
  const restoreResources = async (stage: 'foundation' | 'workloads' | 'rest', only?: RestorePlan['foundationOnly']) => {
    if (!snapshotID || (only && only.length === 0)) return;
    count(await activities.restoreResources({
      workflowId: info.workflowId,
      application: point.application,
      ...(profile ? { profile } : {}),
      snapshotID,
      transforms: plan.transforms,
      existing,
      stage,
      ...(only ? { only } : {}),
      ...(stage === 'rest' ? { componentWorkloads: plan.componentWorkloads } : {}),
    }));
  };

  progress.components = plan.components.map((c) => ({ name: c.name, state: 'pending' }));
  const state = (name: string) => progress.components.find((c) => c.name === name)!;
  const results = new Map<string, ComponentRestoreResult>();

  progress.stage = 'foundation';
  await restoreResources('foundation', plan.foundationOnly);

  progress.stage = 'components';
  const byName = new Map(plan.components.map((c) => [c.name, c]));
  const bound = { concurrency: input.concurrency ?? spec.spec.concurrency ?? DEFAULT_CONCURRENCY, ordered: input.ignoreDependencies !== true };
  const firstError = await runComponents(plan.components, bound, progress, async (name) => {
    results.set(name, await restoreComponent(byName.get(name)!));
  });
  if (firstError !== undefined) {
    const skipped = progress.components.filter((c) => c.state === 'not started').map((c) => c.name);
    fail('ComponentFailed', `restore of ${point.application} failed in component ${failedComponents(progress)}${skipped.length ? ` (not started: ${skipped.join(', ')})` : ''}: ${innermostMessage(firstError)}`, firstError);
  }
  const rtoMs = Date.now() - startedAt;

  progress.stage = 'rest';
  await restoreResources('rest', plan.restOnly);
  progress.stage = 'done';
  return {
    restorePoint: point.id,
    namespace: plan.targetNamespace,
    rtoMs,
    components: plan.components.map((c) => results.get(c.name)!),
    resources: counts,
  };

  async function restoreComponent(component: ComponentPlan): Promise<ComponentRestoreResult> {
    const startedAtMs = Date.now() - startedAt;
    const progressOf = state(component.name);
    const readiness = component.spec.readiness ?? {};
    const timeoutMs = (readiness.timeout && parseDuration(readiness.timeout)) || DEFAULT_READINESS_TIMEOUT_MS;
    const workload = { namespace: plan.targetNamespace, kind: component.spec.workload.kind, name: component.spec.workload.name };
    const waitReady = async () => {
      if (readiness.workload === false) return;
      progressOf.state = 'waiting ready';
      await proxyActivities<ApplicationActivities>({
        startToCloseTimeout: timeoutMs + 60_000,
        heartbeatTimeout: '30 seconds',
        retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['NotReady'] },
      }).waitWorkloadReady({ ...workload, timeoutMs });
    };

    if (component.workloadItem) {
      progressOf.state = 'resources';
      await restoreResources('workloads', [component.workloadItem]);
    }
    await waitReady();

    const blueprint = component.stored?.blueprint ?? component.spec.blueprint;
    // A consistency group's data went through Cairn's volume blueprint; the component's own still validates it.
    const dataBlueprint = component.stored?.dataBlueprint ?? blueprint;
    const sourceOf = (name: string) => {
      const source = point.blueprints?.[name];
      if (!source) throw ApplicationFailure.create({ type: 'CairnError', message: `restore point ${point.id} keeps no source of blueprint ${name}`, nonRetryable: true });
      return source;
    };
    let workflowId: string | undefined;
    let validated = false;
    if (blueprint && dataBlueprint) {
      const source = sourceOf(blueprint);
      const child = (name: string, action: string, id: string, artifacts?: RunActionInput['artifacts']) => {
        sourceOf(name); // a restore point that lacks the source fails here, naming itself
        return runComponentAction(children, {
          blueprint: name,
          action,
          target: workloadTarget(component.spec, plan.targetNamespace),
          workflowId: id,
          options: name === blueprint ? { ...component.spec.options, ...(component.stored?.strategy ? { strategy: component.stored.strategy } : {}) } : {},
          ...(artifacts ? { artifacts } : {}),
        });
      };
      const childId = `${info.workflowId}/${component.name}`;
      const artifacts = component.stored?.artifacts ?? {};
      if (Object.keys(artifacts).length) {
        workflowId = childId;
        Object.assign(progressOf, { state: 'data', workflowId });
        await child(dataBlueprint, 'restore', childId, artifacts);
        // A data restore may scale the workload down and up again: ready means ready after it.
        await waitReady();
      }
      if (readiness.validate !== false && hasAction(source, 'validate')) {
        progressOf.state = 'validating';
        await child(blueprint, 'validate', `${childId}/validate`);
        validated = true;
      }
    }
    progressOf.state = 'ready';
    return { name: component.name, startedAtMs, readyAtMs: Date.now() - startedAt, ...(workflowId ? { workflowId } : {}), validated };
  }
}
