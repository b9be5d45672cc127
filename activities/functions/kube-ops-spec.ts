/**
 * KubeOps' `spec` arg: a YAML/JSON text (as Kanister passes it, possibly several documents or a `List`) or a
 * mapping, turned into the objects to create or apply; and the comparison that tells a retried create whether the
 * object it finds is the one its spec describes.
 */
import { isJsonObject, type JsonObject, type JsonValue } from '../../src/json.ts';
import { parseSourceText } from '../../src/yaml-source.ts';
import { PermanentFunctionError } from './types.ts';

export function specObjects(spec: JsonValue | undefined, operation: string): JsonObject[] {
  if (spec === undefined || spec === '') throw new PermanentFunctionError(`args.spec is required for operation ${operation}`);
  let documents: JsonValue[];
  if (typeof spec === 'string') {
    const parsed = parseSourceText(spec, 'args.spec');
    const problem = parsed.diagnostics[0];
    if (problem) throw new PermanentFunctionError(`args.spec is not valid YAML: ${problem.message}${problem.line ? ` (line ${problem.line} of the spec)` : ''}`);
    documents = parsed.documents.map((d) => d.value as JsonValue).filter((value) => value !== null && value !== undefined);
  } else documents = [spec];
  // `kind: List` (what `kubectl get -o yaml` prints for several objects) stands for its items.
  const objects = documents.flatMap((document) => (isJsonObject(document) && document.kind === 'List' && Array.isArray(document.items) ? document.items : [document]));
  if (objects.length === 0) throw new PermanentFunctionError('args.spec holds no object');
  return objects.map((object, index) => {
    const where = objects.length > 1 ? `args.spec (object ${index + 1})` : 'args.spec';
    if (!isJsonObject(object)) throw new PermanentFunctionError(`${where} must be a mapping with apiVersion, kind and metadata`);
    for (const field of ['apiVersion', 'kind'] as const) {
      if (typeof object[field] !== 'string' || object[field] === '') throw new PermanentFunctionError(`${where} has no ${field}`);
    }
    const metadata = object.metadata;
    if (!isJsonObject(metadata) || (typeof metadata.name !== 'string' && typeof metadata.generateName !== 'string')) {
      throw new PermanentFunctionError(`${where} needs metadata.name (or metadata.generateName)`);
    }
    return structuredClone(object);
  });
}

/**
 * Where `existing` does not hold what `desired` says, as paths (`data.color`, `spec.replicas`). Fields the
 * server adds (defaults, status, metadata other than labels and annotations) are not differences.
 */
export function specDifferences(desired: JsonObject, existing: JsonObject): string[] {
  const wanted = secretAsStored(desired);
  const differences: string[] = [];
  for (const [key, value] of Object.entries(wanted)) {
    if (key === 'apiVersion' || key === 'kind' || key === 'status') continue;
    if (key === 'metadata' && isJsonObject(value)) {
      const actual = isJsonObject(existing.metadata) ? existing.metadata : {};
      for (const field of ['labels', 'annotations']) if (value[field] !== undefined) compare(value[field]!, actual[field], `metadata.${field}`, differences);
      continue;
    }
    compare(value, existing[key], key, differences);
  }
  return differences;
}

function compare(desired: JsonValue, actual: JsonValue | undefined, path: string, differences: string[]): void {
  if (isJsonObject(desired)) {
    if (!isJsonObject(actual)) differences.push(path);
    else for (const [key, value] of Object.entries(desired)) compare(value, actual[key], `${path}.${key}`, differences);
  } else if (Array.isArray(desired)) {
    if (!Array.isArray(actual) || actual.length !== desired.length) differences.push(path);
    else desired.forEach((item, index) => compare(item, actual[index], `${path}[${index}]`, differences));
  } else if (desired !== actual && !(desired !== null && actual !== null && actual !== undefined && typeof actual !== 'object' && String(desired) === String(actual))) {
    // Numbers and strings compare by text: int-or-string fields (ports, quantities) come back in either form.
    differences.push(path);
  }
}

/** The server keeps a Secret's stringData as base64 data; compare in that form. */
function secretAsStored(object: JsonObject): JsonObject {
  if (object.kind !== 'Secret' || !isJsonObject(object.stringData)) return object;
  const { stringData, ...rest } = object;
  const data: JsonObject = { ...(isJsonObject(rest.data) ? rest.data : {}) };
  for (const [key, value] of Object.entries(stringData)) data[key] = Buffer.from(String(value), 'utf8').toString('base64');
  return { ...rest, data };
}
