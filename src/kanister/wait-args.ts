/**
 * Wait and WaitV2 are the one place where Kanister does not render args with the blueprint's parameters: it
 * renders their object references, leaves `timeout` as written, and evaluates each `condition` as a Go
 * template against the watched object. Cairn's WaitV2 does not evaluate Go templates, so such a condition is
 * reported rather than translated against the wrong context.
 */
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import type { PathSegment } from '../yaml-source.ts';
import type { ImportReport } from './report.ts';
import { setOwn } from './set-own.ts';

type Translate = (value: JsonValue, inPath: PathSegment[], outPath: PathSegment[]) => JsonValue;

export function convertWaitArgs(args: JsonObject, inPath: PathSegment[], outPath: PathSegment[], report: ImportReport, translate: Translate): JsonObject {
  report.map(outPath, inPath);
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(args)) {
    if (key === 'timeout') setOwn(out, key, value);
    else if (key === 'conditions' && isJsonObject(value)) setOwn(out, key, conditions(value, [...inPath, key], [...outPath, key], report, translate));
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
        if (field !== 'condition') {
          setOwn(converted, field, translate(item, [...entryIn, field], [...entryOut, field]));
          continue;
        }
        if (typeof item === 'string' && item.includes('{{')) {
          report.error('unsupported-wait-condition', [...entryIn, field], "this condition is a Go template over the watched object; Cairn's WaitV2 does not evaluate Go templates", "wait with a KubeTask that polls kubectl, or rewrite the condition for Cairn's WaitV2");
        }
        setOwn(converted, field, item);
        report.map([...entryOut, field], [...entryIn, field]);
      }
      return converted;
    }));
  }
  return out;
}
