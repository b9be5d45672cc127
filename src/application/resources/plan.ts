/**
 * Which of a bundle's objects one restore stage applies, in which order (kinds.ts), narrowed to `only` when a
 * single-item restore names items. Pure.
 */
import type { JsonObject } from '../../json.ts';
import type { ResourceItem, RestoreResourcesInput } from '../types.ts';
import { identityOf } from './clean.ts';
import { compareForRestore, sameItem, stageOf } from './kinds.ts';

export interface PlannedObject {
  item: ResourceItem;
  object: JsonObject;
}

export function planStage(objects: JsonObject[], input: Pick<RestoreResourcesInput, 'stage' | 'only' | 'componentWorkloads'>): PlannedObject[] {
  const planned = objects.map((object) => ({ item: identityOf(object) as ResourceItem, object }));
  const inStage = planned.filter(({ item }) => {
    const stage = stageOf(item);
    switch (input.stage) {
      case 'foundation':
        return stage === 'foundation';
      case 'workloads':
        return stage === 'workloads';
      case 'rest':
        // Workloads of no component come back with the rest; a component's come back in its own step.
        return stage === 'rest' || (stage === 'workloads' && !(input.componentWorkloads ?? []).some((w) => sameItem(w, item)));
      default:
        return false;
    }
  });
  const chosen = input.only ? inStage.filter(({ item }) => input.only!.some((wanted) => sameItem(wanted, item))) : inStage;
  return chosen.sort((a, b) => compareForRestore(a.item, b.item));
}

/** `only` items that name nothing in the bundle: a typo in a single-item restore is an error, not a no-op. */
export function unmatchedItems(objects: JsonObject[], only: ResourceItem[] | undefined): ResourceItem[] {
  if (!only) return [];
  const items = objects.map((object) => identityOf(object) as ResourceItem);
  return only.filter((wanted) => !items.some((item) => sameItem(wanted, item)));
}
