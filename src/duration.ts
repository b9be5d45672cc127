/** Durations as blueprints write them: `500ms`, `90s`, `10m`, `1h30m` (Go's syntax, without µs/ns). */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;

export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const match of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number.parseFloat(match[1]!) * UNIT_MS[match[2]!]!;
  }
  return Math.round(total);
}
