/**
 * JSON Schema validation (ajv, 2020-12) with errors turned into diagnostics that point at the YAML source.
 * A string holding a template stands in for any type: `replicas: "{{Options.replicas}}"` is only known at run
 * time, so type errors on template strings are not reported.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { didYouMean, type Diagnostic } from '../diagnostics.ts';
import { SCHEMAS_DIR } from '../functions/catalog.ts';
import { isTemplate } from '../template/render.ts';
import { formatPath, type PathSegment, type SourceDocument } from '../yaml-source.ts';

const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true });
ajv.addKeyword({ keyword: 'x-cairn', schemaType: 'object' });

const compiled = new Map<string, ValidateFunction>();

export function schemaValidator(schemaFile: string): ValidateFunction {
  let validate = compiled.get(schemaFile);
  if (!validate) {
    const schema = JSON.parse(readFileSync(join(SCHEMAS_DIR, schemaFile), 'utf8')) as object;
    validate = ajv.compile(schema);
    compiled.set(schemaFile, validate);
  }
  return validate;
}

export function validatorFor(schema: Record<string, unknown>): ValidateFunction {
  const id = String(schema.$id ?? '');
  const existing = id ? ajv.getSchema(id) : undefined;
  return existing ?? ajv.compile(schema);
}

const TYPE_KEYWORDS = new Set(['type', 'enum', 'const', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minItems', 'oneOf', 'anyOf', 'pattern']);

/**
 * Runs `validate` on `value` (found at `basePath` in `doc`) and reports each error once, at the most specific
 * place, with the allowed alternatives where that helps.
 */
export function checkAgainstSchema(
  validate: ValidateFunction,
  value: unknown,
  doc: SourceDocument,
  basePath: PathSegment[],
  subject: string,
): Diagnostic[] {
  if (validate(value)) return [];
  const errors = (validate.errors ?? []).filter((error) => !isNoise(error, value));
  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const relative = pointerToPath(error.instancePath, value);
    const path = [...basePath, ...relative];
    const { message, hint, at } = describe(error, subject);
    const finalPath = at === undefined ? path : [...path, at];
    const key = `${formatPath(finalPath)}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const position = doc.positionOf(finalPath);
    const diagnostic: Diagnostic = {
      code: 'schema',
      severity: 'error',
      message,
      file: doc.file,
      line: position.line,
      column: position.column,
      path: formatPath(finalPath),
    };
    if (hint) diagnostic.hint = hint;
    diagnostics.push(diagnostic);
  }
  return diagnostics;
}

function isNoise(error: ErrorObject, root: unknown): boolean {
  // if/then/else and oneOf wrappers repeat what their branches already said.
  if (error.keyword === 'if') return true;
  if (TYPE_KEYWORDS.has(error.keyword)) {
    const data = valueAt(root, error.instancePath);
    if (typeof data === 'string' && isTemplate(data)) return true;
  }
  return false;
}

function describe(error: ErrorObject, subject: string): { message: string; hint?: string; at?: string } {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { message: `${subject} is missing required field "${String(params.missingProperty)}"` };
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const allowed = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const suggestion = didYouMean(name, allowed);
      const result: { message: string; hint?: string; at?: string } = { message: `unknown field "${name}" in ${subject}`, at: name };
      result.hint = suggestion ? `did you mean "${suggestion}"?` : allowed.length ? `allowed: ${allowed.join(', ')}` : 'no fields are allowed here';
      return result;
    }
    case 'enum':
      return { message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(error.data)}` };
    case 'const':
      return { message: `must be ${JSON.stringify(params.allowedValue)}, got ${JSON.stringify(error.data)}` };
    case 'type':
      return { message: `must be ${String(params.type)}, got ${typeName(error.data)}` };
    case 'pattern':
      return { message: `${JSON.stringify(error.data)} does not match ${describePattern(String(params.pattern))}` };
    case 'propertyNames':
      return { message: `invalid name ${JSON.stringify(params.propertyName)}` };
    default:
      return { message: error.message ?? `fails ${error.keyword}` };
  }
}

function describePattern(pattern: string): string {
  if (pattern.includes('ms|s|m|h')) return 'a duration such as 90s, 10m or 1h30m';
  if (pattern.startsWith('^[A-Za-z][A-Za-z0-9_-]*$')) return 'a name of letters, digits, "-" and "_" that starts with a letter';
  if (pattern.startsWith('^[a-z0-9]')) return 'a lower-case DNS name';
  return `the pattern ${pattern}`;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function pointerToPath(pointer: string, root: unknown): PathSegment[] {
  if (!pointer) return [];
  const path: PathSegment[] = [];
  let current: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const next: PathSegment = Array.isArray(current) ? Number(segment) : segment;
    path.push(next);
    current = current !== null && typeof current === 'object' ? (current as Record<string, unknown>)[String(next)] : undefined;
  }
  return path;
}

function valueAt(root: unknown, pointer: string): unknown {
  let current = root;
  for (const segment of pointerToPath(pointer, root)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[String(segment)];
  }
  return current;
}
