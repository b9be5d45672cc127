/**
 * Which of the API server's resources a capture lists: every namespaced kind that can be listed and created,
 * less the ones never captured, narrowed by the selection's include/exclude kinds. The label selector is the
 * API server's to apply (it is passed on the list calls); cluster-scoped dependencies are chosen by use.
 */
import type { ApiResource } from '../../kube/dynamic.ts';
import type { ResourceSelection } from '../types.ts';
import { NEVER_CAPTURED, SKIPPED_BY_DEFAULT } from './kinds.ts';

/**
 * A kind pattern names a resource as users write it: the kind (`ConfigMap`, any case), the plural
 * (`configmaps`), or plural.group (`widgets.example.com`, `deployments.apps`).
 */
export function kindMatches(pattern: string, resource: Pick<ApiResource, 'kind' | 'resource' | 'group'>): boolean {
  const wanted = pattern.trim().toLowerCase();
  if (wanted === resource.kind.toLowerCase() || wanted === resource.resource) return true;
  if (resource.group && (wanted === `${resource.resource}.${resource.group}` || wanted === `${resource.kind.toLowerCase()}.${resource.group}`)) return true;
  return false;
}

/**
 * The namespaced resources to list, one per kind: when a kind is served by several groups (events in core and
 * events.k8s.io), discovery order keeps the first.
 */
export function resourcesToCapture(served: ApiResource[], selection: ResourceSelection): ApiResource[] {
  const include = selection.includeKinds ?? [];
  const exclude = selection.excludeKinds ?? [];
  const chosen = new Map<string, ApiResource>();
  for (const resource of served) {
    if (!resource.namespaced || NEVER_CAPTURED.has(resource.resource)) continue;
    if (!resource.verbs.includes('list') || !resource.verbs.includes('create')) continue;
    const included = include.some((p) => kindMatches(p, resource));
    if (include.length && !included) continue;
    if (SKIPPED_BY_DEFAULT.has(resource.resource) && !included) continue;
    if (exclude.some((p) => kindMatches(p, resource))) continue;
    const key = `${resource.group}/${resource.kind}`;
    if (!chosen.has(key)) chosen.set(key, resource);
  }
  return [...chosen.values()];
}

/** Whether a kind given by name only (`Namespace`, `StorageClass`) is wanted by the selection. */
export function kindWanted(kind: string, group: string, resource: string, selection: ResourceSelection): boolean {
  const shape = { kind, group, resource };
  if (selection.excludeKinds?.some((p) => kindMatches(p, shape))) return false;
  return true;
}

/** Kind patterns that match nothing the server serves: a typo should not silently capture nothing. */
export function unknownKindPatterns(served: ApiResource[], selection: ResourceSelection): string[] {
  return [...(selection.includeKinds ?? []), ...(selection.excludeKinds ?? [])].filter((p) => !served.some((r) => kindMatches(p, r)));
}
