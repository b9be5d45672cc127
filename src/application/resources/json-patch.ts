/**
 * RFC 6902 JSON Patch over plain JSON, with RFC 6901 pointers (`~0` is `~`, `~1` is `/`, `-` appends to an
 * array). Operations apply in order to a copy; the input is never changed. A failed operation throws a
 * JsonPatchError saying which operation and why; a failed `test` throws JsonPatchTestFailed, which transform
 * rules read as "this rule does not apply to this object".
 */
import type { JsonValue } from '../../json.ts';
import type { JsonPatchOperation } from '../types.ts';

export class JsonPatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonPatchError';
  }
}

export class JsonPatchTestFailed extends JsonPatchError {
  constructor(message: string) {
    super(message);
    this.name = 'JsonPatchTestFailed';
  }
}

export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new JsonPatchError(`"${pointer}" is not a JSON pointer (it must start with "/")`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = JsonValue[] | { [key: string]: JsonValue };

function isContainer(value: JsonValue | undefined): value is Container {
  return typeof value === 'object' && value !== null;
}

function arrayIndex(token: string, array: JsonValue[], forInsert: boolean, pointer: string): number {
  if (forInsert && token === '-') return array.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new JsonPatchError(`"${token}" in ${pointer} is not an array index`);
  const index = Number(token);
  if (index > array.length || (!forInsert && index === array.length)) throw new JsonPatchError(`index ${index} in ${pointer} is out of range (length ${array.length})`);
  return index;
}

/** The parent container of the pointer's target and the last token. */
function locate(document: JsonValue, pointer: string): { parent: Container; key: string } {
  const tokens = parsePointer(pointer);
  if (!tokens.length) throw new JsonPatchError('the whole document cannot be the target here');
  let current: JsonValue = document;
  for (const token of tokens.slice(0, -1)) {
    const next: JsonValue | undefined = Array.isArray(current) ? current[arrayIndex(token, current, false, pointer)] : isContainer(current) ? current[token] : undefined;
    if (!isContainer(next)) throw new JsonPatchError(`${pointer}: "${token}" does not exist or is not an object or array`);
    current = next;
  }
  if (!isContainer(current)) throw new JsonPatchError(`${pointer}: the parent is not an object or array`);
  return { parent: current, key: tokens[tokens.length - 1]! };
}

export function getPointer(document: JsonValue, pointer: string): JsonValue | undefined {
  let current: JsonValue | undefined = document;
  for (const token of parsePointer(pointer)) {
    if (Array.isArray(current)) {
      if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
      current = current[Number(token)];
    } else if (isContainer(current)) current = Object.prototype.hasOwnProperty.call(current, token) ? current[token] : undefined;
    else return undefined;
  }
  return current;
}

function add(document: JsonValue, pointer: string, value: JsonValue): JsonValue {
  if (pointer === '') return value;
  const { parent, key } = locate(document, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(key, parent, true, pointer), 0, value);
  else parent[key] = value;
  return document;
}

function remove(document: JsonValue, pointer: string): { document: JsonValue; removed: JsonValue } {
  const { parent, key } = locate(document, pointer);
  if (Array.isArray(parent)) {
    const [removed] = parent.splice(arrayIndex(key, parent, false, pointer), 1);
    return { document, removed: removed! };
  }
  if (!Object.prototype.hasOwnProperty.call(parent, key)) throw new JsonPatchError(`${pointer} does not exist`);
  const removed = parent[key]!;
  delete parent[key];
  return { document, removed };
}

function clone<T extends JsonValue>(value: T): T {
  return structuredClone(value);
}

function deepEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  if (isContainer(a) && isContainer(b) && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

function requireValue(operation: JsonPatchOperation): JsonValue {
  if (operation.value === undefined) throw new JsonPatchError(`"${operation.op}" at ${operation.path} needs a value`);
  return operation.value;
}

/** Applies the operations in order to a copy of `document`. */
export function applyJsonPatch<T extends JsonValue>(document: T, operations: JsonPatchOperation[]): T {
  let result: JsonValue = clone(document);
  operations.forEach((operation, index) => {
    const where = `operation ${index + 1} (${operation.op} ${operation.path})`;
    try {
      switch (operation.op) {
        case 'add':
          result = add(result, operation.path, clone(requireValue(operation)));
          break;
        case 'remove':
          result = remove(result, operation.path).document;
          break;
        case 'replace': {
          if (getPointer(result, operation.path) === undefined) throw new JsonPatchError(`${operation.path} does not exist`);
          result = operation.path === '' ? clone(requireValue(operation)) : add(remove(result, operation.path).document, operation.path, clone(requireValue(operation)));
          break;
        }
        case 'move': {
          if (operation.from === undefined) throw new JsonPatchError('"move" needs "from"');
          if (operation.path.startsWith(`${operation.from}/`)) throw new JsonPatchError(`cannot move ${operation.from} into its own child ${operation.path}`);
          if (operation.from === operation.path) break;
          const { document: without, removed } = remove(result, operation.from);
          result = add(without, operation.path, removed);
          break;
        }
        case 'copy': {
          if (operation.from === undefined) throw new JsonPatchError('"copy" needs "from"');
          const value = getPointer(result, operation.from);
          if (value === undefined) throw new JsonPatchError(`${operation.from} does not exist`);
          result = add(result, operation.path, clone(value));
          break;
        }
        case 'test': {
          const actual = getPointer(result, operation.path);
          // The values stay out of the message: the object may be a Secret.
          if (!deepEqual(actual, requireValue(operation))) throw new JsonPatchTestFailed(`${operation.path} ${actual === undefined ? 'is absent' : 'holds another value'}`);
          break;
        }
        default:
          throw new JsonPatchError(`unknown op "${(operation as { op: string }).op}"`);
      }
    } catch (error) {
      if (error instanceof JsonPatchTestFailed) throw new JsonPatchTestFailed(`${where}: ${error.message}`);
      if (error instanceof JsonPatchError) throw new JsonPatchError(`${where}: ${error.message}`);
      throw error;
    }
  });
  return result as T;
}
