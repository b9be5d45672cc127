/**
 * The syntax tree of a Go text/template, as far as Kanister blueprints use it. It mirrors the node kinds of
 * Go's `text/template/parse` package so a reader who knows Go's templates finds the same shapes here.
 * Offsets are 0-based positions in the template string; the importer turns them into file:line:column.
 */

export interface TextNode {
  kind: 'text';
  /** Text after Go's trim markers (`{{-`, `-}}`) have been applied. */
  text: string;
  offset: number;
}

/** `{{ pipeline }}`: prints the pipeline's value unless it only declares variables. */
export interface ActionNode {
  kind: 'action';
  pipe: Pipeline;
  offset: number;
  /** The action's source, `{{ … }}` included: what error messages quote. */
  source: string;
}

/** `{{if}}`, `{{range}}` and `{{with}}`: a pipeline, a body and an optional else branch. */
export interface BranchNode {
  kind: 'if' | 'range' | 'with';
  pipe: Pipeline;
  list: TemplateNode[];
  /** The `{{else}}` branch; an `{{else if …}}` chain is a single nested branch with `chained` set. */
  elseList?: TemplateNode[];
  chained?: boolean;
  offset: number;
  source: string;
}

/** A construct the importer recognises but cannot express (`define`, `template`, `break`, …). */
export interface UnsupportedNode {
  kind: 'unsupported';
  keyword: string;
  offset: number;
  source: string;
}

export type TemplateNode = TextNode | ActionNode | BranchNode | UnsupportedNode;

export interface Pipeline {
  /** Variables declared (`$x := …`) or assigned (`$x = …`) by the pipeline. */
  decl: string[];
  assign: boolean;
  commands: Command[];
  offset: number;
}

/** One stage of a pipeline: a function call with arguments, or a single operand. */
export interface Command {
  args: Operand[];
  offset: number;
}

export type Operand =
  | { kind: 'dot'; offset: number }
  /** `.A.B` from the current dot. */
  | { kind: 'field'; names: string[]; offset: number }
  /** `$` or `$x`, with an optional field chain `$x.A.B`. */
  | { kind: 'variable'; name: string; fields: string[]; offset: number }
  /** A function name such as `index` or `toString`. */
  | { kind: 'identifier'; name: string; offset: number }
  | { kind: 'string'; value: string; offset: number }
  | { kind: 'number'; value: number; text: string; offset: number }
  | { kind: 'bool'; value: boolean; offset: number }
  | { kind: 'nil'; offset: number }
  /** `( pipeline )`, with an optional field chain `(…).A`. */
  | { kind: 'pipe'; pipe: Pipeline; fields: string[]; offset: number };

export class GoTemplateSyntaxError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = 'GoTemplateSyntaxError';
    this.offset = offset;
  }
}
