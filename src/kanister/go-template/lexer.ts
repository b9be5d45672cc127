/**
 * Splits a Go text/template into text and actions, and an action into tokens. Follows Go's lexer where it
 * matters for the result: trim markers (`{{- ` and ` -}}`) remove the adjacent whitespace, a comment action
 * (slash-star … star-slash) prints nothing, and spaces separate arguments (so `$x.A` is a chain, `$x .A` two operands).
 */
import { GoTemplateSyntaxError } from './ast.ts';

export type TokenType =
  | 'space'
  | 'declare' // :=
  | 'assign' // =
  | 'pipe' // |
  | 'lparen'
  | 'rparen'
  | 'comma'
  | 'string'
  | 'number'
  | 'char'
  | 'dot' // .
  | 'field' // .Name
  | 'variable' // $ or $name
  | 'identifier'
  | 'keyword';

export interface Token {
  type: TokenType;
  /** Source text, except for strings and chars, whose value is decoded. */
  value: string;
  offset: number;
}

export type Piece =
  | { kind: 'text'; text: string; offset: number }
  | { kind: 'action'; tokens: Token[]; offset: number; source: string }
  | { kind: 'comment'; offset: number };

export const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);

const TRIM_SPACE = /[ \t\r\n]/;

export function lexTemplate(template: string): Piece[] {
  const pieces: Piece[] = [];
  let position = 0;
  let trimNextText = false;
  while (position <= template.length) {
    const open = template.indexOf('{{', position);
    const textEnd = open === -1 ? template.length : open;
    let text = template.slice(position, textEnd);
    let textOffset = position;
    if (trimNextText) {
      const trimmed = text.replace(/^[ \t\r\n]+/, '');
      textOffset += text.length - trimmed.length;
      text = trimmed;
    }
    if (open === -1) {
      if (text !== '') pieces.push({ kind: 'text', text, offset: textOffset });
      break;
    }
    const trimLeft = template[open + 2] === '-' && TRIM_SPACE.test(template[open + 3] ?? '');
    if (trimLeft) text = text.replace(/[ \t\r\n]+$/, '');
    if (text !== '') pieces.push({ kind: 'text', text, offset: textOffset });
    const inner = open + 2 + (trimLeft ? 2 : 0);
    const { tokens, close, comment } = lexAction(template, inner, open);
    const trimRight = template[close - 1] === '-' && TRIM_SPACE.test(template[close - 2] ?? '');
    const source = template.slice(open, close + 2);
    if (comment) pieces.push({ kind: 'comment', offset: open });
    else pieces.push({ kind: 'action', tokens, offset: open, source });
    trimNextText = trimRight;
    position = close + 2;
  }
  return pieces;
}

/** Lexes from `start` (just inside `{{`) to the closing `}}`; `close` is the index of that `}}`. */
function lexAction(template: string, start: number, open: number): { tokens: Token[]; close: number; comment: boolean } {
  const tokens: Token[] = [];
  let i = start;
  const skipSpaces = () => {
    while (i < template.length && TRIM_SPACE.test(template[i]!)) i++;
  };
  if (template.startsWith('/*', skipAhead(template, start))) {
    const commentStart = skipAhead(template, start);
    const end = template.indexOf('*/', commentStart + 2);
    if (end === -1) throw new GoTemplateSyntaxError('unclosed comment', open);
    i = end + 2;
    skipSpaces();
    if (template[i] === '-' && template.startsWith('}}', i + 1)) i++;
    if (!template.startsWith('}}', i)) throw new GoTemplateSyntaxError('comment ends before closing delimiter', open);
    return { tokens, close: i, comment: true };
  }
  while (true) {
    if (i >= template.length) throw new GoTemplateSyntaxError('unclosed action', open);
    const c = template[i]!;
    if (template.startsWith('}}', i)) return { tokens, close: i, comment: false };
    if (c === '-' && template.startsWith('}}', i + 1) && TRIM_SPACE.test(template[i - 1] ?? '')) {
      i++;
      continue;
    }
    if (TRIM_SPACE.test(c)) {
      const from = i;
      skipSpaces();
      tokens.push({ type: 'space', value: ' ', offset: from });
      continue;
    }
    const offset = i;
    if (template.startsWith(':=', i)) {
      tokens.push({ type: 'declare', value: ':=', offset });
      i += 2;
    } else if (c === '=') {
      tokens.push({ type: 'assign', value: '=', offset });
      i++;
    } else if (c === '|') {
      tokens.push({ type: 'pipe', value: '|', offset });
      i++;
    } else if (c === '(') {
      tokens.push({ type: 'lparen', value: '(', offset });
      i++;
    } else if (c === ')') {
      tokens.push({ type: 'rparen', value: ')', offset });
      i++;
    } else if (c === ',') {
      tokens.push({ type: 'comma', value: ',', offset });
      i++;
    } else if (c === '"') {
      const { value, end } = readQuoted(template, i);
      tokens.push({ type: 'string', value, offset });
      i = end;
    } else if (c === '`') {
      const end = template.indexOf('`', i + 1);
      if (end === -1) throw new GoTemplateSyntaxError('unterminated raw quoted string', offset);
      tokens.push({ type: 'string', value: template.slice(i + 1, end), offset });
      i = end + 1;
    } else if (c === "'") {
      const end = template.indexOf("'", i + 1);
      if (end === -1) throw new GoTemplateSyntaxError('unterminated character constant', offset);
      tokens.push({ type: 'char', value: template.slice(i + 1, end), offset });
      i = end + 1;
    } else if (c === '.' && /[A-Za-z_]/.test(template[i + 1] ?? '')) {
      const match = /^\.[A-Za-z_][A-Za-z0-9_]*/.exec(template.slice(i))!;
      tokens.push({ type: 'field', value: match[0].slice(1), offset });
      i += match[0].length;
    } else if (c === '.' && !/[0-9]/.test(template[i + 1] ?? '')) {
      tokens.push({ type: 'dot', value: '.', offset });
      i++;
    } else if (c === '$') {
      const match = /^\$[A-Za-z0-9_]*/.exec(template.slice(i))!;
      tokens.push({ type: 'variable', value: match[0], offset });
      i += match[0].length;
    } else if (/[0-9+\-.]/.test(c)) {
      const match = /^[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(\d[\d_]*)?\.?\d*([eE][+-]?\d+)?)/.exec(template.slice(i));
      const text = match?.[0] ?? '';
      if (text === '' || text === '+' || text === '-' || /[A-Za-z_]/.test(template[i + text.length] ?? '')) {
        throw new GoTemplateSyntaxError(`bad number syntax: ${JSON.stringify(template.slice(i, i + Math.max(1, text.length + 1)))}`, offset);
      }
      tokens.push({ type: 'number', value: text, offset });
      i += text.length;
    } else if (/[A-Za-z_]/.test(c)) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(template.slice(i))!;
      const word = match[0];
      tokens.push({ type: KEYWORDS.has(word) ? 'keyword' : 'identifier', value: word, offset });
      i += word.length;
    } else {
      throw new GoTemplateSyntaxError(`unexpected ${JSON.stringify(c)} in action`, offset);
    }
  }
}

function skipAhead(template: string, start: number): number {
  let i = start;
  while (i < template.length && TRIM_SPACE.test(template[i]!)) i++;
  return i;
}

const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", a: '\x07', b: '\b', f: '\f', v: '\v' };

/** A Go interpreted string literal, decoded. */
function readQuoted(template: string, start: number): { value: string; end: number } {
  let value = '';
  let i = start + 1;
  while (true) {
    const c = template[i];
    if (c === undefined || c === '\n') throw new GoTemplateSyntaxError('unterminated quoted string', start);
    if (c === '"') return { value, end: i + 1 };
    if (c === '\\') {
      const next = template[i + 1] ?? '';
      if (next in SIMPLE_ESCAPES) {
        value += SIMPLE_ESCAPES[next];
        i += 2;
        continue;
      }
      const hex = next === 'x' ? 2 : next === 'u' ? 4 : next === 'U' ? 8 : 0;
      if (hex > 0 && /^[0-9a-fA-F]+$/.test(template.slice(i + 2, i + 2 + hex)) && template.slice(i + 2, i + 2 + hex).length === hex) {
        value += String.fromCodePoint(parseInt(template.slice(i + 2, i + 2 + hex), 16));
        i += 2 + hex;
        continue;
      }
      if (/^[0-7]{3}$/.test(template.slice(i + 1, i + 4))) {
        value += String.fromCharCode(parseInt(template.slice(i + 1, i + 4), 8));
        i += 4;
        continue;
      }
      throw new GoTemplateSyntaxError(`unknown escape sequence \\${next}`, i);
    }
    value += c;
    i++;
  }
}
