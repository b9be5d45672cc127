/**
 * Go text/template (as Kanister renders it, with sprig) → a Cairn handlebars template of the same meaning.
 *
 * - fields and `index` go through `template-params.ts` (Kanister's parameters → Cairn's context)
 * - pipelines become nested calls: `x | f a` is `f a x`, as Go evaluates it
 * - `if`/`else if`/`else` become `{{#if}}…{{else if}}…{{/if}}`; `range` and `with` become `{{#each}}` and
 *   `{{#with}}` with block parameters (`as |pod i|`) standing for Go's variables and dot, and context paths
 *   inside them are written `@root.…` because handlebars moves its context to the element
 * - `$x := …` binds `$x` to its translated expression, substituted where it is read (templates are pure, so
 *   that is the same value); re-assigning (`$x = …`) cannot be expressed and is reported
 * Whitespace trimming (`{{-`, `-}}`) is applied here, so the output needs no handlebars `~`.
 */
import { CONTEXT_ROOTS } from '../template/context.ts';
import { KNOWN_HELPER_NAMES } from '../template/helpers.ts';
import { GoTemplateSyntaxError, type ActionNode, type BranchNode, type Operand, type Pipeline, type TemplateNode } from './go-template/ast.ts';
import { parseGoTemplate } from './go-template/parser.ts';
import { MOUNT_PATH_PROBLEM, translateCall } from './go-functions.ts';
import { call, literal, literalProblem, renderExpr, shapeOf, withShape, type HbsExpr, type Shape } from './handlebars-expr.ts';
import { resolveParam, type Problem, type TemplateSite } from './template-params.ts';

export interface TemplateProblem extends Problem {
  /** 0-based offset in the template of the construct at fault. */
  offset: number;
  /** The Go source quoted in the message: the action, or the text at a syntax error. */
  construct: string;
  /** Offset of `construct` in the template. */
  constructOffset: number;
}

export interface Translation {
  text: string;
  problems: TemplateProblem[];
}

export function translateGoTemplate(template: string, site: TemplateSite): Translation {
  if (!template.includes('{{')) return { text: template, problems: [] };
  let tree: TemplateNode[];
  try {
    tree = parseGoTemplate(template);
  } catch (error) {
    if (!(error instanceof GoTemplateSyntaxError)) throw error;
    const end = template.indexOf('}}', error.offset);
    const construct = template.slice(error.offset, end === -1 ? Math.min(template.length, error.offset + 40) : end + 2);
    return { text: template, problems: [{ code: 'go-template-syntax', message: `template syntax error: ${error.message}`, offset: error.offset, construct, constructOffset: error.offset }] };
  }
  const translator = new Translator(site);
  translator.list(tree, { vars: new Map(), dot: 'root', depth: 0, params: new Set() });
  return { text: translator.output(), problems: translator.problems };
}

type Binding = { expr: HbsExpr } | { unavailable: Problem } | { failed: true };

interface Scope {
  vars: Map<string, Binding>;
  parent?: Scope;
  /** Go's dot: the template parameters at top level, the element inside range/with. */
  dot: Binding | 'root';
  /** each/with bodies around this point. */
  depth: number;
  /** Block parameter names taken by enclosing blocks. */
  params: Set<string>;
}

const RESERVED_NAMES = new Set<string>([...CONTEXT_ROOTS, ...KNOWN_HELPER_NAMES, 'this', 'root', 'true', 'false', 'null', 'undefined', 'else']);

const HELPER_OF: Record<BranchNode['kind'], string> = { if: 'if', range: 'each', with: 'with' };

class Translator {
  readonly problems: TemplateProblem[] = [];
  private readonly out: string[] = [];
  /** Indexes in `out` of block tags (`{{#…}}`, `{{else…}}`, `{{/…}}`). */
  private readonly blockTags = new Set<number>();
  /** The action being translated: where problems point and what they quote. */
  private current: { offset: number; source: string } = { offset: 0, source: '' };

  constructor(private readonly site: TemplateSite) {}

  /**
   * The handlebars text. Handlebars drops the line of a block tag that stands alone on it (only whitespace
   * before it on its line and after it up to the newline); Go keeps that line. An empty comment before such a
   * tag keeps it from standing alone, so the rendered text keeps Go's lines.
   */
  output(): string {
    const pieces: string[] = [];
    this.out.forEach((piece, index) => {
      if (this.blockTags.has(index) && this.standsAlone(index)) pieces.push('{{!}}');
      pieces.push(piece);
    });
    return pieces.join('');
  }

  private standsAlone(index: number): boolean {
    let before = '';
    let reachedStart = true;
    for (let i = index - 1; i >= 0; i--) {
      if (this.out[i]!.startsWith('{{')) {
        reachedStart = false;
        break;
      }
      before = this.out[i]! + before;
    }
    const alone = reachedStart ? /(^|\n)[^\S\n]*$/ : /\n[^\S\n]*$/;
    const after = this.out[index + 1];
    return alone.test(before) && (after === undefined || (!after.startsWith('{{') && /^[^\S\n]*(\r?\n|$)/.test(after)));
  }

  list(nodes: TemplateNode[], scope: Scope): void {
    for (const node of nodes) {
      switch (node.kind) {
        case 'text':
          this.out.push(node.text);
          break;
        case 'action':
          this.action(node, scope);
          break;
        case 'if':
        case 'range':
        case 'with':
          this.branch(node, scope, undefined);
          break;
        case 'unsupported':
          this.current = node;
          this.report(node.offset, {
            code: 'unsupported-template-construct',
            message: node.keyword === 'break' || node.keyword === 'continue' ? `{{${node.keyword}}} cannot be expressed: handlebars loops run to the end` : `{{${node.keyword}}}: named templates cannot be expressed in Cairn templates`,
          });
          break;
      }
    }
  }

  /** Emits a handlebars tag; a text ending in `\` before it would escape it, so that backslash is doubled. */
  private tag(text: string): number {
    if (this.out.length > 0 && this.out[this.out.length - 1]!.endsWith('\\')) this.out.push('\\');
    this.out.push(text);
    return this.out.length - 1;
  }

  /** Emits a block tag (`{{#…}}`, `{{else…}}`, `{{/…}}`); see `output` for why they are remembered. */
  private blockTag(text: string): number {
    const index = this.tag(text);
    this.blockTags.add(index);
    return index;
  }

  private report(offset: number, problem: Problem): void {
    this.problems.push({ ...problem, offset, construct: this.current.source, constructOffset: this.current.offset });
  }

  private action(node: ActionNode, scope: Scope): void {
    this.current = node;
    const pipe = node.pipe;
    if (pipe.decl.length > 0) {
      if (pipe.assign) {
        this.report(pipe.offset, { code: 'variable-assignment', message: `assigning ${pipe.decl.join(', ')} cannot be expressed: handlebars has no variables`, hint: 'compute the value in one expression, or with if/else' });
        for (const name of pipe.decl) this.lookup(name, scope, pipe.offset, true);
        return;
      }
      if (pipe.decl.length > 1) {
        this.report(pipe.offset, { code: 'go-template-syntax', message: 'too many declarations in command' });
        return;
      }
      const expr = this.pipeline(pipe, scope);
      scope.vars.set(pipe.decl[0]!, expr ? { expr } : { failed: true });
      return;
    }
    const [only] = pipe.commands;
    if (pipe.commands.length === 1 && only?.args.length === 1 && only.args[0]!.kind === 'string' && !only.args[0]!.value.includes('{{')) {
      // A printed string is text: it needs no handlebars literal (which some strings have not).
      this.out.push(only.args[0]!.value);
      return;
    }
    const expr = this.pipeline(pipe, scope);
    if (!expr) return;
    if (expr.kind === 'literal' && !(typeof expr.value === 'string' && expr.value.includes('{{'))) {
      this.out.push(expr.value === null ? '<no value>' : String(expr.value));
      return;
    }
    this.tag(`{{${renderExpr(expr.kind === 'literal' ? { kind: 'call', helper: 'concat', args: [expr] } : expr, scope.depth, false)}}}`);
  }

  /**
   * `{{if}}`, `{{range}}`, `{{with}}`. `chainOf` is the helper of the block an `{{else if}}`/`{{else with}}`
   * continues: the chained branch opens with `{{else …}}` and the outermost block closes the chain.
   */
  private branch(node: BranchNode, scope: Scope, chainOf: string | undefined): void {
    this.current = node;
    const helper = HELPER_OF[node.kind];
    const open = (text: string) => (chainOf ? `{{else ${helper} ${text}}}` : `{{#${helper} ${text}}}`);
    const outer: Scope = { vars: new Map(), parent: scope, dot: scope.dot, depth: scope.depth, params: scope.params };
    if (node.kind === 'if') {
      const condition = this.condition(node.pipe, outer);
      this.blockTag(open(condition));
      this.list(node.list, child(outer, outer.dot, outer.depth));
    } else {
      const declared = node.pipe.decl;
      const pipe: Pipeline = { ...node.pipe, decl: [], assign: false };
      if (node.pipe.assign) this.report(node.pipe.offset, { code: 'variable-assignment', message: `assigning ${declared.join(', ')} cannot be expressed: handlebars has no variables` });
      if (node.kind === 'with' && declared.length > 1) this.report(node.pipe.offset, { code: 'go-template-syntax', message: 'too many declarations in with' });
      const subject = this.pipeline(pipe, outer);
      const params = new Set(scope.params);
      const body = child(outer, { failed: true }, outer.depth + 1, params);
      const elementVar = node.kind === 'range' ? (declared.length === 2 ? declared[1] : declared[0]) : declared[0];
      const keyVar = node.kind === 'range' && declared.length === 2 ? declared[0] : undefined;
      // Over one pod's PVCs, Kanister's key (the PVC name) is Cairn's element: name the parameter after it.
      const pvcNames = subject !== undefined && shapeOf(subject) === 'pvcsOfPod';
      const element = this.param((pvcNames ? keyVar : elementVar) ?? '$item', params);
      const key = this.param(keyVar ?? '$key', params);
      if (subject) this.bindBlock(node, subject, body, { elementVar, keyVar, element, key });
      const header = this.blockTag('');
      const firstOnly = node.kind === 'range' ? endsWithBreak(node.list) : undefined;
      if (firstOnly) {
        // `{{ range … }}…{{ break }}{{ end }}` runs its body for the first element only.
        this.blockTag('{{#if @first}}');
        this.list(firstOnly, child(body, body.dot, body.depth));
        this.blockTag('{{/if}}');
      } else {
        this.list(node.list, body);
      }
      const names = key.used ? [element.name, key.name] : element.used ? [element.name] : [];
      const subjectText = subject ? renderExpr(subject, scope.depth, true) : 'this';
      this.out[header] = open(`${subjectText}${names.length ? ` as |${names.join(' ')}|` : ''}`);
    }
    if (node.elseList) {
      const [first] = node.elseList;
      if (node.elseList.length === 1 && first && first.kind !== 'text' && first.kind !== 'action' && first.kind !== 'unsupported' && first.chained) {
        this.branch(first, outer, chainOf ?? helper);
      } else {
        this.blockTag('{{else}}');
        this.list(node.elseList, child(outer, outer.dot, outer.depth));
      }
    }
    if (!chainOf) this.blockTag(`{{/${helper}}}`);
  }

  /** Binds dot and Go's variables inside a range/with body to the block parameters. */
  private bindBlock(node: BranchNode, subject: HbsExpr, body: Scope, names: { elementVar?: string; keyVar?: string; element: BlockParam; key: BlockParam }): void {
    const shape = shapeOf(subject);
    const param = (p: BlockParam, paramShape: Shape): Binding => ({ expr: { kind: 'path', base: 'param', segments: [p.name], shape: paramShape, use: () => (p.used = true) } });
    let element: Binding;
    let key: Binding = param(names.key, 'value');
    if (node.kind === 'with') {
      element = param(names.element, shape);
    } else if (shape === 'pvcMap') {
      element = param(names.element, 'pvcsOfPod');
    } else if (shape === 'pvcsOfPod') {
      // Kanister ranges over PVC name → mount path; Cairn's list holds the names only.
      key = param(names.element, 'value');
      element = { unavailable: MOUNT_PATH_PROBLEM };
    } else if (shape === 'containersByIndex') {
      this.report(node.pipe.offset, { code: 'unsupported-template-construct', message: 'ranging over Containers cannot be translated: Kanister lists them by pod position, Cairn by pod name', hint: 'range over Target.pods and index Target.containers with the pod' });
      element = { failed: true };
    } else if (shape === 'bytes') {
      this.report(node.pipe.offset, { code: 'unsupported-template-construct', message: 'cannot range over a Secret value' });
      element = { failed: true };
    } else {
      element = param(names.element, shape === 'secretData' ? 'bytes' : 'value');
    }
    if (subject.kind === 'literal') {
      this.report(node.pipe.offset, { code: 'unsupported-template-construct', message: `cannot ${node.kind} over the literal ${JSON.stringify(subject.value)}` });
    }
    body.dot = element;
    if (names.elementVar) body.vars.set(names.elementVar, element);
    if (names.keyVar) body.vars.set(names.keyVar, key);
  }

  private param(goName: string, taken: Set<string>): BlockParam {
    const base = goName.replace(/^\$/, '').replace(/[^A-Za-z0-9_]/g, '') || 'item';
    let name = /^[A-Za-z_]/.test(base) ? base : `v${base}`;
    for (let n = 2; RESERVED_NAMES.has(name) || taken.has(name); n++) name = `${base}${n}`;
    taken.add(name);
    return { name, used: false };
  }

  private condition(pipe: Pipeline, scope: Scope): string {
    if (pipe.assign) this.report(pipe.offset, { code: 'variable-assignment', message: `assigning ${pipe.decl.join(', ')} cannot be expressed: handlebars has no variables` });
    const expr = this.pipeline({ ...pipe, decl: [], assign: false }, scope);
    if (pipe.decl.length === 1 && !pipe.assign) scope.vars.set(pipe.decl[0]!, expr ? { expr } : { failed: true });
    return expr ? renderExpr(expr, scope.depth, true) : 'false';
  }

  private pipeline(pipe: Pipeline, scope: Scope): HbsExpr | undefined {
    let value: HbsExpr | undefined;
    for (const [index, command] of pipe.commands.entries()) {
      const [first, ...rest] = command.args;
      if (!first) return undefined;
      const piped = index > 0 ? value : undefined;
      if (first.kind === 'identifier') {
        const args: HbsExpr[] = [];
        for (const operand of rest) {
          const arg = this.operand(operand, scope);
          if (!arg) return undefined;
          args.push(arg);
        }
        if (piped) args.push(piped);
        const result = translateCall(first.name, args);
        if ('problem' in result) {
          this.report(first.offset, result.problem);
          return undefined;
        }
        value = result.expr;
        continue;
      }
      if (rest.length > 0 || piped) {
        this.report(first.offset, { code: 'go-template-syntax', message: `can't give argument to non-function ${describe(first)}` });
        return undefined;
      }
      value = this.operand(first, scope);
      if (!value) return undefined;
    }
    return value;
  }

  private operand(operand: Operand, scope: Scope): HbsExpr | undefined {
    switch (operand.kind) {
      case 'dot':
        if (scope.dot === 'root') return this.fail(operand.offset, { code: 'unsupported-template-field', message: '.: the whole template context cannot be used' });
        return this.bound(scope.dot, operand.offset);
      case 'field':
        if (scope.dot === 'root') return this.resolved(resolveParam(operand.names, this.site), operand.offset);
        return this.chain(this.bound(scope.dot, operand.offset), operand.names, operand.offset);
      case 'variable': {
        if (operand.name === '$') {
          if (operand.fields.length === 0) return this.fail(operand.offset, { code: 'unsupported-template-field', message: '$: the whole template context cannot be used' });
          return this.resolved(resolveParam(operand.fields, this.site), operand.offset);
        }
        const binding = this.lookup(operand.name, scope, operand.offset, false);
        return binding ? this.chain(this.bound(binding, operand.offset), operand.fields, operand.offset) : undefined;
      }
      case 'identifier': {
        const result = translateCall(operand.name, []);
        return 'problem' in result ? this.fail(operand.offset, result.problem) : result.expr;
      }
      case 'string': {
        const problem = literalProblem(operand.value);
        return problem ? this.fail(operand.offset, { code: 'unsupported-template-construct', message: problem }) : literal(operand.value);
      }
      case 'number': {
        const problem = literalProblem(operand.value);
        return problem ? this.fail(operand.offset, { code: 'unsupported-template-construct', message: problem }) : literal(operand.value);
      }
      case 'bool':
        return literal(operand.value);
      case 'nil':
        return literal(null);
      case 'pipe': {
        const inner = this.pipeline(operand.pipe, scope);
        return inner ? this.chain(inner, operand.fields, operand.offset) : undefined;
      }
    }
  }

  private lookup(name: string, scope: Scope, offset: number, quiet: boolean): Binding | undefined {
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      const binding = s.vars.get(name);
      if (binding) return binding;
    }
    if (!quiet) this.report(offset, { code: 'go-template-syntax', message: `undefined variable "${name}"` });
    return undefined;
  }

  private bound(binding: Binding, offset: number): HbsExpr | undefined {
    if ('expr' in binding) return binding.expr;
    if ('unavailable' in binding) return this.fail(offset, binding.unavailable);
    return undefined;
  }

  /**
   * `x.A.B` on a value that is not the root: a path grows; a function result, which handlebars cannot walk
   * with dots, is indexed: `(index .L 0).a.b` → `index L 0 "a" "b"`.
   */
  private chain(expr: HbsExpr | undefined, fields: string[], offset: number): HbsExpr | undefined {
    if (!expr || fields.length === 0) return expr;
    const shape = shapeOf(expr);
    if (expr.kind === 'path' && shape === 'value') return { ...expr, segments: [...expr.segments, ...fields] };
    if (expr.kind === 'path' && (shape === 'secretData' || shape === 'configMapData') && fields.length === 1) {
      return withShape({ ...expr, segments: [...expr.segments, fields[0]!] }, shape === 'secretData' ? 'bytes' : 'value');
    }
    if (expr.kind === 'call' && shape === 'value') {
      const keys = fields.map((field) => literal(field));
      return expr.helper === 'index' ? { ...expr, args: [...expr.args, ...keys] } : call('index', expr, ...keys);
    }
    return this.fail(offset, {
      code: 'unsupported-template-construct',
      message: `field access .${fields.join('.')} on this value cannot be translated`,
      hint: 'index the value instead, e.g. index (…) "key"',
    });
  }

  private resolved(result: ReturnType<typeof resolveParam>, offset: number): HbsExpr | undefined {
    return 'problem' in result ? this.fail(offset, result.problem) : result.expr;
  }

  private fail(offset: number, problem: Problem): undefined {
    this.report(offset, problem);
    return undefined;
  }
}

interface BlockParam {
  name: string;
  used: boolean;
}

/** The body before a `{{break}}` that ends it unconditionally (text after it never prints); else undefined. */
function endsWithBreak(list: TemplateNode[]): TemplateNode[] | undefined {
  const index = list.findIndex((node) => node.kind === 'unsupported' && node.keyword === 'break');
  if (index === -1 || list.slice(index + 1).some((node) => node.kind !== 'text')) return undefined;
  return list.slice(0, index);
}

function child(scope: Scope, dot: Scope['dot'], depth: number, params: Set<string> = scope.params): Scope {
  return { vars: new Map(), parent: scope, dot, depth, params };
}

function describe(operand: Operand): string {
  switch (operand.kind) {
    case 'field':
      return `.${operand.names.join('.')}`;
    case 'variable':
      return [operand.name, ...operand.fields].join('.');
    case 'string':
      return JSON.stringify(operand.value);
    case 'number':
      return operand.text;
    default:
      return operand.kind;
  }
}
