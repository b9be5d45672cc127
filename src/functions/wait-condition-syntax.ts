/**
 * The syntax of WaitV2's condition language: its tree, a parser that reports errors with their offset, and a
 * printer that writes a tree back as canonical text (what the Kanister importer emits). The language itself is
 * documented in docs/wait-conditions.md; evaluation lives in wait-condition.ts.
 */
import type { JsonPrimitive } from '../json.ts';

export type CompareOperator = '==' | '!=' | '<' | '<=' | '>' | '>=';

export type PathStep =
  | { kind: 'key'; key: string }
  | { kind: 'index'; index: number }
  /** `[?(expr)]`: the first element for which `expr` (whose paths start at `@`) holds. */
  | { kind: 'filter'; where: Expression };

export interface PathExpression {
  type: 'path';
  /** `$` is the watched object; `@` is the element a filter is looking at. */
  root: '$' | '@';
  steps: PathStep[];
}

export type Expression =
  | { type: 'literal'; value: JsonPrimitive }
  | PathExpression
  | { type: 'compare'; operator: CompareOperator; left: Expression; right: Expression }
  | { type: 'and' | 'or'; left: Expression; right: Expression }
  | { type: 'not'; operand: Expression }
  | { type: 'call'; name: 'exists' | 'len'; path: PathExpression };

export class ConditionSyntaxError extends Error {
  /** 0-based offset into the condition text. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = 'ConditionSyntaxError';
    this.offset = offset;
  }
}

const COMPARE_OPERATORS: readonly CompareOperator[] = ['==', '!=', '<=', '>=', '<', '>'];
const NAME_CHAR = /[A-Za-z0-9_-]/;

/** Parses a whole expression; throws ConditionSyntaxError. */
export function parseExpression(text: string): Expression {
  const parser = new ExpressionParser(text, 0);
  const expression = parser.expression();
  parser.skipSpace();
  if (!parser.atEnd()) parser.fail(`unexpected ${parser.describeNext()}`);
  return expression;
}

/**
 * Parses a path at `offset` of `text` (`$.a.b`, `.a.b`, `{.a.b}`, `{$.a.b}`), returning it and where it ends.
 * The Go-template translator uses this for the JSONPath pieces Kanister conditions contain.
 */
export function parsePathAt(text: string, offset: number): { path: PathExpression; end: number } {
  const parser = new ExpressionParser(text, offset);
  const path = parser.path(false);
  return { path, end: parser.position };
}

class ExpressionParser {
  position: number;
  /** Inside `[?( … )]`, where `@` names the element. */
  private filterDepth = 0;

  constructor(
    private readonly text: string,
    start: number,
  ) {
    this.position = start;
  }

  atEnd(): boolean {
    return this.position >= this.text.length;
  }

  fail(message: string, at = this.position): never {
    throw new ConditionSyntaxError(message, at);
  }

  describeNext(): string {
    if (this.atEnd()) return 'end of condition';
    const rest = this.text.slice(this.position);
    const word = /^[A-Za-z0-9_]+/.exec(rest)?.[0] ?? rest[0]!;
    return `"${word}"`;
  }

  skipSpace(): void {
    while (!this.atEnd() && /\s/.test(this.text[this.position]!)) this.position++;
  }

  private peek(token: string): boolean {
    return this.text.startsWith(token, this.position);
  }

  private eat(token: string): boolean {
    this.skipSpace();
    if (!this.peek(token)) return false;
    this.position += token.length;
    return true;
  }

  private expect(token: string, what: string): void {
    if (!this.eat(token)) this.fail(`expected ${what}, found ${this.describeNext()}`);
  }

  expression(): Expression {
    let left = this.and();
    while (this.eat('||')) left = { type: 'or', left, right: this.and() };
    return left;
  }

  private and(): Expression {
    let left = this.unary();
    while (this.eat('&&')) left = { type: 'and', left, right: this.unary() };
    return left;
  }

  private unary(): Expression {
    this.skipSpace();
    if (this.peek('!') && !this.peek('!=')) {
      this.position++;
      return { type: 'not', operand: this.unary() };
    }
    return this.comparison();
  }

  private comparison(): Expression {
    const left = this.primary();
    const operator = this.compareOperator();
    if (!operator) return left;
    const right = this.primary();
    this.skipSpace();
    const at = this.position;
    if (this.compareOperator()) this.fail('comparisons cannot be chained; combine them with &&', at);
    return { type: 'compare', operator, left, right };
  }

  private compareOperator(): CompareOperator | undefined {
    this.skipSpace();
    const operator = COMPARE_OPERATORS.find((op) => this.peek(op));
    if (operator) this.position += operator.length;
    else if (this.peek('=') && !this.peek('==')) this.fail('"=" is not an operator; compare with ==');
    return operator;
  }

  private primary(): Expression {
    this.skipSpace();
    const char = this.text[this.position];
    if (char === undefined) this.fail('expected a value, found end of condition');
    if (char === '(') {
      this.position++;
      const inner = this.expression();
      this.expect(')', '")"');
      return inner;
    }
    if (char === '"' || char === "'") return { type: 'literal', value: this.string() };
    if (char === '-' || /[0-9]/.test(char)) return { type: 'literal', value: this.number() };
    if (char === '$' || char === '@' || char === '.' || char === '{') return this.path(true);
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.position))?.[0];
    if (word === 'true' || word === 'false' || word === 'null') {
      this.position += word.length;
      return { type: 'literal', value: word === 'null' ? null : word === 'true' };
    }
    if (word === 'exists' || word === 'len') {
      this.position += word.length;
      this.expect('(', `"(" after ${word}`);
      this.skipSpace();
      if (!/[$@.{]/.test(this.text[this.position] ?? '')) this.fail(`${word}() takes a path such as $.status.phase`);
      const path = this.path(true);
      this.expect(')', `")" to close ${word}(`);
      return { type: 'call', name: word, path };
    }
    if (word) this.fail(`unknown name "${word}": quote a string ("${word}"), or start a path with $.`);
    this.fail(`expected a value, found ${this.describeNext()}`);
  }

  private string(): string {
    const start = this.position;
    const quote = this.text[this.position]!;
    let value = '';
    this.position++;
    for (;;) {
      const char = this.text[this.position];
      if (char === undefined) this.fail('string is not closed', start);
      this.position++;
      if (char === quote) return value;
      if (char !== '\\') {
        value += char;
        continue;
      }
      const escaped = this.text[this.position];
      this.position++;
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", '/': '/' };
      if (escaped !== undefined && simple[escaped] !== undefined) value += simple[escaped];
      else if (escaped === 'u' && /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.position, this.position + 4))) {
        value += String.fromCharCode(Number.parseInt(this.text.slice(this.position, this.position + 4), 16));
        this.position += 4;
      } else this.fail(`unknown escape "\\${escaped ?? ''}" in string`, this.position - 2);
    }
  }

  private number(): number {
    const match = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.text.slice(this.position));
    if (!match) this.fail(`expected a number, found ${this.describeNext()}`);
    this.position += match[0].length;
    return Number(match[0]);
  }

  /** `$…`, `@…` (in filters), `.a.b` (short for `$.a.b`), and the kubectl forms `{.a.b}` and `{$.a.b}`. */
  path(allowAt: boolean): PathExpression {
    this.skipSpace();
    const braced = this.peek('{');
    if (braced) {
      this.position++;
      this.skipSpace();
    }
    const start = this.position;
    const char = this.text[this.position];
    let root: '$' | '@' = '$';
    if (char === '$') this.position++;
    else if (char === '@') {
      if (!allowAt || this.filterDepth === 0) this.fail('@ names the element inside a filter [?(…)] only');
      root = '@';
      this.position++;
    } else if (char !== '.') this.fail(`expected a path such as $.status.phase, found ${this.describeNext()}`);
    const steps = this.steps(char === '.');
    if (braced) this.expect('}', '"}" to close the path');
    if (steps.length === 0 && char === '.' && !braced) this.fail('expected a field name after "."', start);
    return { type: 'path', root, steps };
  }

  private steps(startsWithDot: boolean): PathStep[] {
    const steps: PathStep[] = [];
    let first = true;
    for (;;) {
      const char = this.text[this.position];
      if (char === '.') {
        this.position++;
        const name = this.name();
        // `.` alone (Go's dot, kubectl's `{.}`) is the whole object.
        if (name === '' && first && startsWithDot) return steps;
        if (name === '') this.fail('expected a field name after "."');
        steps.push({ kind: 'key', key: name });
      } else if (char === '[') {
        steps.push(this.bracket());
      } else return steps;
      first = false;
    }
  }

  private name(): string {
    const start = this.position;
    while (!this.atEnd() && NAME_CHAR.test(this.text[this.position]!)) this.position++;
    return this.text.slice(start, this.position);
  }

  private bracket(): PathStep {
    const open = this.position;
    this.position++;
    this.skipSpace();
    const char = this.text[this.position];
    let step: PathStep;
    if (char === '"' || char === "'") step = { kind: 'key', key: this.string() };
    else if (char === '?') {
      this.position++;
      this.expect('(', '"(" after "[?"');
      this.filterDepth++;
      const where = this.expression();
      this.filterDepth--;
      this.expect(')', '")" to close the filter');
      step = { kind: 'filter', where };
    } else if (char === '*') this.fail('wildcards [*] are not supported; select one element with [index] or a filter [?(…)]');
    else if (char === '-' || /[0-9]/.test(char ?? '')) {
      const match = /^-?[0-9]+/.exec(this.text.slice(this.position));
      if (!match || this.text[this.position + match[0].length] === ':') this.fail('expected an index such as [0] (slices are not supported)');
      this.position += match[0].length;
      step = { kind: 'index', index: Number(match[0]) };
    } else this.fail(`expected an index, a quoted key or a filter after "["`);
    this.skipSpace();
    if (this.text[this.position] !== ']') this.fail('expected "]"', this.atEnd() ? open : this.position);
    this.position++;
    return step;
  }
}

const PRECEDENCE: Record<Expression['type'], number> = { or: 1, and: 2, not: 3, compare: 4, literal: 5, path: 5, call: 5 };

/** Canonical text for an expression: `$.status.phase == "Running" && len($.spec.volumes) > 0`. */
export function formatExpression(expression: Expression): string {
  const wrap = (child: Expression, minimum: number) => (PRECEDENCE[child.type] < minimum ? `(${formatExpression(child)})` : formatExpression(child));
  switch (expression.type) {
    case 'literal':
      return JSON.stringify(expression.value);
    case 'path':
      return formatPath(expression);
    case 'call':
      return `${expression.name}(${formatPath(expression.path)})`;
    case 'not':
      // `!` takes a whole comparison (`!$.a == 1` is `!($.a == 1)`); parentheses say so to the reader.
      return `!${wrap(expression.operand, PRECEDENCE.literal)}`;
    case 'compare':
      return `${wrap(expression.left, PRECEDENCE.literal)} ${expression.operator} ${wrap(expression.right, PRECEDENCE.literal)}`;
    case 'and':
    case 'or':
      return `${wrap(expression.left, PRECEDENCE[expression.type])} ${expression.type === 'and' ? '&&' : '||'} ${wrap(expression.right, PRECEDENCE[expression.type] + 1)}`;
  }
}

export function formatPath(path: PathExpression): string {
  let text = path.root;
  for (const step of path.steps) {
    if (step.kind === 'key') text += /^[A-Za-z_][A-Za-z0-9_-]*$/.test(step.key) ? `.${step.key}` : `[${JSON.stringify(step.key)}]`;
    else if (step.kind === 'index') text += `[${step.index}]`;
    else text += `[?(${formatExpression(step.where)})]`;
  }
  return text;
}
