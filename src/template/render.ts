/**
 * The one template renderer. A private handlebars instance with `noEscape` (args are not HTML) and
 * `strict` (a missing key is an error, never an empty string), only Cairn's helpers, and handlebars'
 * prototype-access guards left on. Rendering is a single pass: a rendered value (a Secret, say) that contains
 * `{{` is data, never evaluated again.
 */
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

export function renderString(template: string, context: TemplateContext | Record<string, unknown>): string {
  if (!isTemplate(template)) return template;
  let render = compiled.get(template);
  if (!render) {
    render = sandbox.compile(template, { noEscape: true, strict: true, knownHelpers, knownHelpersOnly: true });
    compiled.set(template, render);
  }
  try {
    return render(context, { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false });
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    throw new TemplateRenderError(template, message.replace(/^"(.*)" not defined in/, 'missing value $1 in'));
  }
}

/** Renders every string inside a JSON value (object keys are not templates). */
export function renderValue(value: JsonValue, context: TemplateContext | Record<string, unknown>): JsonValue {
  if (typeof value === 'string') return renderString(value, context);
  if (Array.isArray(value)) return value.map((item) => renderValue(item, context));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value)) out[key] = renderValue(item, context);
    return out;
  }
  return value;
}
