/**
 * The one template renderer. A private handlebars instance with `noEscape` (args are not HTML) and
 * `strict` (a missing key is an error, never an empty string), only Cairn's helpers, and handlebars'
 * prototype-access guards left on. Rendering is a single pass: a rendered value (a Secret, say) that contains
 * `{{` is data, never evaluated again.
 */
import util from 'node:util';
import Handlebars from 'handlebars';
import type { JsonValue } from '../json.ts';
import type { TemplateContext } from './context.ts';
import { BUILTIN_HELPERS, TEMPLATE_HELPERS } from './helpers.ts';

const sandbox = Handlebars.create();
for (const name of Object.keys(sandbox.helpers)) {
  if (!(BUILTIN_HELPERS as readonly string[]).includes(name) && name !== 'helperMissing' && name !== 'blockHelperMissing') {
    sandbox.unregisterHelper(name);
  }
}
for (const [name, helper] of Object.entries(TEMPLATE_HELPERS)) {
  // handlebars passes its options object last; Cairn's helpers never see it.
  sandbox.registerHelper(name, (...args: unknown[]) => helper(...args.slice(0, -1)));
}

const knownHelpers = Object.fromEntries([...Object.keys(TEMPLATE_HELPERS), ...BUILTIN_HELPERS].map((name) => [name, true]));

const compiled = new Map<string, HandlebarsTemplateDelegate>();

export class TemplateRenderError extends Error {
  readonly template: string;
  constructor(template: string, cause: string) {
    super(`template ${JSON.stringify(abbreviate(template))}: ${cause}`);
    this.name = 'TemplateRenderError';
    this.template = template;
  }
}

function abbreviate(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

export function isTemplate(text: string): boolean {
  return text.includes('{{');
}

/**
 * A copy of the context made of null-prototype objects: with nothing inherited, strict mode reports
 * `{{constructor}}` or `{{__proto__}}` as missing instead of quietly rendering an empty string. Copied at
 * every render call, never cached: the runner adds a phase's Secrets to the context between renders.
 */
function sandboxContext(context: object): object {
  return withoutPrototypes(context) as object;
}

function withoutPrototypes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPrototypes);
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) === null || util.types.isProxy(value)) return value;
  const copy = Object.create(null) as Record<string, unknown>;
  for (const [key, item] of Object.entries(value)) copy[key] = withoutPrototypes(item);
  return copy;
}

export function renderString(template: string, context: TemplateContext | Record<string, unknown>): string {
  if (!isTemplate(template)) return template;
  return renderSandboxed(template, sandboxContext(context));
}

function renderSandboxed(template: string, sandboxed: object): string {
  if (!isTemplate(template)) return template;
  let render = compiled.get(template);
  if (!render) {
    render = sandbox.compile(template, { noEscape: true, strict: true, knownHelpers, knownHelpersOnly: true });
    compiled.set(template, render);
  }
  try {
    return render(sandboxed, { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false });
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    const missing = /^"(.*)" not defined in .* - (\d+):(\d+)$/.exec(message);
    throw new TemplateRenderError(template, missing ? `"${missing[1]}" is missing (template line ${missing[2]}, column ${Number(missing[3]) + 1})` : message);
  }
}

/** Renders every string inside a JSON value (object keys are not templates). */
export function renderValue(value: JsonValue, context: TemplateContext | Record<string, unknown>): JsonValue {
  const sandboxed = sandboxContext(context);
  const visit = (item: JsonValue): JsonValue => {
    if (typeof item === 'string') return renderSandboxed(item, sandboxed);
    if (Array.isArray(item)) return item.map(visit);
    if (item !== null && typeof item === 'object') {
      const out: Record<string, JsonValue> = {};
      for (const [key, child] of Object.entries(item)) out[key] = visit(child);
      return out;
    }
    return item;
  };
  return visit(value);
}
