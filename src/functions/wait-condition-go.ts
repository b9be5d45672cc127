/**
 * Kanister writes wait conditions as Go templates that render "true" when the condition holds:
 * `{{ if (eq .status.phase "Running") }}true{{ else }}false{{ end }}` (WaitV2, over the object) or
 * `{{ if (eq "{$.status.phase}" "Running") }}true{{ end }}` (Wait, with kubectl JSONPath pieces). Cairn does not
 * run Go templates; the forms that map 1:1 onto its condition language (eq/ne/lt/le/gt/ge/and/or/not over
 * fields, JSONPath pieces and literals, as `{{ if … }}true{{ else }}false{{ end }}` or `{{ … }}`) are translated
 * into an expression here, and anything else is a ConditionSyntaxError naming the construct.
 */
import type { JsonPrimitive } from '../json.ts';
import { ConditionSyntaxError, parsePathAt, type CompareOperator, type Expression } from './wait-condition-syntax.ts';

type Token =
  | { kind: 'open' | 'close'; at: number }
  | { kind: 'operand'; value: Expression; at: number }
  | { kind: 'word'; word: string; at: number };

interface Action {
  at: number;
  tokens: Token[];
}

type Piece = { kind: 'text'; text: string; at: number } | { kind: 'action'; action: Action };

const COMPARISONS: Record<string, CompareOperator> = { eq: '==', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' };
const SUPPORTED = 'eq, ne, lt, le, gt, ge, and, or, not';

/** Whether `text` is written as a Go template (has an action) rather than in Cairn's condition language. */
export function isGoTemplate(text: string): boolean {
  return text.includes('{{');
}

export function translateGoTemplate(text: string): Expression {
  const pieces = split(text);
  const actions = pieces.filter((p): p is Extract<Piece, { kind: 'action' }> => p.kind === 'action').map((p) => p.action);
  const first = actions[0];
  if (!first) throw new ConditionSyntaxError('expected a {{ … }} action', 0);
  const head = first.tokens[0];
  if (head?.kind === 'word' && head.word === 'if') return ifForm(pieces);
  if (actions.length > 1) throw new ConditionSyntaxError('a condition is one {{ if … }}true{{ else }}false{{ end }} or one {{ … }} action', actions[1]!.at);
  const stray = pieces.find((p) => p.kind === 'text' && p.text.trim() !== '');
  if (stray && stray.kind === 'text') throw new ConditionSyntaxError(`text "${stray.text.trim()}" outside the action: the template would not render just "true"`, stray.at);
  const value = command(first.tokens, first.at, true);
  return rendersTrue(value);
}

/** `{{ x }}` renders "true" when x is a comparison that holds, or a value printed as true. */
function rendersTrue(value: Expression): Expression {
  return value.type === 'compare' || value.type === 'and' || value.type === 'or' || value.type === 'not' || value.type === 'literal'
    ? value
    : { type: 'compare', operator: '==', left: value, right: { type: 'literal', value: true } };
}

function ifForm(pieces: Piece[]): Expression {
  let index = 0;
  const next = () => pieces[index++];
  const skipBlank = () => {
    const piece = pieces[index];
    if (piece?.kind === 'text' && piece.text.trim() === '') index++;
  };
  skipBlank();
  const opening = next()!;
  if (opening.kind === 'text') throw new ConditionSyntaxError(`text "${opening.text.trim()}" before {{ if }}: the template would not render just "true"`, opening.at);
  const ifAction = opening.action;
  const condition = command(ifAction.tokens.slice(1), ifAction.at, false);
  const branches: string[] = [];
  let elseSeen = false;
  for (;;) {
    const piece = next();
    if (!piece) throw new ConditionSyntaxError('{{ if }} is not closed with {{ end }}', ifAction.at);
    if (piece.kind === 'text') {
      branches[elseSeen ? 1 : 0] = piece.text.trim();
      continue;
    }
    const word = piece.action.tokens[0]?.kind === 'word' ? (piece.action.tokens[0] as { word: string }).word : undefined;
    if (word === 'else' && !elseSeen && piece.action.tokens.length === 1) {
      elseSeen = true;
      continue;
    }
    if (word === 'end' && piece.action.tokens.length === 1) break;
    if (word === 'else') throw new ConditionSyntaxError('{{ else if … }} is not supported: combine the conditions with or', piece.action.at);
    throw new ConditionSyntaxError('only the text true or false may stand between {{ if }}, {{ else }} and {{ end }}', piece.action.at);
  }
  skipBlank();
  const trailing = pieces[index];
  if (trailing) throw new ConditionSyntaxError('nothing may follow {{ end }}', trailing.kind === 'text' ? trailing.at : trailing.action.at);
  const [whenTrue = '', whenFalse = ''] = branches;
  if (whenTrue === 'true' && (whenFalse === 'false' || whenFalse === '')) return condition;
  if (whenTrue === 'false' && whenFalse === 'true') return { type: 'not', operand: condition };
  throw new ConditionSyntaxError(`the template renders "${whenTrue}" and "${whenFalse}"; a condition renders true when it holds and false (or nothing) otherwise`, ifAction.at);
}

/** The template's text and actions, each action tokenized. */
function split(text: string): Piece[] {
  const pieces: Piece[] = [];
  let position = 0;
  while (position < text.length) {
    const open = text.indexOf('{{', position);
    if (open < 0) {
      pieces.push({ kind: 'text', text: text.slice(position), at: position });
      break;
    }
    if (open > position) pieces.push({ kind: 'text', text: text.slice(position, open), at: position });
    const { action, end } = tokenizeAction(text, open);
    pieces.push({ kind: 'action', action });
    position = end;
  }
  return pieces;
}

function tokenizeAction(text: string, open: number): { action: Action; end: number } {
  let position = open + 2;
  if (text[position] === '-' && /\s/.test(text[position + 1] ?? '')) position++;
  if (text.startsWith('/*', position)) throw new ConditionSyntaxError('comments are not supported in conditions', open);
  const tokens: Token[] = [];
  for (;;) {
    while (position < text.length && /\s/.test(text[position]!)) position++;
    const at = position;
    const char = text[position];
    if (char === undefined) throw new ConditionSyntaxError('action is not closed with }}', open);
    if (text.startsWith('}}', position)) return { action: { at: open, tokens }, end: position + 2 };
    if (text.startsWith('-}}', position)) return { action: { at: open, tokens }, end: position + 3 };
    if (char === '(' || char === ')') {
      tokens.push({ kind: char === '(' ? 'open' : 'close', at });
      position++;
    } else if (char === '"' && /^"\s*\{\s*[$.]/.test(text.slice(position))) {
      // Kanister's Wait puts JSONPath inside quotes: "{ $.status.phase }" (its filters may hold quotes too).
      const { path, end } = parsePathAt(text, position + 1);
      position = end;
      while (/\s/.test(text[position] ?? '')) position++;
      if (text[position] !== '"') throw new ConditionSyntaxError('expected the closing quote after the JSONPath', position);
      position++;
      tokens.push({ kind: 'operand', value: path, at });
    } else if (char === '{' || char === '.' || (char === '$' && !/[A-Za-z_]/.test(text[position + 1] ?? ''))) {
      const { path, end } = parsePathAt(text, position);
      position = end;
      tokens.push({ kind: 'operand', value: path, at });
    } else if (char === '$') {
      throw new ConditionSyntaxError('template variables are not supported in conditions', at);
    } else if (char === '"' || char === '`') {
      const { value, end } = goString(text, position);
      position = end;
      tokens.push({ kind: 'operand', value: { type: 'literal', value }, at });
    } else if (/[-+0-9]/.test(char)) {
      const match = /^[-+]?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/.exec(text.slice(position));
      if (!match) throw new ConditionSyntaxError(`unexpected "${char}"`, at);
      position += match[0].length;
      tokens.push({ kind: 'operand', value: { type: 'literal', value: Number(match[0]) }, at });
    } else if (/[A-Za-z_]/.test(char)) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(position))![0];
      position += word.length;
      const literal: Record<string, JsonPrimitive> = { true: true, false: false, nil: null };
      if (Object.hasOwn(literal, word)) tokens.push({ kind: 'operand', value: { type: 'literal', value: literal[word]! }, at });
      else tokens.push({ kind: 'word', word, at });
    } else if (char === '|') {
      throw new ConditionSyntaxError('pipelines (|) are not supported in conditions; call the function with its arguments', at);
    } else if (text.startsWith(':=', position) || char === '=') {
      throw new ConditionSyntaxError('template variables are not supported in conditions', at);
    } else {
      throw new ConditionSyntaxError(`unexpected "${char}" in the action`, at);
    }
  }
}

function goString(text: string, start: number): { value: string; end: number } {
  const quote = text[start]!;
  if (quote === '`') {
    const close = text.indexOf('`', start + 1);
    if (close < 0) throw new ConditionSyntaxError('string is not closed', start);
    return { value: text.slice(start + 1, close), end: close + 1 };
  }
  let position = start + 1;
  while (position < text.length && text[position] !== '"') position += text[position] === '\\' ? 2 : 1;
  if (position >= text.length) throw new ConditionSyntaxError('string is not closed', start);
  try {
    return { value: JSON.parse(text.slice(start, position + 1)) as string, end: position + 1 };
  } catch {
    throw new ConditionSyntaxError('string has an escape this translation does not know', start);
  }
}

/** A command (`eq .a "b"`, `(…)`, or a single operand) made of all of `tokens`. */
function command(tokens: Token[], at: number, topLevel: boolean): Expression {
  const reader = new TokenReader(tokens, at);
  if (reader.done()) throw new ConditionSyntaxError(topLevel ? 'empty action' : '{{ if }} needs a condition', at);
  const result = reader.command();
  if (!reader.done()) throw new ConditionSyntaxError('unexpected tokens after the condition', reader.position());
  return result;
}

class TokenReader {
  private index = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly actionAt: number,
  ) {}

  done(): boolean {
    return this.index >= this.tokens.length;
  }

  position(): number {
    return this.tokens[this.index]?.at ?? this.actionAt;
  }

  /** A function call with its arguments up to `)` or the end, or a single operand. */
  command(): Expression {
    const head = this.tokens[this.index];
    if (head?.kind === 'word') {
      this.index++;
      const args: Expression[] = [];
      while (!this.done() && this.tokens[this.index]!.kind !== 'close') args.push(this.operand());
      return call(head.word, args, head.at);
    }
    const value = this.operand();
    if (!this.done() && this.tokens[this.index]!.kind !== 'close') {
      throw new ConditionSyntaxError('a value cannot be called like a function; start with eq, ne, lt, le, gt, ge, and, or or not', this.position());
    }
    return value;
  }

  private operand(): Expression {
    const token = this.tokens[this.index++];
    if (!token) throw new ConditionSyntaxError('expected a value', this.actionAt);
    if (token.kind === 'operand') return token.value;
    if (token.kind === 'open') {
      const inner = this.command();
      const close = this.tokens[this.index++];
      if (!close) throw new ConditionSyntaxError('"(" is not closed', token.at);
      if (close.kind !== 'close') throw new ConditionSyntaxError('expected ")"', close.at);
      return inner;
    }
    if (token.kind === 'word') {
      if (this.done() || this.tokens[this.index]!.kind === 'close') return call(token.word, [], token.at);
      throw new ConditionSyntaxError(`function "${token.word}" as an argument needs parentheses: (${token.word} …)`, token.at);
    }
    throw new ConditionSyntaxError('unexpected ")"', token.at);
  }
}

function call(name: string, args: Expression[], at: number): Expression {
  const arity = (minimum: number, maximum = minimum) => {
    if (args.length < minimum || args.length > maximum) {
      const wanted = minimum === maximum ? `${minimum}` : maximum === Infinity ? `at least ${minimum}` : `${minimum} to ${maximum}`;
      throw new ConditionSyntaxError(`${name} takes ${wanted} argument${minimum === 1 && maximum === 1 ? '' : 's'}, got ${args.length}`, at);
    }
  };
  const operator = COMPARISONS[name];
  if (name === 'eq') {
    arity(2, Infinity);
    // Go's eq compares its first argument with each of the others: true if any is equal.
    return args.slice(1).map((other): Expression => ({ type: 'compare', operator: '==', left: args[0]!, right: other })).reduce((left, right) => ({ type: 'or', left, right }));
  }
  if (operator) {
    arity(2);
    return { type: 'compare', operator, left: args[0]!, right: args[1]! };
  }
  if (name === 'and' || name === 'or') {
    arity(1, Infinity);
    return args.reduce((left, right) => ({ type: name, left, right }));
  }
  if (name === 'not') {
    arity(1);
    return { type: 'not', operand: args[0]! };
  }
  if (name === 'if' || name === 'else' || name === 'end' || name === 'range' || name === 'with') {
    throw new ConditionSyntaxError(`{{ ${name} }} cannot stand here; a condition is {{ if … }}true{{ else }}false{{ end }} or {{ … }}`, at);
  }
  throw new ConditionSyntaxError(`"${name}" has no equivalent in Cairn's condition language (the translation knows ${SUPPORTED})`, at);
}
