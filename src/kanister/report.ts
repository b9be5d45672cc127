/**
 * Diagnostics of an import, placed in the Kanister file: YAML paths through `positionOf`, template problems
 * through `positionInScalar`. Also keeps the source map from each converted node back to the Kanister node it
 * came from, so that Cairn's validation of the result can point at the Kanister input.
 */
import type { Diagnostic } from '../diagnostics.ts';
import { formatPath, type PathSegment, type SourceDocument } from '../yaml-source.ts';
import { positionInScalar } from './scalar-position.ts';
import type { Problem } from './template-params.ts';
import type { TemplateProblem } from './translate-template.ts';

export class ImportReport {
  readonly diagnostics: Diagnostic[] = [];
  /** `formatPath(output path)` → the Kanister path it was converted from. */
  readonly sourceMap = new Map<string, PathSegment[]>();
  private readonly lines: string[];

  constructor(
    readonly doc: SourceDocument,
    sourceText: string,
  ) {
    this.lines = sourceText.split('\n');
  }

  map(outPath: readonly PathSegment[], inPath: readonly PathSegment[]): void {
    this.sourceMap.set(formatPath(outPath), [...inPath]);
  }

  error(code: string, path: readonly PathSegment[], message: string, hint?: string): void {
    this.add('error', { code, message, ...(hint ? { hint } : {}) }, path);
  }

  warn(code: string, path: readonly PathSegment[], message: string, hint?: string): void {
    this.add('warning', { code, message, ...(hint ? { hint } : {}) }, path);
  }

  problem(problem: Problem, path: readonly PathSegment[]): void {
    this.add('error', problem, path);
  }

  /** A problem inside the template held at `path`: placed at the construct, quoting it. */
  templateProblem(problem: TemplateProblem, path: readonly PathSegment[], template: string): void {
    const position = positionInScalar(this.doc, this.lines, path, template, problem.offset, { text: problem.construct, offset: problem.constructOffset });
    const message = problem.message.includes(problem.construct) || problem.construct === '' ? problem.message : `${problem.construct}: ${problem.message}`;
    this.diagnostics.push({ code: problem.code, severity: 'error', message, file: this.doc.file, line: position.line, column: position.column, path: formatPath(path), ...(problem.hint ? { hint: problem.hint } : {}) });
  }

  private add(severity: Diagnostic['severity'], problem: Problem, path: readonly PathSegment[]): void {
    const position = this.doc.positionOf(path);
    const diagnostic: Diagnostic = { code: problem.code, severity, message: problem.message, file: this.doc.file, line: position.line, column: position.column };
    if (path.length > 0) diagnostic.path = formatPath(path);
    if (problem.hint) diagnostic.hint = problem.hint;
    this.diagnostics.push(diagnostic);
  }
}
