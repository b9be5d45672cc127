/**
 * Problems found in user input. Every check reports values of this type and keeps going, so that one run of
 * `cairn validate` lists every problem with its place, the way Argo's validator does.
 */
export interface Diagnostic {
  /** Stable machine-readable kind, e.g. `unknown-function`, `yaml-syntax`, `dependency-cycle`. */
  code: string;
  severity: 'error' | 'warning';
  message: string;
  file?: string;
  /** 1-based, from the YAML source positions. */
  line?: number;
  column?: number;
  /** Where in the document, e.g. `actions.backup.phases[1].func`. */
  path?: string;
  /** How to fix it, when there is something specific to say. */
  hint?: string;
}

/** An error carrying diagnostics; the CLI prints them instead of a stack trace. */
export class CairnError extends Error {
  readonly diagnostics: Diagnostic[];

  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'CairnError';
    this.diagnostics = diagnostics;
  }
}

export function errorsOf(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return diagnostics.filter((d) => d.severity === 'error');
}

/** `file:line:col: path: message (hint) [code]`: the shape editors and CI logs link to. */
export function formatDiagnostic(d: Diagnostic): string {
  const place = [d.file, d.line, d.line !== undefined ? d.column : undefined].filter((p) => p !== undefined).join(':');
  const prefix = place ? `${place}: ` : '';
  const path = d.path ? `${d.path}: ` : '';
  const hint = d.hint ? ` (${d.hint})` : '';
  return `${prefix}${d.severity}: ${path}${d.message}${hint} [${d.code}]`;
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0]!;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j]!;
      const cost = a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1;
      previous[j] = Math.min(above + 1, previous[j - 1]! + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return previous[b.length]!;
}

export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const limit = Math.max(2, Math.floor(word.length / 3));
  return best !== undefined && bestDistance <= limit ? best : undefined;
}

/** The innermost cause's message: Temporal wraps a function's own error in activity and workflow failures. */
export function innermostMessage(error: unknown): string {
  let current = error;
  while (current instanceof Error && (current as Error & { cause?: unknown }).cause instanceof Error) current = (current as Error & { cause?: unknown }).cause;
  return current instanceof Error ? current.message : String(error);
}
