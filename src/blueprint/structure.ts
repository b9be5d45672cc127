/**
 * The phase tree of one action, with names, JSON paths and resolved dependencies: shared by the semantic
 * checks and the compiler so both read the ordering rules from one place.
 *
 * Ordering: a phase without `dependsOn` depends on the entry listed before it; a phase with `dependsOn`
 * depends on exactly those siblings. A group ends when its phases and then its own defer phase have ended.
 */
import type { BlueprintAction, PhaseEntry, PhaseGroupSpec, PhaseSpec } from './types.ts';
import { isPhaseGroup } from './types.ts';
import type { PathSegment } from '../yaml-source.ts';

export interface PhaseNode {
  name: string;
  kind: 'step' | 'group' | 'defer';
  spec: PhaseSpec | PhaseGroupSpec;
  path: PathSegment[];
  /** The block this node belongs to. */
  block: PhaseBlock;
  /** Sibling names this node waits for: explicit `dependsOn`, or the previous entry. */
  dependsOn: string[];
  explicitDependsOn: boolean;
  /** For groups: their own block. */
  inner?: PhaseBlock;
}

export interface PhaseBlock {
  nodes: PhaseNode[];
  defer?: PhaseNode;
  /** The group that owns this block; undefined for the action's top level. */
  owner?: PhaseNode;
}

export interface ActionTree {
  root: PhaseBlock;
  /** Every node (steps, groups, defers) in document order. */
  all: PhaseNode[];
}

export function buildActionTree(action: BlueprintAction, actionPath: PathSegment[]): ActionTree {
  const all: PhaseNode[] = [];
  const root = buildBlock(action.phases ?? [], action.deferPhase, [...actionPath, 'phases'], [...actionPath, 'deferPhase'], undefined, all);
  return { root, all };
}

function buildBlock(
  entries: PhaseEntry[],
  deferSpec: PhaseSpec | undefined,
  entriesPath: PathSegment[],
  deferPath: PathSegment[],
  owner: PhaseNode | undefined,
  all: PhaseNode[],
): PhaseBlock {
  const block: PhaseBlock = { nodes: [] };
  if (owner) block.owner = owner;
  entries.forEach((entry, index) => {
    const explicit = Array.isArray(entry.dependsOn);
    const previous = block.nodes[index - 1];
    const node: PhaseNode = {
      name: entry.name,
      kind: isPhaseGroup(entry) ? 'group' : 'step',
      spec: entry,
      path: [...entriesPath, index],
      block,
      dependsOn: explicit ? [...entry.dependsOn!] : previous ? [previous.name] : [],
      explicitDependsOn: explicit,
    };
    block.nodes.push(node);
    all.push(node);
    if (isPhaseGroup(entry)) {
      node.inner = buildBlock(entry.phases ?? [], entry.deferPhase, [...node.path, 'phases'], [...node.path, 'deferPhase'], node, all);
    }
  });
  if (deferSpec) {
    const defer: PhaseNode = {
      name: deferSpec.name,
      kind: 'defer',
      spec: deferSpec,
      path: deferPath,
      block,
      dependsOn: [],
      explicitDependsOn: false,
    };
    block.defer = defer;
    all.push(defer);
  }
  return block;
}

/** Names of the steps (defer phases included) inside a node: itself, or everything in its group. */
export function stepsWithin(node: PhaseNode): string[] {
  if (node.kind !== 'group') return [node.name];
  const inner = node.inner!;
  return [...inner.nodes.flatMap(stepsWithin), ...(inner.defer ? [inner.defer.name] : [])];
}

/** Siblings a node waits for, directly or transitively (cycles tolerated; they are reported elsewhere). */
export function siblingClosure(node: PhaseNode): PhaseNode[] {
  const byName = new Map(node.block.nodes.map((n) => [n.name, n]));
  const seen = new Set<string>();
  const stack = [...node.dependsOn];
  const result: PhaseNode[] = [];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name) || name === node.name) continue;
    seen.add(name);
    const sibling = byName.get(name);
    if (!sibling) continue;
    result.push(sibling);
    stack.push(...sibling.dependsOn);
  }
  return result;
}

/**
 * Steps that have ended before `node` starts. For a defer phase these are the steps of its block, which have
 * ended but may have failed, so their outputs can be missing (templates use `default` for that).
 */
export function stepsBefore(node: PhaseNode): Set<string> {
  const before = new Set<string>();
  const owner = node.block.owner;
  if (owner) for (const name of stepsBefore(owner)) before.add(name);
  const predecessors = node.kind === 'defer' ? node.block.nodes : siblingClosure(node);
  for (const sibling of predecessors) for (const name of stepsWithin(sibling)) before.add(name);
  return before;
}

/** Each dependency cycle among siblings, as the list of names around it. */
export function findCycles(block: PhaseBlock): string[][] {
  // First occurrence only: a duplicated name is reported as such, not as a cycle through its twin.
  const byName = new Map<string, PhaseNode>();
  for (const node of block.nodes) if (!byName.has(node.name)) byName.set(node.name, node);
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[][] = [];
  const stack: string[] = [];
  const visit = (name: string) => {
    state.set(name, 'visiting');
    stack.push(name);
    for (const next of byName.get(name)?.dependsOn ?? []) {
      if (!byName.has(next)) continue;
      if (state.get(next) === 'visiting') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of byName.keys()) if (!state.has(name)) visit(name);
  return cycles;
}

export function allBlocks(tree: ActionTree): PhaseBlock[] {
  return [tree.root, ...tree.all.filter((n) => n.inner).map((n) => n.inner!)];
}
