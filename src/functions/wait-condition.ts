/**
 * WaitV2's condition language (docs/wait-conditions.md): parsing (Cairn's expressions, and the Kanister Go
 * templates that translate 1:1), evaluation against a watched object, and the static checks `cairn validate` and
 * the Kanister importer share. Pure: no I/O, so the validator, the importer and the function all use it.
 */
import { canonicalJson, isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import type { PathSegment } from '../yaml-source.ts';
import { isGoTemplate, translateGoTemplate } from './wait-condition-go.ts';
import { ConditionSyntaxError, formatExpression, formatPath, parseExpression, type Expression, type PathExpression } from './wait-condition-syntax.ts';

export { formatExpression, type Expression } from './wait-condition-syntax.ts';

export interface ConditionError {
  message: string;
  /** 0-based offset into the condition text. */
  offset: number;
  /** 1-based line and column inside the condition text. */
  line: number;
  column: number;
}

export type ParsedCondition =
  | { ok: true; expression: Expression; /** True when written as a Kanister Go template and translated. */ fromGoTemplate: boolean }
  | { ok: false; error: ConditionError };

/** Parses a condition written in Cairn's language, or as a Kanister Go template that maps onto it. */
export function parseCondition(text: string): ParsedCondition {
  try {
    if (isGoTemplate(text)) return { ok: true, expression: translateGoTemplate(text), fromGoTemplate: true };
    return { ok: true, expression: parseExpression(text), fromGoTemplate: false };
  } catch (error) {
    if (!(error instanceof ConditionSyntaxError)) throw error;
    const before = text.slice(0, error.offset);
    const line = before.split('\n').length;
    return { ok: false, error: { message: error.message, offset: error.offset, line, column: error.offset - (before.lastIndexOf('\n') + 1) + 1 } };
  }
}

/** `<message> at column 12` (with the line when the condition has several). */
export function describeConditionError(text: string, error: ConditionError): string {
  return `${error.message} at ${text.includes('\n') ? `line ${error.line}, ` : ''}column ${error.column}`;
}

export interface Observation {
  /** The path as written canonically, e.g. `$.status.phase`. */
  path: string;
  /** Undefined when the object has no such field. */
  value: JsonValue | undefined;
}

export interface Evaluation {
  holds: boolean;
  /** Every path the evaluation read (outside filters), with the value it found. */
  observed: Observation[];
}

type Value = JsonValue | undefined;

/** Evaluates `expression` against `object` (undefined when the object does not exist: every path is missing). */
export function evaluateCondition(expression: Expression, object: JsonValue | undefined): Evaluation {
  const observed: Observation[] = [];
  const value = evaluate(expression, { root: object, element: undefined, observed });
  return { holds: truthy(value), observed };
}

interface Scope {
  root: Value;
  element: Value;
  /** Absent inside filters, whose per-element reads would only be noise. */
  observed: Observation[] | undefined;
}

function evaluate(expression: Expression, scope: Scope): Value {
  switch (expression.type) {
    case 'literal':
      return expression.value;
    case 'path': {
      const value = resolve(expression, scope);
      if (scope.observed && !scope.observed.some((o) => o.path === formatPath(expression))) scope.observed.push({ path: formatPath(expression), value });
      return value;
    }
    case 'call': {
      const value = evaluate(expression.path, scope);
      if (expression.name === 'exists') return value !== undefined;
      if (Array.isArray(value) || typeof value === 'string') return value.length;
      if (isJsonObject(value)) return Object.keys(value).length;
      return value === undefined || value === null ? 0 : undefined;
    }
    case 'not':
      return !truthy(evaluate(expression.operand, scope));
    case 'and':
      return truthy(evaluate(expression.left, scope)) && truthy(evaluate(expression.right, scope));
    case 'or':
      return truthy(evaluate(expression.left, scope)) || truthy(evaluate(expression.right, scope));
    case 'compare': {
      const left = evaluate(expression.left, scope);
      const right = evaluate(expression.right, scope);
      switch (expression.operator) {
        case '==':
          return equal(left, right);
        case '!=':
          return !equal(left, right);
        default: {
          const order = compare(left, right);
          if (order === undefined) return false;
          return expression.operator === '<' ? order < 0 : expression.operator === '<=' ? order <= 0 : expression.operator === '>' ? order > 0 : order >= 0;
        }
      }
    }
  }
}

function resolve(path: PathExpression, scope: Scope): Value {
  let current: Value = path.root === '$' ? scope.root : scope.element;
  for (const step of path.steps) {
    if (current === undefined) return undefined;
    if (step.kind === 'key') current = isJsonObject(current) && Object.hasOwn(current, step.key) ? current[step.key] : undefined;
    else if (step.kind === 'index') current = Array.isArray(current) ? current[step.index < 0 ? current.length + step.index : step.index] : undefined;
    else current = Array.isArray(current) ? current.find((element) => truthy(evaluate(step.where, { root: scope.root, element, observed: undefined }))) : undefined;
  }
  return current;
}

/** Go's truthiness, which Kanister's `{{ if … }}` uses: false, 0, "", null, missing and empty collections are false. */
function truthy(value: Value): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isJsonObject(value)) return Object.keys(value).length > 0;
  return value !== false && value !== 0 && value !== '';
}

/**
 * Missing and null are equal; a string against a number or boolean compares their text (`3 == "3"`), as
 * kubectl's JSONPath output does; objects and arrays compare by content.
 */
function equal(left: Value, right: Value): boolean {
  if (left === undefined || left === null || right === undefined || right === null) return (left ?? null) === (right ?? null);
  if (typeof left === 'object' || typeof right === 'object') return typeof left === typeof right && canonicalJson(left) === canonicalJson(right);
  if (typeof left === typeof right) return left === right;
  if (typeof left === 'string' || typeof right === 'string') return String(left) === String(right);
  return false;
}

/** Numbers by value (a numeric string counts as its number), strings by code point; otherwise not ordered. */
function compare(left: Value, right: Value): number | undefined {
  const number = (value: Value) => (typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : undefined);
  if (typeof left === 'string' && typeof right === 'string') return left < right ? -1 : left > right ? 1 : 0;
  const a = number(left);
  const b = number(right);
  return a === undefined || b === undefined ? undefined : a - b;
}

export interface ConditionProblem {
  code: string;
  /** Relative to the function's args, e.g. `['conditions', 'anyOf', 0, 'condition']`. */
  path: PathSegment[];
  message: string;
  hint?: string;
  /** 1-based line inside the condition text where the problem is (for block scalars of several lines). */
  line?: number;
}

/** How a condition string in a blueprint is written, before the phase's templates are rendered. */
export type ConditionForm = 'expression' | 'escaped-go-template' | 'go-template' | 'templated-expression';

export function conditionForm(text: string): ConditionForm {
  if (!text.includes('{{')) return 'expression';
  if (!/(^|[^\\])\{\{/.test(text)) return 'escaped-go-template';
  if (parseCondition(text).ok || /\{\{-?\s*(if|else|end)\b/.test(text)) return 'go-template';
  return 'templated-expression';
}

/**
 * The static checks of WaitV2's conditions: each must parse. A Go template written unescaped would be rendered
 * by Cairn's template engine before WaitV2 saw it, so it is reported with its translation as the fix.
 */
export function conditionProblems(args: JsonObject): ConditionProblem[] {
  const problems: ConditionProblem[] = [];
  const conditions = args.conditions;
  if (!isJsonObject(conditions)) return problems;
  for (const [mode, list] of Object.entries(conditions)) {
    if (!Array.isArray(list)) continue;
    list.forEach((entry, index) => {
      if (!isJsonObject(entry) || typeof entry.condition !== 'string') return;
      const text = entry.condition;
      const path: PathSegment[] = ['conditions', mode, index, 'condition'];
      const form = conditionForm(text);
      if (form === 'templated-expression') return;
      const source = form === 'escaped-go-template' ? text.replace(/\\\{\{/g, '{{') : text;
      const parsed = parseCondition(source);
      if (!parsed.ok) {
        problems.push({ code: 'invalid-wait-condition', path, message: `condition does not parse: ${describeConditionError(source, parsed.error)}`, hint: 'see docs/wait-conditions.md for the condition language', line: parsed.error.line });
      } else if (form === 'go-template') {
        problems.push({
          code: 'go-template-condition',
          path,
          message: "this condition is a Go template, which Cairn's template engine would render before WaitV2 evaluates it",
          hint: `write it as: ${formatExpression(parsed.expression)}`,
        });
      }
    });
  }
  return problems;
}

/** Whether a string at `path` of WaitV2's args is a Go-template condition (which is not a handlebars template). */
export function isGoTemplateConditionAt(args: JsonObject, path: readonly PathSegment[]): boolean {
  if (path.length !== 4 || path[0] !== 'conditions' || path[3] !== 'condition') return false;
  const conditions = args.conditions;
  const list = isJsonObject(conditions) ? conditions[String(path[1])] : undefined;
  const entry = Array.isArray(list) ? list[Number(path[2])] : undefined;
  return isJsonObject(entry) && typeof entry.condition === 'string' && conditionForm(entry.condition) === 'go-template';
}
