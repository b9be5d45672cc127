/**
 * What KubeOps and WaitV2 share: Kanister's `objectReference` (apiVersion — the version alone with `group`, or
 * `group/version` — plus `resource` or `kind`, `name`, `namespace`) resolved through discovery, the outputs
 * Kanister gives for an object, and errors that say which object.
 */
import { isJsonObject, type JsonObject, type JsonValue } from '../../src/json.ts';
import { apiErrorMessage, joinApiVersion, statusCodeOf, UnknownResourceError, type ApiResource, type DynamicObjectApi } from '../../src/kube/dynamic.ts';
import { PermanentFunctionError } from './types.ts';

export interface ObjectTarget {
  resource: ApiResource;
  name: string;
  /** Undefined for cluster-scoped objects. */
  namespace: string | undefined;
}

/**
 * Resolves `reference` (found at `argPath` in the args, for errors). A namespaced object without a namespace is
 * looked for in `defaultNamespace`.
 */
export async function resolveReference(dynamic: DynamicObjectApi, reference: JsonValue | undefined, argPath: string, defaultNamespace: string): Promise<ObjectTarget> {
  if (!isJsonObject(reference)) throw new PermanentFunctionError(`${argPath} is required for this operation`);
  const text = (key: string) => (typeof reference[key] === 'string' && reference[key] !== '' ? (reference[key] as string) : undefined);
  const apiVersion = text('apiVersion');
  const name = text('name');
  const resourceName = text('resource');
  const kind = text('kind');
  if (!apiVersion) throw new PermanentFunctionError(`${argPath}.apiVersion is required (e.g. v1, or apps/v1, or v1 with group: apps)`);
  if (!name) throw new PermanentFunctionError(`${argPath}.name is required`);
  if (!resourceName && !kind) throw new PermanentFunctionError(`${argPath} needs resource (e.g. configmaps) or kind (e.g. ConfigMap)`);
  const resource = await discover(argPath, () => {
    const joined = joinApiVersion(apiVersion, text('group'));
    return resourceName ? dynamic.resourceNamed(joined, resourceName) : dynamic.resourceForKind(joined, kind!);
  });
  if (resourceName && kind && resource.kind !== kind) throw new PermanentFunctionError(`${argPath}: resource "${resourceName}" holds ${resource.kind} objects, not ${kind}`);
  return { resource, name, namespace: resource.namespaced ? (text('namespace') ?? defaultNamespace) : undefined };
}

/** Runs a discovery lookup, turning "no such kind/resource" into a permanent error naming the arg. */
export async function discover<T>(argPath: string, lookup: () => Promise<T>): Promise<T> {
  try {
    return await lookup();
  } catch (error) {
    if (error instanceof UnknownResourceError) throw new PermanentFunctionError(`${argPath}: ${error.message}`);
    throw error;
  }
}

/** `configmaps shop/settings`, `clusterroles reader`. */
export function describeTarget({ resource, name, namespace }: ObjectTarget): string {
  const plural = resource.group ? `${resource.resource}.${resource.group}` : resource.resource;
  return `${plural} ${namespace ? `${namespace}/` : ''}${name}`;
}

/**
 * Kanister's outputs for an object (its ObjectReference): `apiVersion` is the version alone, `group` the group;
 * Cairn adds `version` (the same as apiVersion) and fills `kind`, which Kanister leaves empty.
 */
export function referenceOutputs({ resource, name, namespace }: ObjectTarget): JsonObject {
  return { apiVersion: resource.version, group: resource.group, version: resource.version, resource: resource.resource, kind: resource.kind, name, namespace: namespace ?? '' };
}

/** An object as outputs and heartbeats may show it: no managedFields, and nothing of a Secret's values. */
export function shownObject(object: JsonObject): JsonObject {
  const copy = structuredClone(object);
  const metadata = isJsonObject(copy.metadata) ? copy.metadata : undefined;
  if (metadata) delete metadata.managedFields;
  if (copy.kind === 'Secret' && copy.apiVersion === 'v1') {
    delete copy.data;
    delete copy.stringData;
    const annotations = metadata && isJsonObject(metadata.annotations) ? metadata.annotations : undefined;
    if (annotations) delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
  }
  return copy;
}

/**
 * An API error as a message about `target`. The server's words are kept, except for Secrets, whose validation
 * messages can quote the values sent.
 */
export function describeApiError(error: unknown, what: string, target: ObjectTarget): string {
  const code = statusCodeOf(error);
  const reason = (error as { body?: { reason?: unknown } } | null)?.body?.reason;
  const detail = target.resource.kind === 'Secret' ? (typeof reason === 'string' ? reason : `HTTP ${code ?? '?'}`) : apiErrorMessage(error);
  return `cannot ${what} ${describeTarget(target)}: ${detail}`;
}

/** Failures of a request that a retry cannot fix: the request itself is wrong. */
export function isPermanentApiError(error: unknown): boolean {
  const code = statusCodeOf(error);
  return code === 400 || code === 404 || code === 415 || code === 422;
}
