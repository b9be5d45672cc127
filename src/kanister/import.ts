/**
 * `cairn import-kanister`, minus the CLI: read a Kanister blueprint file, convert each document, write the
 * Cairn YAML, and validate it as `cairn validate` would. Problems found by that validation are placed back in
 * the Kanister file through the converter's source map, so the user edits the file they have.
 */
import { basename } from 'node:path';
import { stringify } from 'yaml';
import { validateText } from '../blueprint/validate.ts';
import type { Blueprint } from '../blueprint/types.ts';
import { errorsOf, type Diagnostic } from '../diagnostics.ts';
import { formatPath, parseSourceText, readSourceFile, type PathSegment, type SourceFile } from '../yaml-source.ts';
import { convertDocument } from './convert.ts';
import type { ImportReport } from './report.ts';

export interface ImportResult {
  file: string;
  /** The Cairn blueprint(s) as YAML; undefined when any error was found (nothing should be written). */
  yaml?: string;
  blueprints: Blueprint[];
  /** Conversion problems and the validation of the result, all placed in the Kanister file. */
  diagnostics: Diagnostic[];
}

export async function importKanisterFile(file: string): Promise<ImportResult> {
  return importKanisterSource(await readSourceFile(file));
}

export function importKanisterText(text: string, file: string): ImportResult {
  return importKanisterSource(parseSourceText(text, file));
}

export function importKanisterSource(source: SourceFile): ImportResult {
  const result: ImportResult = { file: source.file, blueprints: [], diagnostics: [...source.diagnostics] };
  const converted: { blueprint: Blueprint; report: ImportReport }[] = [];
  for (const document of source.documents) {
    const outcome = convertDocument(document, source.text);
    result.diagnostics.push(...outcome.report.diagnostics);
    if ('blueprint' in outcome) converted.push(outcome);
  }
  if (errorsOf(result.diagnostics).length > 0 || converted.length === 0) return sorted(result);

  const header = `# Imported from ${basename(source.file)} by cairn import-kanister; check it with cairn validate.\n`;
  const texts = converted.map(({ blueprint }) => stringify(blueprint, { lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false }));
  const yaml = header + texts.join('---\n');
  const validation = validateText(yaml, source.file);
  const starts = documentStarts(header, texts);
  for (const diagnostic of validation.diagnostics) {
    const index = Math.max(0, starts.findLastIndex((line) => line <= (diagnostic.line ?? 1)));
    result.diagnostics.push(placeInSource(diagnostic, converted[index]!.report));
  }
  result.blueprints = converted.map((c) => c.blueprint);
  if (errorsOf(result.diagnostics).length === 0) result.yaml = yaml;
  return sorted(result);
}

function documentStarts(header: string, texts: string[]): number[] {
  const starts: number[] = [];
  let line = header.split('\n').length;
  for (const text of texts) {
    starts.push(line);
    line += text.split('\n').length;
  }
  return starts;
}

/** A diagnostic about the converted YAML → the same diagnostic at the Kanister node it came from. */
function placeInSource(diagnostic: Diagnostic, report: ImportReport): Diagnostic {
  const segments = parsePath(diagnostic.path ?? '');
  let inPath: PathSegment[] | undefined;
  for (let length = segments.length; length >= 0 && !inPath; length--) inPath = report.sourceMap.get(formatPath(segments.slice(0, length)));
  const position = report.doc.positionOf(inPath ?? []);
  const placed: Diagnostic = {
    ...diagnostic,
    message: `${diagnostic.message} (in the converted Cairn blueprint${diagnostic.path ? ` at ${diagnostic.path}` : ''})`,
    file: report.doc.file,
    line: position.line,
    column: position.column,
  };
  if (inPath && inPath.length > 0) placed.path = formatPath(inPath);
  return placed;
}

/** Reads back both path spellings diagnostics use: `a.b[0]["x.y"]` and `a.b.0`. */
export function parsePath(text: string): PathSegment[] {
  const segments: PathSegment[] = [];
  for (const match of text.matchAll(/\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|([^.[\]]+)/g)) {
    if (match[1] !== undefined) segments.push(Number(match[1]));
    else if (match[2] !== undefined) segments.push(JSON.parse(match[2]) as string);
    else segments.push(/^\d+$/.test(match[3]!) ? Number(match[3]) : match[3]!);
  }
  return segments;
}

function sorted(result: ImportResult): ImportResult {
  result.diagnostics.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  return result;
}
