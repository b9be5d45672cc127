/**
 * The handlebars side of the translation: expressions built from Go operands, rendered into Cairn template
 * syntax. A context path is rendered `@root.X` inside `{{#each}}`/`{{#with}}` bodies, where handlebars has
 * moved the context to the element; block parameters (`as |pod|`) are plain names at any depth.
 */

/**
 * What a value is, where Kanister's and Cairn's contexts differ in shape:
 * - `bytes`: a Secret value (Go `[]byte`, Cairn an already decoded string)
 * - `secretData`/`configMapData`: a Secret's or ConfigMap's data map
 * - `containersByIndex`: Kanister's `Containers [][]string` (by pod index; Cairn's is by pod name)
 * - `pvcMap`: pod → (PVC → mount path) in Kanister, pod → PVC names in Cairn
 * - `pvcsOfPod`: one pod's entry of `pvcMap`
 */
export type Shape = 'value' | 'bytes' | 'secretData' | 'configMapData' | 'containersByIndex' | 'pvcMap' | 'pvcsOfPod';

export type HbsExpr =
  | { kind: 'path'; base: 'root' | 'param'; segments: string[]; shape: Shape; use?: () => void }
  | { kind: 'literal'; value: string | number | boolean | null }
  | { kind: 'call'; helper: string; args: HbsExpr[]; shape?: Shape };

export const IDENTIFIER_SEGMENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function contextPath(segments: string[], shape: Shape = 'value'): HbsExpr {
  return { kind: 'path', base: 'root', segments, shape };
}

export function call(helper: string, ...args: HbsExpr[]): HbsExpr {
  return { kind: 'call', helper, args };
}

export function withShape(expr: HbsExpr, shape: Shape): HbsExpr {
  return expr.kind === 'literal' ? expr : { ...expr, shape };
}

export function literal(value: string | number | boolean | null): HbsExpr {
  return { kind: 'literal', value };
}

export function shapeOf(expr: HbsExpr): Shape {
  return expr.kind === 'literal' ? 'value' : (expr.shape ?? 'value');
}

/** Why a literal cannot be written in handlebars syntax, or undefined when it can. */
export function literalProblem(value: string | number | boolean | null): string | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) && Math.abs(value) < 1e21 && !String(value).includes('e') ? undefined : `the number ${value} has no handlebars literal`;
  }
  if (typeof value !== 'string') return undefined;
  return quoteFor(value) ? undefined : 'a string holding both quote kinds (or ending in a backslash) has no handlebars literal';
}

/** Handlebars string literals have one escape, `\"` (or `\'`): a value must not hold the quote around it. */
function quoteFor(value: string): '"' | "'" | undefined {
  if (value.endsWith('\\')) return undefined;
  if (!value.includes('"')) return '"';
  return value.includes("'") ? undefined : "'";
}

/**
 * `depth` counts the each/with bodies around the expression; `nested` wraps a call in parentheses, as a
 * helper argument or block condition needs.
 */
export function renderExpr(expr: HbsExpr, depth: number, nested: boolean): string {
  switch (expr.kind) {
    case 'path': {
      expr.use?.();
      const text = expr.segments.join('.');
      return expr.base === 'root' && depth > 0 ? `@root.${text}` : text;
    }
    case 'literal':
      return renderLiteral(expr.value);
    case 'call': {
      const inner = [expr.helper, ...expr.args.map((arg) => renderExpr(arg, depth, true))].join(' ');
      return nested ? `(${inner})` : inner;
    }
  }
}

function renderLiteral(value: string | number | boolean | null): string {
  if (typeof value === 'string') {
    const quote = quoteFor(value) ?? '"';
    return `${quote}${value}${quote}`;
  }
  return String(value);
}
