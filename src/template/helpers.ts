/**
 * The only helpers templates may call (the renderer compiles with `knownHelpersOnly`). Each is a pure
 * function of its arguments: none reaches the environment, the filesystem or object prototypes.
 */
import { formatGoLayout } from './go-time.ts';
import { runtimeLabel } from './preview.ts';

export type HelperFunction = (...args: unknown[]) => unknown;

function toDateValue(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'string' || typeof value === 'number') {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new Error(`not a time: ${JSON.stringify(value)}`);
}

function stringOf(value: unknown): string {
  if (value === undefined || value === null) return '';
  const runtime = runtimeLabel(value);
  if (runtime !== undefined) return runtime;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function isEmpty(value: unknown): boolean {
  if (runtimeLabel(value) !== undefined) return false;
  if (value === undefined || value === null || value === '' || value === false) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return false;
}

const hasOwn = (object: object, key: string) => Object.prototype.hasOwnProperty.call(object, key);

/** Helper name → implementation; `options` (handlebars' last argument) is already removed. */
export const TEMPLATE_HELPERS: Record<string, HelperFunction> = {
  toJson: (value) => JSON.stringify(value ?? null),
  toString: (value: unknown) => stringOf(value),
  quote: (value) => JSON.stringify(stringOf(value)),
  shellQuote: (value) => `'${stringOf(value).replace(/'/g, `'\\''`)}'`,
  default: (fallback, value) => (isEmpty(value) ? fallback : value),
  index: (collection, ...keys) => {
    let current: unknown = collection;
    for (const key of keys) {
      if (current === null || typeof current !== 'object') throw new Error(`index: cannot index ${stringOf(current)} with ${stringOf(key)}`);
      const name = String(key);
      if (!hasOwn(current, name)) throw new Error(`index: no key ${JSON.stringify(name)}`);
      current = (current as Record<string, unknown>)[name];
    }
    return current;
  },
  b64enc: (value) => Buffer.from(stringOf(value), 'utf8').toString('base64'),
  b64dec: (value) => Buffer.from(stringOf(value), 'base64').toString('utf8'),
  /** `date <layout> <time>`: Go layouts (`2006-01-02T15-04-05`) or named ones (`RFC3339`). */
  date: (layout, time) => {
    const runtime = runtimeLabel(time);
    return runtime !== undefined ? `${runtime.slice(0, -1)} as ${stringOf(layout)}>` : formatGoLayout(toDateValue(time), stringOf(layout));
  },
  /** `toDate <layout> <text>`: the layout is accepted for Kanister compatibility; the text must be RFC 3339. */
  toDate: (_layout, text) => (runtimeLabel(text) !== undefined ? text : toDateValue(text).toISOString()),
  upper: (value) => stringOf(value).toUpperCase(),
  lower: (value) => stringOf(value).toLowerCase(),
  trim: (value) => stringOf(value).trim(),
  trimPrefix: (prefix, value) => {
    const text = stringOf(value);
    return text.startsWith(stringOf(prefix)) ? text.slice(stringOf(prefix).length) : text;
  },
  trimSuffix: (suffix, value) => {
    const text = stringOf(value);
    return stringOf(suffix) !== '' && text.endsWith(stringOf(suffix)) ? text.slice(0, -stringOf(suffix).length) : text;
  },
  replace: (from, to, value) => stringOf(value).split(stringOf(from)).join(stringOf(to)),
  join: (separator, list) => (Array.isArray(list) ? list.map(stringOf).join(stringOf(separator)) : stringOf(list)),
  concat: (...parts) => parts.map(stringOf).join(''),
  len: (value) => (typeof value === 'string' || Array.isArray(value) ? value.length : value && typeof value === 'object' ? Object.keys(value).length : 0),
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  and: (...values) => values.every((v) => !isEmpty(v)),
  or: (...values) => values.find((v) => !isEmpty(v)) ?? values[values.length - 1],
  not: (value) => isEmpty(value),
  // Go's ordering functions: numbers with numbers, strings with strings (byte order, as Go compares them).
  lt: (a, b) => compareOrdered('lt', a, b) < 0,
  le: (a, b) => compareOrdered('le', a, b) <= 0,
  gt: (a, b) => compareOrdered('gt', a, b) > 0,
  ge: (a, b) => compareOrdered('ge', a, b) >= 0,
  // sprig's, with its argument order (`contains "cat" "catch"`).
  contains: (part, text) => stringOf(text).includes(stringOf(part)),
  hasPrefix: (prefix, text) => stringOf(text).startsWith(stringOf(prefix)),
  hasSuffix: (suffix, text) => stringOf(text).endsWith(stringOf(suffix)),
  trimAll: (cutset, value) => {
    const cut = new Set(stringOf(cutset));
    const chars = [...stringOf(value)];
    let start = 0;
    let end = chars.length;
    while (start < end && cut.has(chars[start]!)) start++;
    while (end > start && cut.has(chars[end - 1]!)) end--;
    return chars.slice(start, end).join('');
  },
  splitList: (separator, value) => stringOf(value).split(stringOf(separator)),
  /** The keys of one or more maps, sorted (sprig's order is Go's random map order; sorted is one of them). */
  keys: (...maps) => [...new Set(maps.flatMap((map) => (map !== null && typeof map === 'object' && !Array.isArray(map) && runtimeLabel(map) === undefined ? Object.keys(map) : [])))].sort(),
  last: (list) => (Array.isArray(list) ? list[list.length - 1] : undefined),
  ternary: (whenTrue, whenFalse, condition) => {
    if (runtimeLabel(condition) !== undefined) return condition;
    if (typeof condition !== 'boolean') throw new Error(`ternary: the condition must be true or false, not ${stringOf(condition)}`);
    return condition ? whenTrue : whenFalse;
  },
  // sprig's integer arithmetic (int64: fractions truncated, numeric strings parsed, anything else 0).
  add: (...values) => values.reduce<number>((sum, value) => sum + toInteger(value), 0),
  add1: (value) => toInteger(value) + 1,
  sub: (a, b) => toInteger(a) - toInteger(b),
  mul: (...values) => values.reduce<number>((product, value) => product * toInteger(value), 1),
  div: (a, b) => {
    const divisor = toInteger(b);
    if (divisor === 0) throw new Error('div: division by zero');
    return Math.trunc(toInteger(a) / divisor);
  },
  mod: (a, b) => {
    const divisor = toInteger(b);
    if (divisor === 0) throw new Error('mod: division by zero');
    return toInteger(a) % divisor;
  },
};

function compareOrdered(name: string, a: unknown, b: unknown): number {
  // A preview's run-time placeholder compares as nothing: the condition shows as false.
  if (runtimeLabel(a) !== undefined || runtimeLabel(b) !== undefined) return Number.NaN;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  throw new Error(`${name}: incompatible types for comparison (${typeName(a)} and ${typeName(b)})`);
}

function typeName(value: unknown): string {
  return value === null || value === undefined ? 'nil' : Array.isArray(value) ? 'list' : typeof value;
}

function toInteger(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : 0;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && /^\s*[-+]?\d+(\.\d*)?\s*$/.test(value)) return Math.trunc(Number(value));
  return 0;
}

/** Block and built-in helpers handlebars provides that templates may use. */
export const BUILTIN_HELPERS = ['if', 'unless', 'each', 'with', 'lookup'] as const;

export const KNOWN_HELPER_NAMES: ReadonlySet<string> = new Set([...Object.keys(TEMPLATE_HELPERS), ...BUILTIN_HELPERS]);
