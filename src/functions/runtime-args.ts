/**
 * Checks a phase's arguments after rendering, just before the function runs. Templates render to strings,
 * so typed arguments are coerced where the schema asks for a number or boolean (`"3"` → 3).
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { JsonObject } from '../json.ts';
import { functionCatalog } from './catalog.ts';

const ajv = new Ajv2020({ allErrors: true, strict: false, coerceTypes: true });
const validators = new Map<string, ValidateFunction>();

export type RuntimeArgsResult = { ok: true; args: JsonObject } | { ok: false; problems: string[] };

export function checkRenderedArgs(func: string, rendered: JsonObject): RuntimeArgsResult {
  const definition = functionCatalog().get(func);
  if (!definition) return { ok: false, problems: [`unknown function "${func}"`] };
  let validate = validators.get(func);
  if (!validate) {
    const { $id: _id, ...schema } = definition.argsSchema;
    validate = ajv.compile(schema);
    validators.set(func, validate);
  }
  const args = structuredClone(rendered);
  if (validate(args)) return { ok: true, args };
  return {
    ok: false,
    problems: (validate.errors ?? []).map((e) => `args${e.instancePath.replace(/\//g, '.')}: ${e.message ?? e.keyword}${e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : ''}`),
  };
}
