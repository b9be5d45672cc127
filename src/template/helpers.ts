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
};

/** Block and built-in helpers handlebars provides that templates may use. */
export const BUILTIN_HELPERS = ['if', 'unless', 'each', 'with', 'lookup'] as const;

export const KNOWN_HELPER_NAMES: ReadonlySet<string> = new Set([...Object.keys(TEMPLATE_HELPERS), ...BUILTIN_HELPERS]);
