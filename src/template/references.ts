/**
 * Static reading of templates: syntax errors, helpers that do not exist, and the context paths a template
 * reads. The compiler checks templates with this; it never renders them (that happens at run time).
 */
import Handlebars from 'handlebars';
import { KNOWN_HELPER_NAMES } from './helpers.ts';

export interface TemplateReference {
  /** Path segments from the context root, e.g. `['Phases', 'dump', 'Output', 'snapshotID']`. */
  parts: string[];
  /** 1-based line and 0-based column inside the template. */
  line: number;
  column: number;
}

export interface TemplateProblem {
  kind: 'syntax' | 'unknown-helper';
  message: string;
  helper?: string;
  line?: number;
}

export interface TemplateAnalysis {
  references: TemplateReference[];
  problems: TemplateProblem[];
}

type HbsNode = hbs.AST.Node;

export function analyzeTemplate(template: string): TemplateAnalysis {
  const analysis: TemplateAnalysis = { references: [], problems: [] };
  if (!template.includes('{{')) return analysis;
  let program: hbs.AST.Program;
  try {
    program = Handlebars.parse(template);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const line = /on line (\d+)/.exec(message)?.[1];
    const problem: TemplateProblem = { kind: 'syntax', message: message.split('\n').filter((l) => !/^-*\^$/.test(l.trim())).join(' ').replace(/\s+/g, ' ') };
    if (line) problem.line = Number(line);
    analysis.problems.push(problem);
    return analysis;
  }
  walkProgram(program, analysis, 0);
  return analysis;
}

function walkProgram(program: hbs.AST.Program | undefined, analysis: TemplateAnalysis, scopeDepth: number): void {
  if (!program) return;
  for (const statement of program.body) walkNode(statement, analysis, scopeDepth);
}

function walkNode(node: HbsNode, analysis: TemplateAnalysis, scopeDepth: number): void {
  switch (node.type) {
    case 'MustacheStatement':
    case 'SubExpression': {
      const call = node as hbs.AST.MustacheStatement | hbs.AST.SubExpression;
      const isCall = call.params.length > 0 || (call.hash?.pairs.length ?? 0) > 0 || node.type === 'SubExpression';
      if (isCall) checkHelper(call.path, analysis);
      else if (call.path.type === 'PathExpression') {
        const path = call.path as hbs.AST.PathExpression;
        // `{{toJson}}`-style bare helper use: handlebars treats a known helper name as a call.
        if (!(path.parts.length === 1 && KNOWN_HELPER_NAMES.has(path.parts[0]!))) addReference(path, analysis, scopeDepth);
      }
      if (call.path.type === 'SubExpression') walkNode(call.path, analysis, scopeDepth);
      walkParams(call.params, call.hash, analysis, scopeDepth);
      return;
    }
    case 'BlockStatement': {
      const block = node as hbs.AST.BlockStatement;
      checkHelper(block.path, analysis);
      walkParams(block.params, block.hash, analysis, scopeDepth);
      const name = block.path.type === 'PathExpression' ? (block.path as hbs.AST.PathExpression).original : '';
      // Inside each/with the context changes; paths there are relative to an element we cannot know.
      const inner = name === 'each' || name === 'with' ? scopeDepth + 1 : scopeDepth;
      walkProgram(block.program, analysis, inner);
      walkProgram(block.inverse, analysis, scopeDepth);
      return;
    }
    case 'PartialStatement':
    case 'PartialBlockStatement':
    case 'DecoratorBlock':
    case 'Decorator':
      analysis.problems.push({ kind: 'syntax', message: 'partials and decorators are not available in Cairn templates', line: node.loc.start.line });
      return;
    default:
      return;
  }
}

function walkParams(params: hbs.AST.Expression[], hash: hbs.AST.Hash | undefined, analysis: TemplateAnalysis, scopeDepth: number): void {
  for (const param of [...params, ...(hash?.pairs.map((pair) => pair.value) ?? [])]) {
    if (param.type === 'PathExpression') addReference(param as hbs.AST.PathExpression, analysis, scopeDepth);
    else if (param.type === 'SubExpression') walkNode(param, analysis, scopeDepth);
  }
}

function checkHelper(path: hbs.AST.PathExpression | hbs.AST.Literal, analysis: TemplateAnalysis): void {
  if (path.type !== 'PathExpression') return;
  const name = (path as hbs.AST.PathExpression).original;
  if (!KNOWN_HELPER_NAMES.has(name)) {
    analysis.problems.push({ kind: 'unknown-helper', message: `unknown helper "${name}"`, helper: name, line: path.loc.start.line });
  }
}

function addReference(path: hbs.AST.PathExpression, analysis: TemplateAnalysis, scopeDepth: number): void {
  if (path.data) {
    // @root.X reads the context from any depth; other @-variables (@index, @key) are loop data.
    if (path.parts[0] === 'root' && path.parts.length > 1) push(path.parts.slice(1), path, analysis);
    return;
  }
  if (scopeDepth > 0 || path.depth > 0 || path.parts.length === 0 || path.original === 'this') return;
  push(path.parts, path, analysis);
}

function push(parts: string[], path: hbs.AST.PathExpression, analysis: TemplateAnalysis): void {
  analysis.references.push({ parts: [...parts], line: path.loc.start.line, column: path.loc.start.column });
}
