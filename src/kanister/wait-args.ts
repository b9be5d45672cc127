/**
 * Wait and WaitV2 are the one place where Kanister does not render every arg with the blueprint's parameters:
 * it renders their object references and timeout, and evaluates each `condition` as a Go template against the
 * watched object (WaitV2) or after substituting its `{$.jsonpath}` pieces (Wait). Cairn's WaitV2 takes conditions
 * in its own language (src/functions/wait-condition.ts), so each condition is translated into it; one the
 * language cannot express is reported with the reason, at the construct at fault.
 */
import { formatExpression, parseCondition } from '../functions/wait-condition.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import type { PathSegment } from '../yaml-source.ts';
import type { ImportReport } from './report.ts';
import { setOwn } from './set-own.ts';

type Translate = (value: JsonValue, inPath: PathSegment[], outPath: PathSegment[]) => JsonValue;

export function convertWaitArgs(args: JsonObject, inPath: PathSegment[], outPath: PathSegment[], report: ImportReport, translate: Translate): JsonObject {
  report.map(outPath, inPath);
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(args)) {
    if (key === 'conditions' && isJsonObject(value)) setOwn(out, key, conditions(value, [...inPath, key], [...outPath, key], report, translate));
    else setOwn(out, key, translate(value, [...inPath, key], [...outPath, key]));
  }
  return out;
}

function conditions(value: JsonObject, inPath: PathSegment[], outPath: PathSegment[], report: ImportReport, translate: Translate): JsonObject {
  const out: JsonObject = {};
  for (const [mode, list] of Object.entries(value)) {
    if (!Array.isArray(list)) {
      setOwn(out, mode, list);
      continue;
    }
    setOwn(out, mode, list.map((entry, index) => {
      if (!isJsonObject(entry)) return entry;
      const entryIn = [...inPath, mode, index];
      const entryOut = [...outPath, mode, index];
      const converted: JsonObject = {};
      for (const [field, item] of Object.entries(entry)) {
        if (field !== 'condition') setOwn(converted, field, translate(item, [...entryIn, field], [...entryOut, field]));
        else setOwn(converted, field, typeof item === 'string' ? condition(item, [...entryIn, field], report) : item);
        report.map([...entryOut, field], [...entryIn, field]);
      }
      return converted;
    }));
  }
  return out;
}

/** A Kanister condition in Cairn's condition language, or the original text with an error reported. */
function condition(text: string, path: PathSegment[], report: ImportReport): string {
  // Without an action a Go template renders its own text: it holds only if that text is "true".
  if (!text.includes('{{')) {
    if (text.trim() === 'true' || text.trim() === 'false') return text.trim();
    report.error('unsupported-wait-condition', path, 'a Kanister condition is a Go template that renders "true" when it holds; this one has no {{ … }} action', 'write it as {{ if … }}true{{ else }}false{{ end }}');
    return text;
  }
  const parsed = parseCondition(text);
  if (parsed.ok) return formatExpression(parsed.expression);
  const { offset, message } = parsed.error;
  // Quote the action the problem is in, or the character where the text went wrong.
  const start = text.lastIndexOf('{{', offset);
  const end = text.indexOf('}}', offset);
  const inAction = start >= 0 && end >= 0 && !text.slice(start, offset).includes('}}');
  const construct = inAction ? text.slice(start, end + 2) : text.slice(offset, offset + 1);
  report.templateProblem(
    {
      code: 'unsupported-wait-condition',
      message: `this condition cannot be translated into Cairn's condition language: ${message}`,
      hint: "rewrite it with eq/ne/lt/le/gt/ge/and/or/not over fields and literals (see docs/wait-conditions.md), or wait with a KubeTask that polls kubectl",
      offset,
      construct,
      constructOffset: inAction ? start : offset,
    },
    path,
    text,
  );
  return text;
}
