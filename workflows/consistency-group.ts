/**
 * An Application backed up as one consistency group: every component's blueprint quiesces its database (all at
 * once), ONE group snapshot cuts all their volumes together, every quiesce is released (always, even when the
 * backup failed or was cancelled), and only then is each volume exported, bounded like any component backup.
 * The data thus lies at one instant across databases, and no database stays quiesced for an export.
 * Deterministic code only: each step is a child runAction of a component blueprint or of Cairn's `cairn-volume`.
 */
import { ApplicationFailure, CancellationScope } from '@temporalio/workflow';
import { hasAction } from '../src/application/blueprint-actions.ts';
import { workloadTarget } from '../src/application/restore-plan.ts';
import {
  GROUP_ACTIONS,
  GROUP_BLUEPRINT,
  type ApplicationProgress,
  type ComponentBackupRecord,
  type ComponentSpec,
  type ConsistencyGroupResult,
} from '../src/application/types.ts';
import { innermostMessage } from '../src/diagnostics.ts';
import type { JsonObject } from '../src/json.ts';
import type { ArtifactValue, RunActionResult } from '../src/run/types.ts';
import { backupRecord, failedComponents, runComponentAction, runComponents, type ComponentRunContext } from './component-dag.ts';

export type DataComponent = ComponentSpec & { blueprint: string };

export interface GroupBackupInput {
  workflowId: string;
  namespace: string;
  /** How the children run; its blueprints include Cairn's GROUP_BLUEPRINT. */
  children: ComponentRunContext;
  components: DataComponent[];
  concurrency: number;
  progress: ApplicationProgress;
}

export interface GroupBackupOutcome {
  records: Map<string, ComponentBackupRecord>;
  /** Component → milliseconds its export took. */
  durations: Map<string, number>;
  group: ConsistencyGroupResult;
}

export async function backupAsGroup(input: GroupBackupInput): Promise<GroupBackupOutcome> {
  const { progress, workflowId } = input;
  const state = (name: string) => progress.components.find((c) => c.name === name)!;
  const fail = (message: string, cause?: unknown): never => {
    throw ApplicationFailure.create({ type: 'ComponentFailed', message: `backup of ${input.children.application}: ${message}; no restore point was written`, nonRetryable: true, cause: cause instanceof Error ? cause : undefined });
  };
  const lacking = input.components.filter((c) => GROUP_ACTIONS.some((action) => !hasAction(input.children.blueprints[c.blueprint]!, action)));
  if (lacking.length) {
    throw ApplicationFailure.create({
      type: 'InvalidApplication',
      message: `${input.children.application}: spec.consistencyGroup needs quiesce and unquiesce actions, which blueprint ${lacking.map((c) => `${c.blueprint} (component ${c.name})`).join(', ')} lacks`,
      nonRetryable: true,
    });
  }
  const run = (blueprint: string, action: string, target: string, childId: string, options: JsonObject, artifacts?: Record<string, ArtifactValue>): Promise<RunActionResult> =>
    runComponentAction(input.children, { blueprint, action, target, workflowId: childId, options, ...(artifacts ? { artifacts } : {}) });
  const namespaceTarget = `namespace/${input.namespace}`;
  const targetOf = (c: DataComponent) => workloadTarget(c, input.namespace);

  // 1. Quiesce every component at once; each waits for the others, so every hold overlaps the group snapshot.
  progress.stage = 'quiesce';
  const quiesced = new Map<string, ArtifactValue>();
  const errors: { name: string; error: unknown }[] = [];
  let group: { artifact: ArtifactValue; snapshots: Record<string, string>; method: string } | undefined;
  const windows = new Map<string, number>();
  try {
    await Promise.all(input.components.map(async (c) => {
      state(c.name).state = 'quiescing';
      try {
        const result = await run(c.blueprint, 'quiesce', targetOf(c), `${workflowId}/${c.name}/quiesce`, c.options ?? {});
        const artifact = result.outputArtifacts.quiesced;
        // Recorded before the check: whatever the action reported holding is released below.
        if (artifact) quiesced.set(c.name, artifact);
        const pvc = artifact?.KeyValue.pvc ?? '';
        if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(pvc)) {
          throw ApplicationFailure.create({ type: 'InvalidBlueprint', message: `the quiesce action of blueprint ${c.blueprint} did not name one PVC in its quiesced artifact (got "${pvc}")`, nonRetryable: true });
        }
        state(c.name).state = 'quiesced';
      } catch (error) {
        Object.assign(state(c.name), { state: 'failed', error: innermostMessage(error) });
        errors.push({ name: c.name, error });
      }
    }));

    // 2. One cut across every quiesced volume.
    if (!errors.length) {
      progress.stage = 'group snapshot';
      const pvcs = input.components.map((c) => quiesced.get(c.name)!.KeyValue.pvc!);
      const shared = pvcs.find((pvc, i) => pvcs.indexOf(pvc) !== i);
      if (shared) fail(`two components name PVC ${shared} as their data volume`);
      const result = await run(GROUP_BLUEPRINT, 'groupSnapshot', namespaceTarget, `${workflowId}/group-snapshot`, { pvcs: pvcs.join(' ') });
      const snapshots = result.phaseOutputs.snapshot?.snapshots;
      const artifact = result.outputArtifacts.group;
      if (!artifact || typeof snapshots !== 'object' || snapshots === null || Array.isArray(snapshots)) fail('the group snapshot reported no snapshots');
      group = { artifact: artifact!, snapshots: snapshots as Record<string, string>, method: artifact!.KeyValue.method ?? '' };
    }
  } catch (error) {
    errors.push({ name: 'group snapshot', error });
  } finally {
    // 3. Release every hold, whatever happened above and even when the backup is being cancelled.
    progress.stage = 'unquiesce';
    await CancellationScope.nonCancellable(() => Promise.all(input.components.filter((c) => quiesced.has(c.name)).map(async (c) => {
      try {
        const result = await run(c.blueprint, 'unquiesce', targetOf(c), `${workflowId}/${c.name}/unquiesce`, c.options ?? {}, { quiesced: quiesced.get(c.name)! });
        const window = Number(result.outputArtifacts.unquiesced?.KeyValue.quiesceWindowMs || NaN);
        if (Number.isFinite(window)) windows.set(c.name, window);
      } catch (error) {
        // A hold that ended before its release (a watchdog) may not have covered the cut.
        Object.assign(state(c.name), { state: 'failed', error: innermostMessage(error) });
        errors.push({ name: c.name, error });
      }
    })));
  }

  try {
    if (errors.length || !group) {
      const first = errors[0];
      return fail(`the consistent cut failed (${errors.map((e) => e.name).join(', ')}): ${first ? innermostMessage(first.error) : 'no group snapshot'}`, first?.error);
    }
    const cut = group;
    for (const c of input.components) state(c.name).state = 'pending';

    // 4. Export each component's volume from the group snapshot, bounded like independent backups.
    progress.stage = 'export';
    const byName = new Map(input.components.map((c) => [c.name, c]));
    const records = new Map<string, ComponentBackupRecord>();
    const durations = new Map<string, number>();
    const firstError = await runComponents(input.components.map((c) => ({ name: c.name })), { concurrency: input.concurrency }, progress, async (name) => {
      const c = byName.get(name)!;
      const pvc = quiesced.get(name)!.KeyValue.pvc!;
      const volumeSnapshot = cut.snapshots[pvc];
      if (!volumeSnapshot) fail(`the group snapshot holds no snapshot of PVC ${pvc} (component ${name})`);
      const childId = `${workflowId}/${name}`;
      const started = Date.now();
      Object.assign(state(name), { state: 'running', workflowId: childId });
      const result = await run(GROUP_BLUEPRINT, 'backup', targetOf(c), childId, { pvc, volumeSnapshot: volumeSnapshot! });
      records.set(name, backupRecord({
        name,
        target: targetOf(c),
        blueprint: c.blueprint,
        dataBlueprint: GROUP_BLUEPRINT,
        ...(windows.has(name) ? { quiesceWindowMs: windows.get(name)! } : {}),
      }, childId, result));
      durations.set(name, Date.now() - started);
      state(name).state = 'succeeded';
    });
    if (firstError !== undefined) {
      fail(`exporting component ${failedComponents(progress)} failed: ${innermostMessage(firstError)}`, firstError);
    }
    const leftover = await dropGroupSnapshot();
    return {
      records,
      durations,
      group: {
        snapshot: cut.artifact.KeyValue.name ?? '',
        method: cut.method,
        pvcs: Object.fromEntries(input.components.map((c) => [c.name, quiesced.get(c.name)!.KeyValue.pvc!])),
        ...(leftover ? { leftover } : {}),
      },
    };
  } catch (error) {
    await dropGroupSnapshot();
    throw error;
  }

  // 5. The group snapshot was only the cut's vehicle: the location holds the data now (or the backup failed).
  // Failing to delete it does not make the exported data less good: it is reported, not thrown.
  async function dropGroupSnapshot(): Promise<string | undefined> {
    if (!group) return undefined;
    const artifact = group.artifact;
    group = undefined;
    try {
      await CancellationScope.nonCancellable(() => run(GROUP_BLUEPRINT, 'dropGroupSnapshot', namespaceTarget, `${workflowId}/group-snapshot/drop`, {}, { group: artifact }));
      return undefined;
    } catch (error) {
      return `group snapshot ${artifact.KeyValue.name} was not deleted: ${innermostMessage(error)}`;
    }
  }
}
