/**
 * `kind: Application` documents: parse (the one YAML loader, with positions) → schema
 * (schemas/application.schema.json) → semantics (spec-semantics.ts). Every problem of every document is
 * collected with file:line:column and its path, the way blueprints are validated.
 */
import { Document, isMap, isScalar, isSeq, visit } from 'yaml';
import { CairnError, errorsOf, type Diagnostic } from '../diagnostics.ts';
import { isJsonObject, type JsonObject } from '../json.ts';
import { checkAgainstSchema, schemaValidator } from '../blueprint/schema-check.ts';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { isTemplate } from '../template/render.ts';
import { formatPath, parseSourceText, readSourceFile, type PathSegment, type SourceDocument, type SourceFile } from '../yaml-source.ts';
import { checkApplicationSemantics, type KnownBlueprints } from './spec-semantics.ts';
import { APPLICATION_API_VERSION, type ApplicationSpec } from './types.ts';

export type { KnownBlueprints } from './spec-semantics.ts';

export interface LoadedApplication {
  spec: ApplicationSpec;
  document: SourceDocument;
}

export interface ApplicationValidationResult {
  file: string;
  /** The documents that passed every check. */
  applications: LoadedApplication[];
  diagnostics: Diagnostic[];
}

export interface ApplicationCheckOptions {
  /** Blueprints a component may name; absent: blueprint names are not checked (the worker resolves them). */
  blueprints?: KnownBlueprints;
}

/** True for a parsed YAML document that declares itself an Application (what `cairn validate` routes here). */
export function isApplicationDocument(value: unknown): boolean {
  return isJsonObject(value) && value.kind === 'Application';
}

export async function validateApplicationFile(file: string, options: ApplicationCheckOptions = {}): Promise<ApplicationValidationResult> {
  return validateApplicationSource(await readSourceFile(file), options);
}

export function validateApplicationText(text: string, file: string, options: ApplicationCheckOptions = {}): ApplicationValidationResult {
  return validateApplicationSource(parseSourceText(text, file), options);
}

export function validateApplicationSource(source: SourceFile, options: ApplicationCheckOptions = {}): ApplicationValidationResult {
  const result: ApplicationValidationResult = { file: source.file, applications: [], diagnostics: [...source.diagnostics] };
  for (const document of source.documents) {
    const diagnostics = validateApplicationDocument(document, options);
    result.diagnostics.push(...diagnostics);
    if (errorsOf(diagnostics).length === 0) result.applications.push({ spec: document.value as ApplicationSpec, document });
  }
  result.diagnostics.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  return result;
}

export function validateApplicationDocument(document: SourceDocument, options: ApplicationCheckOptions = {}): Diagnostic[] {
  const value = document.value;
  if (!isJsonObject(value)) {
    return [{ code: 'not-an-application', severity: 'error', message: 'an Application must be a YAML mapping', file: document.file, ...document.positionOf([]) }];
  }
  if (value.kind !== 'Application') {
    const kind = typeof value.kind === 'string' ? `kind "${value.kind}"` : 'no kind';
    return [{
      code: 'not-an-application',
      severity: 'error',
      message: `expected kind: Application, found ${kind}`,
      file: document.file,
      ...document.positionOf(['kind']),
      path: 'kind',
      hint: value.kind === 'Blueprint' ? 'validate blueprints with cairn validate' : `an Application starts with apiVersion: ${APPLICATION_API_VERSION} and kind: Application`,
    }];
  }
  const validate = schemaValidator('application.schema.json');
  const schema = checkAgainstSchema(validate, value, document, [], 'the Application').map((d) => explain(d, value));
  return [...schema, ...templatesWhereValuesBelong(validate, value, document), ...checkApplicationSemantics(value, document, options.blueprints)];
}

/**
 * One Application from YAML text: the spec, or a CairnError listing every problem. Warnings do not fail it.
 * A file holding several documents must hold exactly one Application.
 */
export function parseApplication(text: string, file: string, options: ApplicationCheckOptions = {}): ApplicationSpec {
  const result = validateApplicationText(text, file, options);
  const errors = errorsOf(result.diagnostics);
  if (errors.length > 0) throw new CairnError(errors);
  if (result.applications.length !== 1) {
    throw new CairnError([{ code: 'application-count', severity: 'error', message: `expected one Application, found ${result.applications.length} documents`, file }]);
  }
  return result.applications[0]!.spec;
}

/** Short maps and lists written on one line (`workload: { kind: StatefulSet, name: postgres }`), as people write them. */
const FLOW_KEYS = new Set(['workload', 'dependsOn', 'readiness', 'includeKinds', 'excludeKinds', 'retention', 'remove', 'removeAnnotations']);

/** The spec as YAML, in the spec's field order, ready for `cairn validate` and `parseApplication`. */
export function applicationToYaml(spec: ApplicationSpec): string {
  const document = new Document(spec);
  visit(document, {
    Pair(_, pair) {
      if (isScalar(pair.key) && FLOW_KEYS.has(String(pair.key.value)) && (isMap(pair.value) || isSeq(pair.value))) pair.value.flow = true;
    },
  });
  return document.toString({ lineWidth: 0, indent: 2 });
}

/**
 * The shared schema check lets a template string stand for any type, as blueprints are rendered before they
 * run; nothing renders an Application, so `concurrency: "{{x}}"` is an error here.
 */
function templatesWhereValuesBelong(validate: ValidateFunction, value: JsonObject, document: SourceDocument): Diagnostic[] {
  validate(value);
  const diagnostics: Diagnostic[] = [];
  for (const error of validate.errors ?? []) {
    if (typeof error.data !== 'string' || !isTemplate(error.data) || error.keyword === 'if') continue;
    const path: PathSegment[] = [];
    let current: unknown = value;
    for (const raw of error.instancePath.split('/').slice(1)) {
      const segment: PathSegment = Array.isArray(current) ? Number(raw) : raw.replace(/~1/g, '/').replace(/~0/g, '~');
      path.push(segment);
      current = current !== null && typeof current === 'object' ? (current as Record<string, unknown>)[String(segment)] : undefined;
    }
    const formatted = formatPath(path);
    if (diagnostics.some((d) => d.path === formatted)) continue;
    diagnostics.push({
      code: 'template',
      severity: 'error',
      message: `${JSON.stringify(error.data)} is a template, but Applications are not rendered`,
      file: document.file,
      ...document.positionOf(path),
      path: formatted,
      hint: 'write the value itself',
    });
  }
  return diagnostics;
}

/** The schema's messages said for this document: patterns in words, a patch operation's missing field by its op. */
function explain(diagnostic: Diagnostic, root: JsonObject): Diagnostic {
  const missing = /missing required field "(value|from)"/.exec(diagnostic.message);
  if (missing && /operations\[\d+\]$/.test(diagnostic.path ?? '')) {
    const op = String(valueAtPath(root, diagnostic.path ?? '')?.op ?? '');
    return { ...diagnostic, message: `JSON-patch op "${op}" needs "${missing[1]}"` };
  }
  if (!/does not match the pattern/.test(diagnostic.message)) return diagnostic;
  const field = /(?:^|\.)([A-Za-z]+)(?:\[\d+\])?$/.exec(diagnostic.path ?? '')?.[1] ?? '';
  const quoted = /^(".*?") does not match/.exec(diagnostic.message)?.[1] ?? 'the value';
  const words: Record<string, string> = {
    path: 'a JSON pointer such as /spec/replicas (~1 stands for /, ~0 for ~)',
    from: 'a JSON pointer such as /spec/replicas (~1 stands for /, ~0 for ~)',
    includeKinds: 'a kind (ConfigMap) or a resource.group (widgets.example.com)',
    excludeKinds: 'a kind (ConfigMap) or a resource.group (widgets.example.com)',
    ingressHosts: 'a host name, or *. and a host name',
    strategy: 'a name of letters, digits, "-" and "_" that starts with a letter',
  };
  const explained = words[field];
  return explained ? { ...diagnostic, message: `${quoted} is not ${explained}` } : diagnostic;
}

/** The object at a formatted path such as `spec.transforms.patches[0].operations[1]`. */
function valueAtPath(root: JsonObject, path: string): JsonObject | undefined {
  let current: unknown = root;
  for (const segment of path.match(/[^.[\]]+/g) ?? []) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return isJsonObject(current) ? current : undefined;
}
