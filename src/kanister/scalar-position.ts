/**
 * Where an offset inside a YAML string value is in the file. Exact for literal block scalars (`|`, what
 * Kanister blueprints use for scripts) and for single-line plain and quoted strings; for folded or
 * multi-line flow strings the construct is searched for from the value's start.
 */
import type { PathSegment, SourceDocument, SourcePosition } from '../yaml-source.ts';

export function positionInScalar(
  doc: SourceDocument,
  lines: readonly string[],
  path: readonly PathSegment[],
  value: string,
  offset: number,
  construct?: { text: string; offset: number },
): SourcePosition {
  const start = doc.positionOf(path);
  const indicator = (lines[start.line - 1] ?? '')[start.column - 1];
  const before = value.slice(0, offset);
  const valueLine = before.split('\n').length - 1;
  const valueColumn = offset - (before.lastIndexOf('\n') + 1);
  if (indicator === '|') {
    const firstContent = lines.slice(start.line).find((line) => line.trim() !== '') ?? '';
    const indent = firstContent.length - firstContent.trimStart().length;
    return { line: start.line + 1 + valueLine, column: indent + valueColumn + 1 };
  }
  if (valueLine === 0 && indicator !== '>') {
    const quoted = indicator === '"' || indicator === "'";
    return { line: start.line, column: start.column + (quoted ? 1 : 0) + valueColumn };
  }
  if (construct) {
    const found = search(lines, start, construct.text);
    if (found) return { line: found.line, column: found.column + (offset - construct.offset) };
  }
  return start;
}

function search(lines: readonly string[], from: SourcePosition, needle: string): SourcePosition | undefined {
  for (let index = from.line - 1; index < lines.length; index++) {
    const column = lines[index]!.indexOf(needle, index === from.line - 1 ? from.column - 1 : 0);
    if (column !== -1) return { line: index + 1, column: column + 1 };
  }
  return undefined;
}
