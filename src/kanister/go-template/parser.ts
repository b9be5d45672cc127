/**
 * Parses a Go text/template into the tree of `ast.ts`. Recursive descent over the lexer's pieces: control
 * actions (`if`, `range`, `with`, `else`, `end`) build the nesting, every other action holds a pipeline.
 * Throws `GoTemplateSyntaxError` with the offset of the offending token, the way Go's parser reports errors.
 */
import { GoTemplateSyntaxError, type ActionNode, type BranchNode, type Command, type Operand, type Pipeline, type TemplateNode } from './ast.ts';
import { lexTemplate, type Piece, type Token } from './lexer.ts';

const BODY_KEYWORDS = new Set(['define', 'block']);
const LEAF_KEYWORDS = new Set(['template', 'break', 'continue']);

export function parseGoTemplate(template: string): TemplateNode[] {
  const pieces = lexTemplate(template);
  const parser = new TreeParser(pieces);
  const { list, stop } = parser.parseList();
  if (stop) throw new GoTemplateSyntaxError(`unexpected {{${stop.keyword}}}`, stop.piece.offset);
  return list;
}

type ActionPiece = Extract<Piece, { kind: 'action' }>;

interface Stop {
  keyword: 'end' | 'else';
  piece: ActionPiece;
  /** Tokens after `else` (`if …`, `with …`), empty for a plain `{{else}}`. */
  rest: Token[];
}

class TreeParser {
  private index = 0;
  constructor(private readonly pieces: Piece[]) {}

  /** Parses nodes until `{{end}}`, `{{else …}}` or the end of input (then `stop` is undefined). */
  parseList(): { list: TemplateNode[]; stop?: Stop } {
    const list: TemplateNode[] = [];
    while (this.index < this.pieces.length) {
      const piece = this.pieces[this.index++]!;
      if (piece.kind === 'text') {
        list.push({ kind: 'text', text: piece.text, offset: piece.offset });
        continue;
      }
      if (piece.kind === 'comment') continue;
      const tokens = trimSpaces(piece.tokens);
      const first = tokens[0];
      if (!first) throw new GoTemplateSyntaxError('missing value for command', piece.offset);
      if (first.type === 'keyword') {
        const keyword = first.value;
        if (keyword === 'end' || keyword === 'else') {
          if (keyword === 'end' && tokens.length > 1) throw new GoTemplateSyntaxError('unexpected tokens after {{end}}', tokens[1]!.offset);
          return { list, stop: { keyword, piece, rest: trimSpaces(tokens.slice(1)) } };
        }
        if (keyword === 'if' || keyword === 'range' || keyword === 'with') {
          list.push(this.parseBranch(keyword, tokens.slice(1), piece));
          continue;
        }
        if (BODY_KEYWORDS.has(keyword)) {
          const body = this.parseList();
          if (body.stop?.keyword !== 'end') throw new GoTemplateSyntaxError(`unexpected EOF: {{${keyword}}} has no {{end}}`, piece.offset);
          list.push({ kind: 'unsupported', keyword, offset: piece.offset, source: piece.source });
          continue;
        }
        if (LEAF_KEYWORDS.has(keyword)) {
          list.push({ kind: 'unsupported', keyword, offset: piece.offset, source: piece.source });
          continue;
        }
      }
      const action: ActionNode = { kind: 'action', pipe: parsePipeline(tokens, piece.offset), offset: piece.offset, source: piece.source };
      list.push(action);
    }
    return { list };
  }

  private parseBranch(kind: BranchNode['kind'], pipeTokens: Token[], piece: ActionPiece, chained = false): BranchNode {
    if (trimSpaces(pipeTokens).length === 0) throw new GoTemplateSyntaxError(`missing value for ${kind}`, piece.offset);
    const pipe = parsePipeline(trimSpaces(pipeTokens), piece.offset);
    const node: BranchNode = { kind, pipe, list: [], offset: piece.offset, source: piece.source };
    if (chained) node.chained = true;
    const body = this.parseList();
    node.list = body.list;
    if (!body.stop) throw new GoTemplateSyntaxError(`unexpected EOF: {{${kind}}} has no {{end}}`, piece.offset);
    if (body.stop.keyword === 'end') return node;
    const elsePiece = body.stop.piece;
    const rest = body.stop.rest;
    if (rest.length === 0) {
      const elseBody = this.parseList();
      if (elseBody.stop?.keyword !== 'end') {
        throw new GoTemplateSyntaxError(elseBody.stop ? 'expected {{end}} after {{else}} branch' : `unexpected EOF: {{${kind}}} has no {{end}}`, elseBody.stop?.piece.offset ?? elsePiece.offset);
      }
      node.elseList = elseBody.list;
      return node;
    }
    const next = rest[0]!;
    if (next.type !== 'keyword' || (next.value !== 'if' && next.value !== 'with')) {
      throw new GoTemplateSyntaxError(`unexpected ${JSON.stringify(next.value)} after else`, next.offset);
    }
    // `{{else if …}}` opens a branch that shares the outer `{{end}}`, as in Go.
    node.elseList = [this.parseBranch(next.value, rest.slice(1), elsePiece, true)];
    return node;
  }
}

function trimSpaces(tokens: Token[]): Token[] {
  let start = 0;
  let end = tokens.length;
  while (start < end && tokens[start]!.type === 'space') start++;
  while (end > start && tokens[end - 1]!.type === 'space') end--;
  return tokens.slice(start, end);
}

/** Parses a whole pipeline from tokens (already trimmed of surrounding spaces). */
function parsePipeline(tokens: Token[], actionOffset: number): Pipeline {
  const cursor = new TokenCursor(tokens, actionOffset);
  const pipe = cursor.pipeline(false);
  if (!cursor.done()) throw new GoTemplateSyntaxError(`unexpected ${JSON.stringify(cursor.peek()!.value)} in operand`, cursor.peek()!.offset);
  return pipe;
}

class TokenCursor {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly actionOffset: number,
  ) {}

  done(): boolean {
    this.skipSpaces();
    return this.i >= this.tokens.length;
  }

  peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private skipSpaces(): void {
    while (this.tokens[this.i]?.type === 'space') this.i++;
  }

  /** `[decl :=] command (| command)*`; inside parentheses it stops at `)`. */
  pipeline(inParens: boolean): Pipeline {
    this.skipSpaces();
    const offset = this.tokens[this.i]?.offset ?? this.actionOffset;
    const pipe: Pipeline = { decl: [], assign: false, commands: [], offset };
    this.declarations(pipe);
    while (true) {
      this.skipSpaces();
      const token = this.tokens[this.i];
      if (!token || (inParens && token.type === 'rparen')) break;
      const command = this.command(inParens);
      if (command.args.length === 0) throw new GoTemplateSyntaxError('missing value for command', token.offset);
      pipe.commands.push(command);
      this.skipSpaces();
      if (this.tokens[this.i]?.type === 'pipe') {
        this.i++;
        this.skipSpaces();
        const after = this.tokens[this.i];
        if (!after || after.type === 'pipe' || (inParens && after.type === 'rparen')) throw new GoTemplateSyntaxError('missing command after |', after?.offset ?? token.offset);
        continue;
      }
      break;
    }
    if (pipe.commands.length === 0) throw new GoTemplateSyntaxError(pipe.decl.length ? 'missing value for declaration' : 'missing value for command', offset);
    return pipe;
  }

  private declarations(pipe: Pipeline): void {
    const start = this.i;
    const names: string[] = [];
    while (this.tokens[this.i]?.type === 'variable') {
      names.push(this.tokens[this.i]!.value);
      this.i++;
      this.skipSpaces();
      const next = this.tokens[this.i];
      if (next?.type === 'comma' && names.length === 1) {
        this.i++;
        this.skipSpaces();
        continue;
      }
      if (next?.type === 'declare' || next?.type === 'assign') {
        pipe.decl = names;
        pipe.assign = next.type === 'assign';
        this.i++;
        return;
      }
      break;
    }
    this.i = start;
  }

  private command(inParens: boolean): Command {
    this.skipSpaces();
    const command: Command = { args: [], offset: this.tokens[this.i]?.offset ?? this.actionOffset };
    while (true) {
      this.skipSpaces();
      const token = this.tokens[this.i];
      if (!token || token.type === 'pipe' || (inParens && token.type === 'rparen')) return command;
      command.args.push(this.operand());
      const next = this.tokens[this.i];
      if (next && next.type !== 'space' && next.type !== 'pipe' && next.type !== 'rparen') {
        throw new GoTemplateSyntaxError(`unexpected ${JSON.stringify(next.value)} in operand`, next.offset);
      }
    }
  }

  private operand(): Operand {
    const token = this.tokens[this.i++]!;
    const offset = token.offset;
    switch (token.type) {
      case 'dot':
        if (this.tokens[this.i]?.type === 'field') throw new GoTemplateSyntaxError('unexpected . after term', this.tokens[this.i]!.offset);
        return { kind: 'dot', offset };
      case 'field':
        return { kind: 'field', names: [token.value, ...this.fieldChain()], offset };
      case 'variable':
        return { kind: 'variable', name: token.value, fields: this.fieldChain(), offset };
      case 'identifier':
        if (token.value === 'true' || token.value === 'false') return { kind: 'bool', value: token.value === 'true', offset };
        if (token.value === 'nil') return { kind: 'nil', offset };
        if (this.tokens[this.i]?.type === 'field') throw new GoTemplateSyntaxError(`unexpected field after function ${token.value}`, this.tokens[this.i]!.offset);
        return { kind: 'identifier', name: token.value, offset };
      case 'string':
        return { kind: 'string', value: token.value, offset };
      case 'char': {
        const code = [...token.value][0]?.codePointAt(0);
        if (code === undefined || [...token.value].length !== 1) throw new GoTemplateSyntaxError(`malformed character constant: '${token.value}'`, offset);
        return { kind: 'number', value: code, text: String(code), offset };
      }
      case 'number':
        return { kind: 'number', value: parseGoNumber(token.value, offset), text: token.value, offset };
      case 'lparen': {
        const pipe = this.pipeline(true);
        this.skipSpaces();
        if (this.tokens[this.i]?.type !== 'rparen') throw new GoTemplateSyntaxError('unclosed left paren', offset);
        this.i++;
        return { kind: 'pipe', pipe, fields: this.fieldChain(), offset };
      }
      case 'keyword':
        throw new GoTemplateSyntaxError(`unexpected {{${token.value}}} inside an action`, offset);
      default:
        throw new GoTemplateSyntaxError(`unexpected ${JSON.stringify(token.value)} in operand`, offset);
    }
  }

  private fieldChain(): string[] {
    const names: string[] = [];
    while (this.tokens[this.i]?.type === 'field') names.push(this.tokens[this.i++]!.value);
    return names;
  }
}

function parseGoNumber(text: string, offset: number): number {
  const clean = text.replace(/_/g, '');
  const sign = clean.startsWith('-') ? -1 : 1;
  const body = clean.replace(/^[+-]/, '');
  let value: number;
  if (/^0[xX]/.test(body)) value = parseInt(body.slice(2), 16);
  else if (/^0[bB]/.test(body)) value = parseInt(body.slice(2), 2);
  else if (/^0[oO]/.test(body)) value = parseInt(body.slice(2), 8);
  else value = Number(body);
  if (!Number.isFinite(value)) throw new GoTemplateSyntaxError(`bad number syntax: ${JSON.stringify(text)}`, offset);
  return sign * value;
}
