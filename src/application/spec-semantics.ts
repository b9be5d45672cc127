/**
 * What the Application schema cannot say: component names unique, `dependsOn` naming components and free of
 * cycles, blueprint settings only on components that have a blueprint, one component per workload, JSON-patch
 * `move` rules that RFC 6902 forbids, and (when the caller knows the blueprints) that named blueprints exist
 * and take the component's workload kind. Works on whatever shape the document has: the schema reports shapes.
 */
import { didYouMean, type Diagnostic } from '../diagnostics.ts';
import { GROUP_ACTIONS } from './types.ts';
import { isJsonObject, type JsonObject } from '../json.ts';
import { formatPath, type PathSegment, type SourceDocument } from '../yaml-source.ts';

/** Blueprint name → its actions, each with the workload kinds it takes. */
export type KnownBlueprints = ReadonlyMap<string, { actions: Record<string, string[]>; options?: string[] }>;

interface ComponentView {
  index: number;
  name: string;
  value: JsonObject;
}

export function checkApplicationSemantics(value: JsonObject, document: SourceDocument, blueprints?: KnownBlueprints): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const report = (code: string, path: PathSegment[], message: string, hint?: string, severity: 'error' | 'warning' = 'error') => {
    const diagnostic: Diagnostic = { code, severity, message, file: document.file, ...document.positionOf(path), path: formatPath(path) };
    if (hint) diagnostic.hint = hint;
    diagnostics.push(diagnostic);
  };
  const spec = isJsonObject(value.spec) ? value.spec : {};
  const components = componentsOf(spec);

  const byName = new Map<string, ComponentView>();
  const byWorkload = new Map<string, ComponentView>();
  for (const component of components) {
    const at: PathSegment[] = ['spec', 'components', component.index];
    const first = byName.get(component.name);
    if (first) report('duplicate-component', [...at, 'name'], `component "${component.name}" is already declared at spec.components[${first.index}]`, 'component names must be unique');
    else byName.set(component.name, component);

    const workload = isJsonObject(component.value.workload) ? component.value.workload : undefined;
    if (workload && typeof workload.kind === 'string' && typeof workload.name === 'string') {
      const key = `${workload.kind}/${workload.name}`;
      const owner = byWorkload.get(key);
      if (owner) report('duplicate-workload', [...at, 'workload'], `${key} already belongs to component "${owner.name}"`, 'one component per workload: it would be backed up and restored twice');
      else byWorkload.set(key, component);
    }
    checkBlueprintSettings(component, at, report, blueprints);
  }

  for (const component of components) {
    const dependsOn = component.value.dependsOn;
    if (!Array.isArray(dependsOn)) continue;
    dependsOn.forEach((dependency, i) => {
      if (typeof dependency !== 'string') return;
      const path: PathSegment[] = ['spec', 'components', component.index, 'dependsOn', i];
      if (dependency === component.name) report('self-dependency', path, `component "${component.name}" depends on itself`, 'remove it from its own dependsOn');
      else if (!byName.has(dependency)) {
        const suggestion = didYouMean(dependency, byName.keys());
        report('unknown-dependency', path, `dependsOn names "${dependency}", which is not a component of this application`, suggestion ? `did you mean "${suggestion}"?` : `components: ${[...byName.keys()].join(', ')}`);
      }
    });
  }
  for (const cycle of dependencyCycles(byName)) {
    const start = byName.get(cycle[0]!)!;
    report('dependency-cycle', ['spec', 'components', start.index, 'dependsOn'], `dependency cycle: ${[...cycle, cycle[0]].join(' → ')}`, 'a restore could never start any of them: break the cycle');
  }
  if (spec.consistencyGroup === true) checkConsistencyGroup(components, report, blueprints);
  checkPatches(spec, report);
  checkResourceSelection(spec, report);
  return diagnostics;
}

/**
 * A consistency group backs up volumes cut together (blueprints/cairn-volume.yaml) between each blueprint's
 * quiesce and unquiesce actions, so every blueprint must have both, and a component's own strategy does not apply.
 */
function checkConsistencyGroup(components: ComponentView[], report: Report, blueprints: KnownBlueprints | undefined): void {
  const withData = components.filter((c) => typeof c.value.blueprint === 'string');
  if (!withData.length) {
    report('empty-group', ['spec', 'consistencyGroup'], 'no component has a blueprint: there is no data to cut together', 'remove consistencyGroup, or give the stateful components their blueprints', 'warning');
    return;
  }
  for (const component of withData) {
    const at: PathSegment[] = ['spec', 'components', component.index];
    const strategy = component.value.strategy;
    if (strategy !== undefined && strategy !== 'snapshot') {
      report('group-strategy', [...at, 'strategy'], `in a consistency group, component "${component.name}" is backed up as a volume cut with the others, not by strategy "${String(strategy)}"`, 'remove strategy (or write snapshot), or remove consistencyGroup');
    }
    const blueprint = blueprints?.get(component.value.blueprint as string);
    if (!blueprint) continue;
    const kind = isJsonObject(component.value.workload) ? component.value.workload.kind : undefined;
    for (const action of GROUP_ACTIONS) {
      const kinds = blueprint.actions[action];
      if (!kinds) report('group-action-missing', [...at, 'blueprint'], `blueprint "${component.value.blueprint as string}" has no ${action} action, which a consistency group runs on every component`, 'add quiesce and unquiesce actions to the blueprint (docs/consistency-groups.md), or remove consistencyGroup');
      else if (typeof kind === 'string' && !kinds.includes(kind)) report('group-action-missing', [...at, 'workload', 'kind'], `the ${action} action of blueprint "${component.value.blueprint as string}" takes ${kinds.join(', ')}, not ${kind}`);
    }
  }
}

type Report = (code: string, path: PathSegment[], message: string, hint?: string, severity?: 'error' | 'warning') => void;

function componentsOf(spec: JsonObject): ComponentView[] {
  if (!Array.isArray(spec.components)) return [];
  const views: ComponentView[] = [];
  spec.components.forEach((value, index) => {
    if (isJsonObject(value) && typeof value.name === 'string') views.push({ index, name: value.name, value });
  });
  return views;
}

function checkBlueprintSettings(component: ComponentView, at: PathSegment[], report: Report, blueprints: KnownBlueprints | undefined): void {
  const { value } = component;
  if (typeof value.blueprint !== 'string') {
    for (const field of ['strategy', 'options'] as const) {
      if (value[field] !== undefined) report('needs-blueprint', [...at, field], `${field} is given to the blueprint, but component "${component.name}" has none`, 'name a blueprint, or remove the field');
    }
    const readiness = isJsonObject(value.readiness) ? value.readiness : undefined;
    if (readiness?.validate === true) report('needs-blueprint', [...at, 'readiness', 'validate'], `readiness.validate runs the blueprint's validate action, but component "${component.name}" has no blueprint`, 'name a blueprint, or set validate: false');
    return;
  }
  if (!blueprints) return;
  const blueprint = blueprints.get(value.blueprint);
  if (!blueprint) {
    const suggestion = didYouMean(value.blueprint, blueprints.keys());
    report('unknown-blueprint', [...at, 'blueprint'], `no blueprint named "${value.blueprint}" among the known blueprints`, suggestion ? `did you mean "${suggestion}"?` : `known: ${[...blueprints.keys()].sort().join(', ') || 'none'} (add --blueprints <dir>)`);
    return;
  }
  const kind = isJsonObject(value.workload) ? value.workload.kind : undefined;
  const refusing: string[] = [];
  for (const action of ['backup', 'restore']) {
    const kinds = blueprint.actions[action];
    if (!kinds) report('blueprint-action-missing', [...at, 'blueprint'], `blueprint "${value.blueprint}" has no ${action} action`);
    else if ((kind === 'StatefulSet' || kind === 'Deployment') && !kinds.includes(kind)) refusing.push(`${action} takes ${kinds.join(', ')}`);
  }
  if (refusing.length) report('blueprint-kind', [...at, 'workload', 'kind'], `blueprint "${value.blueprint}" cannot act on a ${String(kind)}: its ${refusing.join(', ')}`);
  if (blueprint.options) {
    const read = blueprint.options;
    if (value.strategy !== undefined && !read.includes('strategy')) {
      report('unused-option', [...at, 'strategy'], `blueprint "${value.blueprint}" has no strategies (it never reads options.strategy)`, undefined, 'warning');
    }
    for (const key of Object.keys(isJsonObject(value.options) ? value.options : {})) {
      if (read.includes(key)) continue;
      const suggestion = didYouMean(key, read);
      report('unused-option', [...at, 'options', key], `blueprint "${value.blueprint}" never reads options.${key}`, suggestion ? `did you mean "${suggestion}"?` : read.length ? `it reads: ${read.join(', ')}` : 'it reads no options', 'warning');
    }
  }
  const readiness = isJsonObject(value.readiness) ? value.readiness : undefined;
  if (readiness?.validate === true && !blueprint.actions.validate) {
    report('blueprint-action-missing', [...at, 'readiness', 'validate'], `blueprint "${value.blueprint}" has no validate action`, 'set validate: false, or add a validate action to the blueprint');
  }
}

/** Every elementary cycle once, each starting at its first component in declaration order. */
function dependencyCycles(byName: Map<string, ComponentView>): string[][] {
  const order = [...byName.keys()];
  const edges = (name: string) => {
    const deps = byName.get(name)?.value.dependsOn;
    return Array.isArray(deps) ? deps.filter((d): d is string => typeof d === 'string' && d !== name && byName.has(d)) : [];
  };
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string) => {
    state.set(name, 'visiting');
    stack.push(name);
    for (const next of edges(name)) {
      if (state.get(next) === 'visiting') {
        const cycle = stack.slice(stack.indexOf(next));
        const rotated = rotateToFirst(cycle, order);
        const key = rotated.join('>');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push(rotated);
        }
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of order) if (!state.has(name)) visit(name);
  return cycles;
}

function rotateToFirst(cycle: string[], order: string[]): string[] {
  let start = 0;
  cycle.forEach((name, i) => {
    if (order.indexOf(name) < order.indexOf(cycle[start]!)) start = i;
  });
  return [...cycle.slice(start), ...cycle.slice(0, start)];
}

function checkPatches(spec: JsonObject, report: Report): void {
  const transforms = isJsonObject(spec.transforms) ? spec.transforms : undefined;
  if (!transforms || !Array.isArray(transforms.patches)) return;
  transforms.patches.forEach((rule, r) => {
    if (!isJsonObject(rule) || !Array.isArray(rule.operations)) return;
    rule.operations.forEach((operation, o) => {
      if (!isJsonObject(operation) || typeof operation.path !== 'string') return;
      const at: PathSegment[] = ['spec', 'transforms', 'patches', r, 'operations', o];
      if (operation.op === 'move' && typeof operation.from === 'string' && operation.path.startsWith(`${operation.from}/`)) {
        report('invalid-patch', [...at, 'from'], `cannot move ${operation.from} into its own child ${operation.path}`, 'RFC 6902: "from" must not be a prefix of "path"');
      }
      if ((operation.op === 'remove' || operation.op === 'replace') && operation.path === '') {
        report('invalid-patch', [...at, 'path'], `${operation.op} of the whole object ("") would ${operation.op === 'remove' ? 'delete' : 'replace'} it`, 'patch a field, such as /spec/replicas');
      }
      for (const field of ['value', 'from'] as const) {
        const allowed = field === 'value' ? ['add', 'replace', 'test'] : ['move', 'copy'];
        if (operation[field] !== undefined && typeof operation.op === 'string' && !allowed.includes(operation.op)) {
          report('invalid-patch', [...at, field], `"${field}" has no meaning for op "${operation.op}"`, `only ${allowed.join(', ')} take "${field}"`, 'warning');
        }
      }
    });
  });
}

function checkResourceSelection(spec: JsonObject, report: Report): void {
  const resources = isJsonObject(spec.resources) ? spec.resources : undefined;
  if (!resources) return;
  const include = Array.isArray(resources.includeKinds) ? resources.includeKinds : [];
  const exclude = Array.isArray(resources.excludeKinds) ? resources.excludeKinds : [];
  exclude.forEach((kind, i) => {
    if (include.includes(kind)) report('kind-both', ['spec', 'resources', 'excludeKinds', i], `${String(kind)} is both included and excluded`, 'excluded wins; remove one', 'warning');
  });
  if (typeof resources.labelSelector === 'string' && !isLabelSelector(resources.labelSelector)) {
    report('invalid-selector', ['spec', 'resources', 'labelSelector'], `"${resources.labelSelector}" is not a label selector`, 'e.g. app.kubernetes.io/part-of=shop,tier!=cache or env in (prod,staging)');
  }
}

const LABEL_KEY = '([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?';
const LABEL_VALUE = '([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?';
const REQUIREMENT = new RegExp(
  `^\\s*(!?${LABEL_KEY}|${LABEL_KEY}\\s*(=|==|!=)\\s*${LABEL_VALUE}|${LABEL_KEY}\\s+(in|notin)\\s*\\(\\s*${LABEL_VALUE}(\\s*,\\s*${LABEL_VALUE})*\\s*\\))\\s*$`,
);

/** Kubernetes' label selector grammar: requirements separated by commas (commas inside `( )` belong to sets). */
export function isLabelSelector(selector: string): boolean {
  if (selector.trim() === '') return true;
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of selector) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  return depth === 0 && parts.every((part) => REQUIREMENT.test(part));
}
