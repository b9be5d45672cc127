/**
 * backupApplication: loads the Application, captures its namespace's resources, backs up every component
 * with a blueprint as a child runAction (at most `concurrency` at once, all into the application's one
 * repository), then writes the one application restore point, last: a failed component leaves none.
 * Deterministic code only; every side effect is an activity or a child workflow.
 */
import { ApplicationFailure, defineQuery, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { workloadTarget } from '../src/application/restore-plan.ts';
import {
  DEFAULT_CONCURRENCY,
  type ApplicationActivities,
  type ApplicationBackupInput,
  type ApplicationBackupResult,
  type ApplicationProgress,
  type ComponentBackupRecord,
  type ComponentBackupResult,
  type ConsistencyGroupResult,
  GROUP_BLUEPRINT,
} from '../src/application/types.ts';
import { innermostMessage } from '../src/diagnostics.ts';
import { backupRecord, failedComponents, runComponentAction, runComponents, type ComponentRunContext } from './component-dag.ts';
import { backupAsGroup, type DataComponent } from './consistency-group.ts';

export const applicationProgressQuery = defineQuery<ApplicationProgress>('progress');

const activities = proxyActivities<ApplicationActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 5, initialInterval: '1 second', nonRetryableErrorTypes: ['CairnError', 'InvalidApplication', 'InvalidBlueprint', 'Forbidden'] },
});

export async function backupApplication(input: ApplicationBackupInput): Promise<ApplicationBackupResult> {
  const info = workflowInfo();
  const runTime = info.startTime.toISOString();
  const startedAt = Date.now(); // workflow time: deterministic on replay
  const progress: ApplicationProgress = { operation: 'backup', application: '', stage: 'loading', components: [] };
  setHandler(applicationProgressQuery, () => progress);

  try {
    const spec = await activities.loadApplication({ source: input.application });
    const application = spec.metadata.name;
    await activities.authorizeApplication({
      action: 'backup',
      application,
      namespace: spec.spec.namespace,
      ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
    });
    const profile = input.profile ?? spec.spec.profile;
    progress.application = application;
    const withData = spec.spec.components.filter((c): c is DataComponent => c.blueprint !== undefined);
    progress.components = spec.spec.components.map((c) => ({ name: c.name, state: c.blueprint ? 'pending' : 'succeeded' }));
    const state = (name: string) => progress.components.find((c) => c.name === name)!;

    // The exact sources the children run are the ones the restore point keeps.
    const grouped = spec.spec.consistencyGroup === true && withData.length > 0;
    const blueprints = withData.length ? await activities.resolveBlueprints({ names: [...withData.map((c) => c.blueprint), ...(grouped ? [GROUP_BLUEPRINT] : [])] }) : {};

    progress.stage = 'resources';
    const resources = await activities.captureResources({
      workflowId: info.workflowId,
      runTime,
      application,
      ...(profile ? { profile } : {}),
      namespace: spec.spec.namespace,
      selection: spec.spec.resources ?? {},
    });

    const bound = { concurrency: spec.spec.concurrency ?? DEFAULT_CONCURRENCY };
    let records = new Map<string, ComponentBackupRecord>();
    let durations = new Map<string, number>();
    let group: ConsistencyGroupResult | undefined;
    const children: ComponentRunContext = {
      blueprints,
      application,
      ...(profile ? { profile } : {}),
      ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
      restorePoint: false,
    };
    // Each component on its own, with its own consistent cut (the blueprint's backup action).
    async function backupEach(): Promise<void> {
      const byName = new Map(withData.map((c) => [c.name, c]));
      const firstError = await runComponents(withData.map((c) => ({ name: c.name })), bound, progress, async (name) => {
        const component = byName.get(name)!;
        const childId = `${info.workflowId}/${name}`;
        const started = Date.now();
        Object.assign(state(name), { state: 'running', workflowId: childId });
        const result = await runComponentAction(children, {
          blueprint: component.blueprint,
          action: 'backup',
          target: workloadTarget(component, spec.spec.namespace),
          workflowId: childId,
          options: { ...component.options, ...(component.strategy ? { strategy: component.strategy } : {}) },
        });
        records.set(name, backupRecord({
          name,
          target: workloadTarget(component, spec.spec.namespace),
          blueprint: component.blueprint,
          ...(component.strategy ? { strategy: component.strategy } : {}),
        }, childId, result));
        durations.set(name, Date.now() - started);
        state(name).state = 'succeeded';
      });
      if (firstError !== undefined) {
        throw ApplicationFailure.create({
          type: 'ComponentFailed',
          message: `backup of ${application} failed in component ${failedComponents(progress)}: ${innermostMessage(firstError)}; no restore point was written`,
          nonRetryable: true,
          cause: firstError instanceof Error ? firstError : undefined,
        });
      }
    }

    if (grouped) {
      ({ records, durations, group } = await backupAsGroup({
        workflowId: info.workflowId,
        namespace: spec.spec.namespace,
        children,
        components: withData,
        concurrency: bound.concurrency,
        progress,
      }));
    } else {
      progress.stage = 'components';
      await backupEach();
    }
    progress.stage = 'restore point';
    const restorePoint = await activities.writeApplicationRestorePoint({
      workflowId: info.workflowId,
      runId: info.runId,
      runTime,
      spec,
      ...(profile ? { profile } : {}),
      resources,
      components: withData.map((c) => records.get(c.name)!),
      blueprints,
    });
    progress.stage = 'done';
    return {
      restorePoint,
      components: spec.spec.components.map((c): ComponentBackupResult => ({
        name: c.name,
        ...(records.get(c.name)?.workflowId ? { workflowId: records.get(c.name)!.workflowId! } : {}),
        durationMs: durations.get(c.name) ?? 0,
        ...(records.get(c.name)?.quiesceWindowMs !== undefined ? { quiesceWindowMs: records.get(c.name)!.quiesceWindowMs! } : {}),
      })),
      ...(group ? { consistencyGroup: group } : {}),
      resources: { count: resources.items.length, kinds: resources.kinds },
      durationMs: Date.now() - startedAt,
    };
  } catch (error) {
    progress.stage = 'failed';
    throw error;
  }
}
