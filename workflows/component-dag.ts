/**
 * How the application workflows run their components: through the dependency DAG, bounded, inside one
 * cancellable scope. The first failure cancels the siblings (their own defer phases still run) and nothing new
 * starts; each component's progress says whether it failed, was cancelled because of another, or never
 * started. Deterministic code only.
 */
import { CancellationScope, executeChild, isCancellation } from '@temporalio/workflow';
import { runDag, type DagNode, type RunDagOptions } from '../src/application/dag.ts';
import type { ApplicationProgress, ComponentBackupRecord } from '../src/application/types.ts';
import type { JsonObject } from '../src/json.ts';
import type { ArtifactValue, RunActionResult, RunRequester } from '../src/run/types.ts';
import { innermostMessage } from '../src/diagnostics.ts';
import { runAction } from './runAction.ts';

/** Runs `work` for every node; resolves to the first failure, or undefined when every component succeeded. */
export async function runComponents(
  nodes: readonly DagNode[],
  options: RunDagOptions,
  progress: ApplicationProgress,
  work: (name: string) => Promise<void>,
): Promise<unknown> {
  const state = (name: string) => progress.components.find((c) => c.name === name)!;
  let firstError: unknown;
  await CancellationScope.cancellable(async () => {
    const scope = CancellationScope.current();
    const outcome = await runDag(nodes, options, async (name) => {
      try {
        await work(name);
      } catch (error) {
        // A sibling cancelled because another failed is not a failure of its own.
        if (isCancellation(error) && firstError !== undefined) state(name).state = 'cancelled';
        else Object.assign(state(name), { state: 'failed', error: innermostMessage(error) });
        firstError ??= error;
        scope.cancel();
        throw error;
      }
    });
    for (const name of outcome.notStarted) state(name).state = 'not started';
  }).catch((error: unknown) => void (firstError ??= error));
  return firstError;
}

/** The components that failed, for a failure message (`?` when none is marked: the scope itself failed). */
export function failedComponents(progress: ApplicationProgress): string {
  return progress.components.filter((c) => c.state === 'failed').map((c) => c.name).join(', ') || '?';
}

/** What a component's backup child leaves for the restore point: its plan, artifacts and phase outputs. */
export function backupRecord(component: Omit<ComponentBackupRecord, 'planHash' | 'workflowId' | 'artifacts' | 'phaseOutputs'>, workflowId: string, result: RunActionResult): ComponentBackupRecord {
  return { ...component, planHash: result.plan.hash, workflowId, artifacts: result.outputArtifacts, phaseOutputs: result.phaseOutputs };
}

/** What every component run of one application workflow shares. */
export interface ComponentRunContext {
  /** Blueprint name → source: the pinned sources (history, or the restore point), never the worker's copies. */
  blueprints: Record<string, string>;
  /** The repository key: all components' data lives in the application's one repository. */
  application: string;
  profile?: string;
  requestedBy?: RunRequester;
  /** Backups: the parent writes the one application restore point, never a child. */
  restorePoint?: false;
}

export interface ComponentRun {
  blueprint: string;
  action: string;
  target: string;
  workflowId: string;
  options: JsonObject;
  artifacts?: Record<string, ArtifactValue>;
}

/** One blueprint action on a component, as a child runAction. */
export function runComponentAction(context: ComponentRunContext, run: ComponentRun): Promise<RunActionResult> {
  return executeChild(runAction, {
    workflowId: run.workflowId,
    args: [{
      blueprint: { inline: context.blueprints[run.blueprint]!, file: `${run.blueprint}.yaml` },
      action: run.action,
      target: run.target,
      options: run.options,
      ...(context.profile ? { profile: context.profile } : {}),
      application: context.application,
      ...(context.restorePoint === false ? { restorePoint: false } : {}),
      ...(run.artifacts ? { artifacts: run.artifacts } : {}),
      ...(context.requestedBy ? { requestedBy: context.requestedBy } : {}),
    }],
  });
}
