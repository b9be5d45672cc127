/**
 * Kanister's phase-output lines, as `kando output key value` prints them:
 * `###Phase-output###: {"key":"k","value":"v"}`. Parsed the same way from exec stdout and from pod logs so
 * imported blueprints keep working.
 */
import type { JsonValue } from '../../src/json.ts';

const MARKER = '###Phase-output###:';

export function parsePhaseOutputs(text: string): Record<string, JsonValue> {
  const outputs: Record<string, JsonValue> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf(MARKER);
    if (at < 0) continue;
    try {
      const entry = JSON.parse(line.slice(at + MARKER.length).trim()) as { key?: unknown; value?: JsonValue };
      if (typeof entry.key === 'string' && entry.key !== '') outputs[entry.key] = entry.value ?? null;
    } catch {
      // Not JSON after the marker: ordinary output that happens to contain it.
    }
  }
  return outputs;
}
