/**
 * `when`: a phase, group, defer phase or output artifact that is part of the plan only for some options
 * (`when: '{{eq (default "logical" Options.strategy) "snapshot"}}'`) or input artifacts (a restore that takes
 * the path of the artifact its backup made). Decided by the compiler, from the run's options and input
 * artifacts alone, so the plan — pinned in the run's history — holds exactly the steps that will run and a
 * resumed run never re-decides. Dependencies on a dropped entry pass on to what that entry depended on, so
 * "each phase after the one listed before it" still holds among the phases that remain.
 */
import { CairnError } from '../diagnostics.ts';
import type { JsonObject } from '../json.ts';
import { renderString } from '../template/render.ts';
import { formatPath, type PathSegment } from '../yaml-source.ts';
import type { BlueprintAction, OutputArtifactSpec, PhaseEntry, PhaseSpec } from './types.ts';
import { isPhaseGroup } from './types.ts';

/** The context roots a `when` may read: everything else is known only once the run has started. */
export const CONDITION_ROOTS = ['Options', 'ArtifactsIn'] as const;

/** What a `when` is rendered against: the run's options and its input artifacts (empty for a backup). */
export interface ConditionInputs {
  options: JsonObject;
  artifacts?: Record<string, JsonObject>;
}

/** Whether any entry of the action (at any depth), its defer phase or an output artifact has a `when`. */
export function hasConditions(action: BlueprintAction): boolean {
  const entries = (list: PhaseEntry[]): boolean =>
    list.some((entry) => entry.when !== undefined || (isPhaseGroup(entry) && (entries(entry.phases) || entry.deferPhase?.when !== undefined)));
  return entries(action.phases) || action.deferPhase?.when !== undefined || Object.values(action.outputArtifacts ?? {}).some((a) => a.when !== undefined);
}

/** The action with every entry whose `when` renders `false` removed, and the `when` fields themselves gone. */
export function selectByConditions(action: BlueprintAction, inputs: ConditionInputs, actionPath: PathSegment[]): BlueprintAction {
  if (!hasConditions(action)) return action;
  const context = { Options: inputs.options, ArtifactsIn: inputs.artifacts ?? {} };
  const decide = (when: string | undefined, path: PathSegment[]): boolean => (when === undefined ? true : evaluate(when, context, [...path, 'when']));
  const selected: BlueprintAction = { ...action, phases: selectEntries(action.phases, [...actionPath, 'phases'], decide) };
  if (selected.phases.length === 0) {
    throw conditionError('no-phases', [...actionPath, 'phases'], 'every phase is left out by its when for these options and input artifacts', 'check the options and the artifacts given to the run');
  }
  delete selected.deferPhase;
  if (action.deferPhase && decide(action.deferPhase.when, [...actionPath, 'deferPhase'])) selected.deferPhase = withoutWhen(action.deferPhase);
  if (action.outputArtifacts) {
    const artifacts: Record<string, OutputArtifactSpec> = {};
    for (const [name, artifact] of Object.entries(action.outputArtifacts)) {
      if (!decide(artifact.when, [...actionPath, 'outputArtifacts', name])) continue;
      const { when: _when, ...rest } = artifact;
      artifacts[name] = rest;
    }
    selected.outputArtifacts = artifacts;
  }
  return selected;
}

function selectEntries(entries: PhaseEntry[], path: PathSegment[], decide: (when: string | undefined, path: PathSegment[]) => boolean): PhaseEntry[] {
  const kept = new Map<string, PhaseEntry>();
  const declared = new Map<string, string[]>();
  entries.forEach((entry, index) => {
    declared.set(entry.name, entry.dependsOn ? [...entry.dependsOn] : index > 0 ? [entries[index - 1]!.name] : []);
    const entryPath = [...path, index];
    if (!decide(entry.when, entryPath)) return;
    if (!isPhaseGroup(entry)) {
      kept.set(entry.name, withoutWhen(entry));
      return;
    }
    const phases = selectEntries(entry.phases, [...entryPath, 'phases'], decide);
    // A group left with no phases is dropped whole, its defer phase too: there is nothing for it to release.
    if (phases.length === 0) return;
    const { when: _when, deferPhase, ...group } = entry;
    kept.set(entry.name, { ...group, phases, ...(deferPhase && decide(deferPhase.when, [...entryPath, 'deferPhase']) ? { deferPhase: withoutWhen(deferPhase) } : {}) });
  });
  if (kept.size === entries.length) return [...kept.values()];

  // Dependencies on dropped siblings are replaced by what those depended on, transitively.
  const resolve = (names: string[], seen: Set<string>): string[] =>
    names.flatMap((name) => {
      if (kept.has(name) || !declared.has(name)) return [name];
      if (seen.has(name)) return [];
      seen.add(name);
      return resolve(declared.get(name)!, seen);
    });
  return [...kept.values()].map((entry) => ({ ...entry, dependsOn: [...new Set(resolve(declared.get(entry.name)!, new Set()))] }));
}

function withoutWhen<T extends PhaseSpec>(phase: T): T {
  const { when: _when, ...rest } = phase;
  return rest as T;
}

function evaluate(when: string, context: Record<string, unknown>, path: PathSegment[]): boolean {
  let rendered: string;
  try {
    rendered = renderString(when, context).trim();
  } catch (error) {
    throw conditionError('when-render', path, (error as Error).message);
  }
  if (rendered === 'true') return true;
  if (rendered === 'false') return false;
  // Anything else stops the run before it starts, with the rendered text as the message: a blueprint refuses
  // bad options this way (`{{else}}options.strategy must be logical or snapshot{{/if}}`).
  throw conditionError('when-value', path, rendered === '' ? 'rendered nothing; a when must render true or false' : rendered, 'a when renders true or false; anything else refuses the run with that text');
}

function conditionError(code: string, path: PathSegment[], message: string, hint?: string): CairnError {
  return new CairnError([{ code, severity: 'error', message, path: formatPath(path), ...(hint ? { hint } : {}) }]);
}
