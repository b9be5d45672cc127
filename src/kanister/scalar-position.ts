/**
 * Where an offset inside a YAML string value is in the file. Literal block scalars (`|`, what Kanister
 * blueprints use for scripts) keep lines and indentation, so the position is computed. In other scalars
 * (quoted, plain, folded) escapes and folding move text around, so the construct at fault is searched for
 * from the value's start, the same occurrence as in the value; the computed position is the fallback.
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
  if (construct && construct.text !== '') {
    const occurrence = value.slice(0, construct.offset).split(construct.text).length - 1;
    const found = search(lines, start, construct.text, occurrence);
    if (found) return { line: found.line, column: found.column + (offset - construct.offset) };
  }
  const quoted = indicator === '"' || indicator === "'";
  return valueLine === 0 && indicator !== '>' ? { line: start.line, column: start.column + (quoted ? 1 : 0) + valueColumn } : start;
}

/** The position of the `occurrence`-th (0-based) `needle` at or after `from`. */
function search(lines: readonly string[], from: SourcePosition, needle: string, occurrence: number): SourcePosition | undefined {
  let seen = 0;
  for (let index = from.line - 1; index < lines.length; index++) {
    let column = index === from.line - 1 ? from.column - 1 : 0;
    while ((column = lines[index]!.indexOf(needle, column)) !== -1) {
      if (seen++ === occurrence) return { line: index + 1, column: column + 1 };
      column += needle.length;
    }
  }
  return undefined;
}
