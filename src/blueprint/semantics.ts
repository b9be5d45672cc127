/**
 * The checks a schema cannot express: function names and their args, unique phase names, dependencies and
 * cycles, templates (syntax, helpers) and what they reference (phases that run before, declared artifacts and
 * objects). Runs only on documents that passed the schema, so shapes can be trusted here.
 */
import { didYouMean, type Diagnostic } from '../diagnostics.ts';
import { parseDuration } from '../duration.ts';
import { functionCatalog, UNSUPPORTED_FUNCTIONS } from '../functions/catalog.ts';
import { conditionProblems, isGoTemplateConditionAt } from '../functions/wait-condition.ts';
import type { JsonValue } from '../json.ts';
import { CONTEXT_ROOTS } from '../template/context.ts';
import { analyzeTemplate, type TemplateReference } from '../template/references.ts';
import { KNOWN_HELPER_NAMES } from '../template/helpers.ts';
import { formatPath, type PathSegment, type SourceDocument } from '../yaml-source.ts';
import { CONDITION_ROOTS } from './conditions.ts';
import { checkAgainstSchema, validatorFor } from './schema-check.ts';
import { allBlocks, buildActionTree, findCycles, stepsBefore, type ActionTree, type PhaseNode } from './structure.ts';
import type { Blueprint, BlueprintAction, PhaseSpec } from './types.ts';

const PROFILE_FIELDS = new Set(['name', 'location']);
const LOCATION_FIELDS = new Set(['type', 'bucket', 'path', 'prefix', 'endpoint', 'region']);
const TARGET_FIELDS = new Set(['kind', 'namespace', 'name', 'pods', 'containers', 'pvcs', 'object']);

class Reporter {
  readonly diagnostics: Diagnostic[] = [];
  constructor(private readonly doc: SourceDocument) {}

  error(code: string, path: PathSegment[], message: string, hint?: string, lineOffset = 0): void {
    this.add('error', code, path, message, hint, lineOffset);
  }

  warn(code: string, path: PathSegment[], message: string, hint?: string): void {
    this.add('warning', code, path, message, hint, 0);
  }

  private add(severity: Diagnostic['severity'], code: string, path: PathSegment[], message: string, hint: string | undefined, lineOffset: number) {
    const position = this.doc.positionOf(path);
    const diagnostic: Diagnostic = {
      code,
      severity,
      message,
      file: this.doc.file,
      line: position.line + lineOffset,
      column: position.column,
      path: formatPath(path),
    };
    if (hint) diagnostic.hint = hint;
    this.diagnostics.push(diagnostic);
  }
}

export function checkSemantics(blueprint: Blueprint, doc: SourceDocument, sourceText: string): Diagnostic[] {
  const report = new Reporter(doc);
  for (const [actionName, action] of Object.entries(blueprint.actions)) {
    checkAction(actionName, action, ['actions', actionName], report, doc, sourceText);
  }
  if (blueprint.actions.backup && !blueprint.actions.restore) {
    report.warn('no-restore-action', ['actions', 'backup'], 'the blueprint has a backup action but no restore action', 'add a restore action so that its backups can be restored');
  }
  return report.diagnostics;
}

function checkAction(actionName: string, action: BlueprintAction, actionPath: PathSegment[], report: Reporter, doc: SourceDocument, sourceText: string): void {
  const tree = buildActionTree(action, actionPath);
  checkUniqueNames(tree, report);
  checkDependencies(tree, report);
  const inputArtifacts = new Set(action.inputArtifactNames ?? []);
  const stepFunctions = new Map<string, string>();
  for (const node of tree.all) if (node.kind !== 'group') stepFunctions.set(node.name, (node.spec as PhaseSpec).func);
  const groups = new Set(tree.all.filter((n) => n.kind === 'group').map((n) => n.name));
  const scope: Omit<ReferenceScope, 'before'> = { actionName, inputArtifacts, stepFunctions, groups, report, doc, sourceText };

  for (const node of tree.all) {
    if (node.spec.when !== undefined) checkCondition(node.spec.when, [...node.path, 'when'], scope);
    if (node.kind === 'group') continue;
    const phase = node.spec as PhaseSpec;
    if (node.kind === 'defer' && phase.dependsOn) {
      report.error('defer-depends-on', [...node.path, 'dependsOn'], `deferPhase "${phase.name}" cannot have dependsOn`, 'a defer phase always runs after every phase of its block');
    }
    checkFunction(node, phase, report, doc);
    checkTiming(node, phase, report);
    const before = stepsBefore(node);
    checkWaitConditions(node, phase, { ...scope, self: node, before });
    const argsPath = [...node.path, 'args'];
    walkStrings(phase.args ?? {}, argsPath, (text, path) => {
      // A Go-template wait condition is not a handlebars template; checkWaitConditions reports it with its fix.
      if (phase.func === 'WaitV2' && isGoTemplateConditionAt(phase.args ?? {}, path.slice(argsPath.length))) return;
      checkTemplate(text, path, { ...scope, self: node, before });
    });
    for (const [key, ref] of Object.entries(phase.objects ?? {})) {
      for (const field of ['name', 'namespace'] as const) {
        const value = ref[field];
        if (value !== undefined) checkTemplate(value, [...node.path, 'objects', key, field], { ...scope, self: node, before, inObjectReference: true });
      }
    }
  }

  const everything = new Set(stepFunctions.keys());
  for (const [artifactName, { when, ...artifact }] of Object.entries(action.outputArtifacts ?? {})) {
    const artifactPath = [...actionPath, 'outputArtifacts', artifactName];
    if (when !== undefined) checkCondition(when, [...artifactPath, 'when'], scope);
    walkStrings(artifact as unknown as JsonValue, artifactPath, (text, path) => checkTemplate(text, path, { ...scope, before: everything }));
  }
}

/** A `when` is decided before the run starts, so it may read the options and nothing else. */
function checkCondition(text: string, path: PathSegment[], scope: Omit<ReferenceScope, 'before'>): void {
  const analysis = analyzeTemplate(text);
  checkTemplate(text, path, { ...scope, before: new Set() });
  for (const reference of analysis.references) {
    if ((CONDITION_ROOTS as readonly string[]).includes(reference.parts[0]!)) continue;
    scope.report.error(
      'when-reference',
      path,
      `"${reference.parts.join('.')}": a when is decided when the plan is compiled, before anything runs, and can read only ${CONDITION_ROOTS.join(', ')}`,
      'move the decision into the phase (a script can test it), or make it an option',
      lineOffset({ ...scope, before: new Set() }, path, reference.line),
    );
  }
}

function checkUniqueNames(tree: ActionTree, report: Reporter): void {
  const first = new Map<string, PhaseNode>();
  for (const node of tree.all) {
    const earlier = first.get(node.name);
    if (earlier) {
      report.error('duplicate-phase', [...node.path, 'name'], `phase name "${node.name}" is already used at ${formatPath(earlier.path)}`, 'phase, group and defer names must be unique within an action');
    } else {
      first.set(node.name, node);
    }
  }
}

function checkDependencies(tree: ActionTree, report: Reporter): void {
  const everywhere = new Set(tree.all.map((n) => n.name));
  for (const block of allBlocks(tree)) {
    const siblings = new Set(block.nodes.map((n) => n.name));
    for (const node of block.nodes) {
      if (!node.explicitDependsOn) continue;
      node.dependsOn.forEach((name, index) => {
        const path = [...node.path, 'dependsOn', index];
        if (name === node.name) report.error('self-dependency', path, `phase "${node.name}" depends on itself`);
        else if (!siblings.has(name)) {
          if (everywhere.has(name)) {
            report.error('dependency-scope', path, `"${name}" is not in the same phase list as "${node.name}"`, 'dependsOn names phases of the same list; to wait for a phase inside a group, depend on the group');
          } else {
            const suggestion = didYouMean(name, siblings);
            report.error('unknown-dependency', path, `"${node.name}" depends on unknown phase "${name}"`, suggestion ? `did you mean "${suggestion}"?` : undefined);
          }
        }
      });
    }
    for (const cycle of findCycles(block)) {
      const node = block.nodes.find((n) => n.name === cycle[0])!;
      report.error('dependency-cycle', [...node.path, 'dependsOn'], `dependency cycle: ${cycle.join(' → ')}`, 'remove one of these dependsOn entries');
    }
  }
}

function checkFunction(node: PhaseNode, phase: PhaseSpec, report: Reporter, doc: SourceDocument): void {
  const funcPath = [...node.path, 'func'];
  const definition = functionCatalog().get(phase.func);
  if (!definition) {
    const unsupported = UNSUPPORTED_FUNCTIONS[phase.func];
    if (unsupported) {
      report.error('unsupported-function', funcPath, `function "${phase.func}" is not supported: ${unsupported}`);
      return;
    }
    const suggestion = didYouMean(phase.func, functionCatalog().keys());
    report.error('unknown-function', funcPath, `unknown function "${phase.func}"`, suggestion ? `did you mean "${suggestion}"?` : `known functions: ${[...functionCatalog().keys()].join(', ')}`);
    return;
  }
  const diagnostics = checkAgainstSchema(validatorFor(definition.argsSchema), phase.args ?? {}, doc, [...node.path, 'args'], `the args of ${phase.func}`);
  report.diagnostics.push(...diagnostics);
}

/** WaitV2's conditions are in Cairn's condition language: each must parse (src/functions/wait-condition.ts). */
function checkWaitConditions(node: PhaseNode, phase: PhaseSpec, scope: ReferenceScope): void {
  if (phase.func !== 'WaitV2') return;
  for (const problem of conditionProblems(phase.args ?? {})) {
    const path = [...node.path, 'args', ...problem.path];
    scope.report.error(problem.code, path, problem.message, problem.hint, lineOffset(scope, path, problem.line));
  }
}

function checkTiming(node: PhaseNode, phase: PhaseSpec, report: Reporter): void {
  if (phase.timeout !== undefined && !parseDuration(phase.timeout)) {
    report.error('invalid-timeout', [...node.path, 'timeout'], `timeout must be longer than zero, got "${phase.timeout}"`);
  }
  const retry = phase.retry;
  if (retry?.initialInterval && retry.maximumInterval) {
    const initial = parseDuration(retry.initialInterval) ?? 0;
    const maximum = parseDuration(retry.maximumInterval) ?? 0;
    if (maximum < initial) {
      report.error('invalid-retry', [...node.path, 'retry', 'maximumInterval'], `maximumInterval (${retry.maximumInterval}) is shorter than initialInterval (${retry.initialInterval})`);
    }
  }
}

interface ReferenceScope {
  actionName: string;
  inputArtifacts: Set<string>;
  /** Step (and defer) name → function. */
  stepFunctions: Map<string, string>;
  groups: Set<string>;
  report: Reporter;
  doc: SourceDocument;
  sourceText: string;
  /** The phase whose template this is; absent for output artifacts. */
  self?: PhaseNode;
  before: Set<string>;
  inObjectReference?: boolean;
}

function walkStrings(value: JsonValue, path: PathSegment[], visit: (text: string, path: PathSegment[]) => void): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) value.forEach((item, index) => walkStrings(item, [...path, index], visit));
  else if (value !== null && typeof value === 'object') for (const [key, item] of Object.entries(value)) walkStrings(item, [...path, key], visit);
}

function checkTemplate(text: string, path: PathSegment[], scope: ReferenceScope): void {
  const analysis = analyzeTemplate(text);
  const offsetOf = (templateLine: number | undefined) => lineOffset(scope, path, templateLine);
  for (const problem of analysis.problems) {
    if (problem.kind === 'unknown-helper') {
      const suggestion = didYouMean(problem.helper!, KNOWN_HELPER_NAMES);
      scope.report.error('unknown-helper', path, problem.message, suggestion ? `did you mean "${suggestion}"?` : `helpers: ${[...KNOWN_HELPER_NAMES].join(', ')}`, offsetOf(problem.line));
    } else {
      scope.report.error('template-syntax', path, `template syntax error: ${problem.message}`, undefined, offsetOf(problem.line));
    }
  }
  for (const reference of analysis.references) checkReference(reference, path, scope, offsetOf(reference.line));
}

/** Lines between the YAML value's start and the template line (block scalars start on the next line). */
function lineOffset(scope: ReferenceScope, path: PathSegment[], templateLine: number | undefined): number {
  if (templateLine === undefined || templateLine <= 1) return blockScalarShift(scope, path) && templateLine !== undefined ? 1 : 0;
  return templateLine - 1 + (blockScalarShift(scope, path) ? 1 : 0);
}

function blockScalarShift(scope: ReferenceScope, path: PathSegment[]): boolean {
  const { line, column } = scope.doc.positionOf(path);
  const sourceLine = scope.sourceText.split('\n')[line - 1] ?? '';
  return /^[|>][-+0-9]*\s*(#.*)?$/.test(sourceLine.slice(column - 1).trim());
}

function checkReference(reference: TemplateReference, path: PathSegment[], scope: ReferenceScope, offset: number): void {
  const [root, second, third, fourth] = reference.parts;
  const error = (code: string, message: string, hint?: string) => scope.report.error(code, path, message, hint, offset);
  const shown = reference.parts.join('.');
  if (!(CONTEXT_ROOTS as readonly string[]).includes(root!)) {
    const suggestion = didYouMean(root!, CONTEXT_ROOTS);
    error('unknown-reference', `"${shown}" does not exist in the template context`, suggestion ? `did you mean "${suggestion}"?` : `the context has ${CONTEXT_ROOTS.join(', ')}`);
    return;
  }
  if (root === 'Target' && second !== undefined && !TARGET_FIELDS.has(second)) {
    const suggestion = didYouMean(second, TARGET_FIELDS);
    error('unknown-reference', `"${shown}": Target has no field "${second}"`, suggestion ? `did you mean "Target.${suggestion}"?` : `Target has ${[...TARGET_FIELDS].join(', ')}`);
  } else if (root === 'Profile' && second !== undefined) {
    if (!PROFILE_FIELDS.has(second)) {
      error('unknown-reference', `"${shown}": Profile has only name and location`, 'credentials never reach templates; functions read them from the profile themselves');
    } else if (second === 'location' && third !== undefined && !LOCATION_FIELDS.has(third)) {
      error('unknown-reference', `"${shown}": Profile.location has no field "${third}"`, `Profile.location has ${[...LOCATION_FIELDS].join(', ')}`);
    }
  } else if (root === 'ArtifactsIn' && second !== undefined) {
    if (!scope.inputArtifacts.has(second)) {
      const suggestion = didYouMean(second, scope.inputArtifacts);
      error('unknown-artifact', `"${shown}": input artifact "${second}" is not declared in inputArtifactNames of action "${scope.actionName}"`, suggestion ? `did you mean "${suggestion}"?` : `add "${second}" to inputArtifactNames`);
    } else if (third !== undefined && third !== 'KeyValue' && third !== 'KopiaSnapshot') {
      error('unknown-reference', `"${shown}": an artifact has KeyValue and KopiaSnapshot`);
    }
  } else if (root === 'Phases' && second !== undefined) {
    checkPhaseReference(shown, second, third, fourth, scope, error);
  }
}

function checkPhaseReference(
  shown: string,
  phase: string,
  section: string | undefined,
  key: string | undefined,
  scope: ReferenceScope,
  error: (code: string, message: string, hint?: string) => void,
): void {
  if (scope.groups.has(phase)) {
    error('unknown-phase', `"${shown}": "${phase}" is a group, which has no outputs`, 'read the outputs of a phase inside the group');
    return;
  }
  const func = scope.stepFunctions.get(phase);
  if (func === undefined) {
    const suggestion = didYouMean(phase, scope.stepFunctions.keys());
    error('unknown-phase', `"${shown}": no phase "${phase}" in action "${scope.actionName}"`, suggestion ? `did you mean "${suggestion}"?` : undefined);
    return;
  }
  const isSelf = scope.self?.name === phase;
  if (section === 'Secrets' || section === 'ConfigMaps') {
    if (!isSelf) {
      error('foreign-objects', `"${shown}": a phase can read only its own ${section}`, `declare the object under objects of phase "${scope.self?.name ?? '…'}"`);
      return;
    }
    if (scope.inObjectReference) {
      error('foreign-objects', `"${shown}": an object reference cannot read the objects it resolves`);
      return;
    }
    const objects = (scope.self!.spec as PhaseSpec).objects ?? {};
    const kind = section === 'Secrets' ? 'Secret' : 'ConfigMap';
    if (key !== undefined) {
      const declared = objects[key];
      if (!declared) {
        const suggestion = didYouMean(key, Object.keys(objects));
        error('unknown-object', `"${shown}": phase "${phase}" declares no object "${key}"`, suggestion ? `did you mean "${suggestion}"?` : `add it under objects with kind: ${kind}`);
      } else if (declared.kind !== kind) {
        error('unknown-object', `"${shown}": object "${key}" is a ${declared.kind}; read it as Phases.${phase}.${declared.kind === 'Secret' ? 'Secrets' : 'ConfigMaps'}.${key}`);
      }
    }
    return;
  }
  if (section === 'Output') {
    if (isSelf) {
      error('output-not-available', `"${shown}": a phase cannot read its own outputs`);
      return;
    }
    if (!scope.before.has(phase)) {
      error('output-not-available', `"${shown}": phase "${phase}" does not run before ${scope.self ? `"${scope.self.name}"` : 'this point'}`, `make "${scope.self?.name ?? ''}" depend on "${phase}" (dependsOn), or move it after`);
      return;
    }
    const outputs = functionCatalog().get(func)?.outputs;
    if (key !== undefined && Array.isArray(outputs) && !outputs.includes(key)) {
      const suggestion = didYouMean(key, outputs);
      error('unknown-output', `"${shown}": ${func} has no output "${key}"`, suggestion ? `did you mean "${suggestion}"?` : outputs.length ? `${func} outputs ${outputs.join(', ')}` : `${func} has no outputs`);
    }
    return;
  }
  if (section !== undefined) error('unknown-reference', `"${shown}": a phase has Output, Secrets and ConfigMaps`);
}
