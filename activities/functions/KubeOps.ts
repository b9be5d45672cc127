/**
 * KubeOps: create, apply (server-side), patch, get or delete any object, namespaced or cluster-scoped, CRDs
 * included, found through discovery. Kanister's `create` and `delete` keep their args and outputs (the
 * object's reference); `apply`, `patch` and `get` are Cairn's. Every operation is safe to retry: a create that
 * finds its object with the same content succeeds, a delete that finds nothing succeeds, apply and merge patches
 * are idempotent by nature.
 */
import type { JsonObject, JsonValue } from '../../src/json.ts';
import { isJsonObject } from '../../src/json.ts';
import { statusCodeOf, type DynamicObjectApi, type PatchType } from '../../src/kube/dynamic.ts';
import { parseSourceText } from '../../src/yaml-source.ts';
import { specDifferences, specObjects } from './kube-ops-spec.ts';
import { describeApiError, describeTarget, discover, isPermanentApiError, referenceOutputs, resolveReference, shownObject, type ObjectTarget } from './object-ref.ts';
import { pause } from './pause.ts';
import { PermanentFunctionError, type CairnFunction, type FunctionContext, type FunctionOutputs } from './types.ts';

/** Labels an object created from a spec with only `generateName`, so that a retry finds it instead of making another. */
const CREATED_BY_LABEL = 'cairn.io/kubeops-create';

export const KubeOps: CairnFunction = {
  name: 'KubeOps',
  async run(context) {
    const operation = String(context.args.operation);
    switch (operation) {
      case 'create':
      case 'apply':
        return fromSpec(context, operation);
      case 'delete':
        return remove(context);
      case 'get':
        return get(context);
      case 'patch':
        return patch(context);
      default:
        throw new PermanentFunctionError(`args.operation must be create, apply, patch, get or delete, not "${operation}"`);
    }
  },
};

async function fromSpec(context: FunctionContext, operation: 'create' | 'apply'): Promise<FunctionOutputs> {
  const { args, kube } = context;
  const objects = specObjects(args.spec, operation);
  const createdNow: ObjectTarget[] = [];
  try {
    return await eachObject(context, operation, objects, createdNow);
  } catch (error) {
    // A spec that cannot be completed is not retried: take back what this attempt created of it.
    if (error instanceof PermanentFunctionError) {
      for (const target of createdNow) {
        await kube().dynamic.deleteObject(target.resource, target.name, target.namespace).catch((cleanup: unknown) => {
          if (statusCodeOf(cleanup) !== 404) context.log('could not delete an object created before the failure', { object: describeTarget(target) });
        });
      }
    }
    throw error;
  }
}

async function eachObject(context: FunctionContext, operation: 'create' | 'apply', objects: JsonObject[], createdNow: ObjectTarget[]): Promise<FunctionOutputs> {
  const { args, kube, template } = context;
  let outputs: FunctionOutputs = {};
  for (const [index, object] of objects.entries()) {
    const where = objects.length > 1 ? `args.spec (object ${index + 1})` : 'args.spec';
    const resource = await discover(where, () => kube().dynamic.resourceForKind(String(object.apiVersion), String(object.kind)));
    const metadata = object.metadata as JsonObject;
    // Kanister: the namespace in the spec wins over the namespace arg.
    const namespace = resource.namespaced ? String(metadata.namespace ?? args.namespace ?? template.Namespace) : undefined;
    if (namespace) metadata.namespace = namespace;
    else delete metadata.namespace;
    const target: ObjectTarget = { resource, name: String(metadata.name ?? metadata.generateName ?? ''), namespace };
    const created = operation === 'create' ? await create(context, object, target, index, createdNow) : await apply(context, object, target);
    outputs = referenceOutputs({ ...target, name: String((created.metadata as JsonObject).name) });
  }
  return outputs;
}

async function create(context: FunctionContext, object: JsonObject, target: ObjectTarget, index: number, createdNow: ObjectTarget[]): Promise<JsonObject> {
  const { dynamic } = context.kube();
  const metadata = object.metadata as JsonObject;
  if (metadata.name === undefined) {
    const marker = context.resourceName(`create-${index}`);
    metadata.labels = { ...(isJsonObject(metadata.labels) ? metadata.labels : {}), [CREATED_BY_LABEL]: marker };
    const [earlier] = await dynamic.listObjects(target.resource, target.namespace, `${CREATED_BY_LABEL}=${marker}`);
    if (earlier) {
      context.log('object of an earlier attempt found', { object: describeTarget({ ...target, name: String((earlier.metadata as JsonObject).name) }) });
      return earlier;
    }
  }
  context.heartbeat({ operation: 'create', object: describeTarget(target) });
  try {
    const created = await dynamic.createObject(target.resource, object, target.namespace);
    createdNow.push({ ...target, name: String((created.metadata as JsonObject).name) });
    return created;
  } catch (error) {
    if (statusCodeOf(error) !== 409 || metadata.name === undefined) throw apiFailure(error, 'create', target);
  }
  // AlreadyExists: an earlier attempt of this phase (or someone else) made it; fine if it is what the spec says.
  const existing = await dynamic.get(target.resource, target.name, target.namespace);
  const differences = specDifferences(object, existing);
  if (differences.length > 0) {
    throw new PermanentFunctionError(
      `${describeTarget(target)} already exists and differs from the spec at ${differences.slice(0, 3).join(', ')}${differences.length > 3 ? ', …' : ''}; delete it first, or use operation: apply`,
    );
  }
  context.log('object exists already with the same spec', { object: describeTarget(target) });
  return existing;
}

async function apply(context: FunctionContext, object: JsonObject, target: ObjectTarget): Promise<JsonObject> {
  if ((object.metadata as JsonObject).name === undefined) throw new PermanentFunctionError('args.spec: apply needs metadata.name (generateName cannot be applied)');
  context.heartbeat({ operation: 'apply', object: describeTarget(target) });
  try {
    return await context.kube().dynamic.patchObject(target.resource, target.name, target.namespace, object, 'apply');
  } catch (error) {
    throw apiFailure(error, 'apply', target);
  }
}

async function remove(context: FunctionContext): Promise<FunctionOutputs> {
  const { dynamic } = context.kube();
  const target = await referenced(context);
  try {
    await dynamic.deleteObject(target.resource, target.name, target.namespace);
    context.log('delete requested', { object: describeTarget(target) });
  } catch (error) {
    if (statusCodeOf(error) !== 404) throw apiFailure(error, 'delete', target);
    context.log('nothing to delete: already gone', { object: describeTarget(target) });
  }
  // Finalizers can keep an object a while; the phase is done when it is gone, so a later create can reuse its name.
  for (;;) {
    const remaining = await stillThere(dynamic, target);
    if (!remaining) break;
    const finalizers = (remaining.metadata as JsonObject | undefined)?.finalizers ?? [];
    context.heartbeat({ operation: 'delete', object: describeTarget(target), waitingFor: 'deletion', finalizers });
    await pause(500, context.signal, `cancelled while waiting for ${describeTarget(target)} to be deleted`);
  }
  return referenceOutputs(target);
}

async function stillThere(dynamic: DynamicObjectApi, target: ObjectTarget): Promise<JsonObject | undefined> {
  try {
    return await dynamic.get(target.resource, target.name, target.namespace);
  } catch (error) {
    if (statusCodeOf(error) === 404) return undefined;
    throw error;
  }
}

async function get(context: FunctionContext): Promise<FunctionOutputs> {
  const target = await referenced(context);
  context.heartbeat({ operation: 'get', object: describeTarget(target) });
  try {
    const object = await context.kube().dynamic.get(target.resource, target.name, target.namespace);
    return { ...referenceOutputs(target), object: shownObject(object) };
  } catch (error) {
    if (statusCodeOf(error) === 404) throw new PermanentFunctionError(`${describeTarget(target)} not found`);
    throw apiFailure(error, 'get', target);
  }
}

async function patch(context: FunctionContext): Promise<FunctionOutputs> {
  const { args } = context;
  const target = await referenced(context);
  const body = patchBody(args.patch);
  const type = (args.patchType as PatchType | undefined) ?? (Array.isArray(body) ? 'json' : 'merge');
  if (type === 'json' && !Array.isArray(body)) throw new PermanentFunctionError('args.patch: a json patch is a list of operations ([{op: replace, path: /spec/x, value: …}])');
  if (type !== 'json' && !isJsonObject(body)) throw new PermanentFunctionError(`args.patch: a ${type} patch is a mapping; a list of operations needs patchType: json`);
  const sent = type === 'apply' ? { apiVersion: target.resource.apiVersion, kind: target.resource.kind, ...(body as JsonObject), metadata: { ...((body as JsonObject).metadata as JsonObject | undefined), name: target.name } } : body;
  context.heartbeat({ operation: 'patch', patchType: type, object: describeTarget(target) });
  try {
    await context.kube().dynamic.patchObject(target.resource, target.name, target.namespace, sent, type);
  } catch (error) {
    if (statusCodeOf(error) === 404) throw new PermanentFunctionError(`${describeTarget(target)} not found`);
    if (statusCodeOf(error) === 415) throw new PermanentFunctionError(`${describeTarget(target)} does not take ${type} patches${type === 'strategic' ? ' (strategic merge works on built-in kinds only); use patchType: merge' : ''}`);
    throw apiFailure(error, 'patch', target);
  }
  return referenceOutputs(target);
}

function referenced(context: FunctionContext): Promise<ObjectTarget> {
  const namespace = typeof context.args.namespace === 'string' ? context.args.namespace : context.template.Namespace;
  return resolveReference(context.kube().dynamic, context.args.objectReference, 'args.objectReference', namespace);
}

/** A patch written as YAML/JSON text or as structured data. */
function patchBody(value: JsonValue | undefined): JsonValue {
  if (value === undefined) throw new PermanentFunctionError('args.patch is required for operation patch');
  if (typeof value !== 'string') return value;
  const parsed = parseSourceText(value, 'args.patch');
  const problem = parsed.diagnostics[0];
  if (problem) throw new PermanentFunctionError(`args.patch is not valid YAML or JSON: ${problem.message} (line ${problem.line ?? '?'})`);
  if (parsed.documents.length !== 1) throw new PermanentFunctionError(`args.patch holds ${parsed.documents.length} documents; a patch is one`);
  return parsed.documents[0]!.value as JsonValue;
}

function apiFailure(error: unknown, what: string, target: ObjectTarget): Error {
  const message = describeApiError(error, what, target);
  return isPermanentApiError(error) ? new PermanentFunctionError(message) : new Error(message);
}
