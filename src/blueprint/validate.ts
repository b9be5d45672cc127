/**
 * parse → schema → semantics. Collects every problem of every document instead of stopping at the first, and
 * returns the blueprints that are valid so callers (compile, render) can go on with them.
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { errorsOf, type Diagnostic } from '../diagnostics.ts';
import { isJsonObject } from '../json.ts';
import { parseSourceText, readSourceFile, type SourceDocument, type SourceFile } from '../yaml-source.ts';
import { checkAgainstSchema, schemaValidator } from './schema-check.ts';
import { checkSemantics } from './semantics.ts';
import type { Blueprint } from './types.ts';

export interface LoadedBlueprint {
  blueprint: Blueprint;
  document: SourceDocument;
}

export interface ValidationResult {
  file: string;
  /** The documents that passed every check. */
  blueprints: LoadedBlueprint[];
  diagnostics: Diagnostic[];
}

export async function validateFile(file: string): Promise<ValidationResult> {
  return validateSource(await readSourceFile(file));
}

export function validateText(text: string, file: string): ValidationResult {
  return validateSource(parseSourceText(text, file));
}

export function validateSource(source: SourceFile): ValidationResult {
  const result: ValidationResult = { file: source.file, blueprints: [], diagnostics: [...source.diagnostics] };
  for (const document of source.documents) {
    const diagnostics = validateDocument(document, source.text);
    result.diagnostics.push(...diagnostics);
    if (errorsOf(diagnostics).length === 0) result.blueprints.push({ blueprint: document.value as Blueprint, document });
  }
  result.diagnostics.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  return result;
}

function validateDocument(document: SourceDocument, text: string): Diagnostic[] {
  const value = document.value;
  const at = (path: (string | number)[]) => ({ file: document.file, ...document.positionOf(path), path: path.join('.') || undefined });
  if (!isJsonObject(value)) {
    return [{ code: 'not-a-blueprint', severity: 'error', message: 'a blueprint must be a YAML mapping', ...at([]) }];
  }
  if (typeof value.apiVersion === 'string' && value.apiVersion.startsWith('cr.kanister.io/')) {
    return [{
      code: 'kanister-blueprint',
      severity: 'error',
      message: 'this is a Kanister blueprint, not a Cairn one',
      hint: `convert it first: cairn import-kanister ${document.file}`,
      ...at(['apiVersion']),
    }];
  }
  const schemaDiagnostics = checkAgainstSchema(schemaValidator('blueprint.schema.json'), value, document, [], 'the blueprint');
  const brokenActions = new Set<string>();
  let structureBroken = false;
  for (const d of schemaDiagnostics) {
    const match = /^actions\.([A-Za-z][\w-]*)/.exec(d.path ?? '');
    if (match) brokenActions.add(match[1]!);
    else if ((d.path ?? '').startsWith('actions') || !d.path) structureBroken = true;
  }
  if (structureBroken || !isJsonObject(value.actions)) return schemaDiagnostics;
  // Semantic checks need trusted shapes: run them on the actions the schema accepted.
  const healthy = Object.fromEntries(Object.entries(value.actions).filter(([name]) => !brokenActions.has(name)));
  const blueprint = { ...(value as unknown as Blueprint), actions: healthy as unknown as Blueprint['actions'] };
  return [...schemaDiagnostics, ...checkSemantics(blueprint, document, text)];
}

/** Files named on the command line, with directories expanded to their `.yaml`/`.yml` files, sorted. */
export async function expandBlueprintPaths(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch {
      files.push(path); // reported as unreadable by validateFile
      continue;
    }
    if (info.isDirectory()) {
      const entries = await readdir(path, { recursive: true });
      files.push(...entries.filter((e) => ['.yaml', '.yml'].includes(extname(e))).sort().map((e) => join(path, e)));
    } else {
      files.push(path);
    }
  }
  return files;
}
