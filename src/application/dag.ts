/**
 * A bounded-concurrency dependency scheduler: runs every node once its dependencies have succeeded, at most
 * `concurrency` at a time. Pure and deterministic (no clocks, no I/O, ties broken by a fixed order), so the
 * application workflows run it inside Temporal workflow code and the RTO bench runs the very same scheduler.
 *
 * Which ready node starts first matters when the bound bites: a node with the longest chain of work behind it
 * (its "bottom level") goes first, the classic critical-path list-scheduling rule, so the long tier-1 chains
 * are never queued behind short leaves.
 */

export interface DagNode {
  name: string;
  dependsOn?: string[];
}

/** Problems of a graph (duplicate names, unknown dependencies, cycles), each a sentence; empty when it is sound. */
export function checkDag(nodes: readonly DagNode[]): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const node of nodes) {
    if (names.has(node.name)) problems.push(`"${node.name}" is declared twice`);
    names.add(node.name);
  }
  for (const node of nodes) {
    for (const dependency of node.dependsOn ?? []) {
      if (dependency === node.name) problems.push(`"${node.name}" depends on itself`);
      else if (!names.has(dependency)) problems.push(`"${node.name}" depends on "${dependency}", which is not a component`);
    }
  }
  if (problems.length) return problems;
  const cycle = findCycle(nodes);
  if (cycle) problems.push(`dependency cycle: ${cycle.join(' → ')}`);
  return problems;
}

function findCycle(nodes: readonly DagNode[]): string[] | undefined {
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const dependency of byName.get(name)?.dependsOn ?? []) {
      const found = visit(dependency);
      if (found) return found;
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const node of nodes) {
    const found = visit(node.name);
    if (found) return found;
  }
  return undefined;
}

function assertSound(nodes: readonly DagNode[]): void {
  const problems = checkDag(nodes);
  if (problems.length) throw new Error(`invalid dependencies: ${problems.join('; ')}`);
}

/**
 * Each node's bottom level: its own weight plus the heaviest chain of dependents after it. With unit weights,
 * the number of nodes on the longest chain that starts with it.
 */
export function bottomLevels(nodes: readonly DagNode[], weight: (name: string) => number = () => 1): Map<string, number> {
  assertSound(nodes);
  const dependents = dependentsOf(nodes);
  const levels = new Map<string, number>();
  const level = (name: string): number => {
    const known = levels.get(name);
    if (known !== undefined) return known;
    const after = Math.max(0, ...(dependents.get(name) ?? []).map(level));
    const value = weight(name) + after;
    levels.set(name, value);
    return value;
  };
  for (const node of nodes) level(node.name);
  return levels;
}

function dependentsOf(nodes: readonly DagNode[]): Map<string, string[]> {
  const dependents = new Map<string, string[]>(nodes.map((node) => [node.name, []]));
  for (const node of nodes) for (const dependency of node.dependsOn ?? []) dependents.get(dependency)!.push(node.name);
  return dependents;
}

/** Ready nodes in start order: highest bottom level first, then declaration order. */
function priorityOrder(nodes: readonly DagNode[], weight?: (name: string) => number): string[] {
  const levels = bottomLevels(nodes, weight);
  const declared = new Map(nodes.map((node, index) => [node.name, index]));
  return nodes.map((node) => node.name).sort((a, b) => levels.get(b)! - levels.get(a)! || declared.get(a)! - declared.get(b)!);
}

/** Dependencies before dependents; among equals, the scheduler's start order. */
export function topologicalOrder(nodes: readonly DagNode[]): string[] {
  const order = priorityOrder(nodes);
  const done = new Set<string>();
  const result: string[] = [];
  const byName = new Map(nodes.map((node) => [node.name, node]));
  while (result.length < nodes.length) {
    const next = order.find((name) => !done.has(name) && (byName.get(name)!.dependsOn ?? []).every((d) => done.has(d)))!;
    done.add(next);
    result.push(next);
  }
  return result;
}

export interface RunDagOptions {
  /** At most this many nodes run at once (≥ 1). */
  concurrency: number;
  /** Expected duration of a node, to order ready nodes by their remaining chain of work (default: 1 each). */
  weight?: (name: string) => number;
  /** `false`: ignore dependencies (only for demonstrating why they matter). Default true. */
  ordered?: boolean;
}

export interface DagOutcome<T> {
  results: Map<string, T>;
  /** The first failure, by the order failures happened; the nodes that never started because of it. */
  failure?: { name: string; error: unknown };
  notStarted: string[];
  /** Names in the order they started. */
  started: string[];
}

/**
 * Runs `run(name)` for every node, each after its dependencies succeeded, at most `concurrency` at once. After
 * a failure no new node starts; the running ones are awaited (the caller cancels them through its own scope
 * when it wants to), and the outcome says what failed and what never started.
 */
export async function runDag<T>(nodes: readonly DagNode[], options: RunDagOptions, run: (name: string) => Promise<T>): Promise<DagOutcome<T>> {
  const ordered = options.ordered ?? true;
  const graph: readonly DagNode[] = ordered ? nodes : nodes.map((node) => ({ name: node.name }));
  const order = priorityOrder(graph, options.weight);
  const concurrency = Math.max(1, Math.floor(options.concurrency));
  const byName = new Map(graph.map((node) => [node.name, node]));
  const succeeded = new Set<string>();
  const started: string[] = [];
  const results = new Map<string, T>();
  let failure: DagOutcome<T>['failure'];
  let running = 0;

  return new Promise<DagOutcome<T>>((resolveOutcome) => {
    const finish = () => resolveOutcome({ results, ...(failure ? { failure } : {}), notStarted: order.filter((name) => !started.includes(name)), started });
    const pump = (): void => {
      if (failure === undefined) {
        for (const name of order) {
          if (running >= concurrency) break;
          if (started.includes(name) || !(byName.get(name)!.dependsOn ?? []).every((d) => succeeded.has(d))) continue;
          started.push(name);
          running += 1;
          // run() is called synchronously here, in a fixed order: workflow replay sees the same commands.
          run(name).then(
            (value) => {
              results.set(name, value);
              succeeded.add(name);
              running -= 1;
              pump();
            },
            (error: unknown) => {
              failure ??= { name, error };
              running -= 1;
              pump();
            },
          );
        }
      }
      if (running === 0) finish();
    };
    pump();
  });
}

export interface SimulatedSchedule {
  /** Time from the first start to the last end. */
  makespan: number;
  starts: Map<string, number>;
}

/** What runDag would do with these exact durations (no overhead): the ideal schedule under the bound. */
export function simulateSchedule(nodes: readonly DagNode[], durations: (name: string) => number, concurrency: number): SimulatedSchedule {
  const order = priorityOrder(nodes, durations);
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const ends = new Map<string, number>();
  const starts = new Map<string, number>();
  const running: { name: string; end: number }[] = [];
  let now = 0;
  while (starts.size < nodes.length) {
    for (const name of order) {
      if (running.length >= concurrency) break;
      if (starts.has(name) || !(byName.get(name)!.dependsOn ?? []).every((d) => ends.has(d) && ends.get(d)! <= now)) continue;
      starts.set(name, now);
      running.push({ name, end: now + durations(name) });
    }
    running.sort((a, b) => a.end - b.end);
    const next = running.shift();
    if (!next) throw new Error('no node can start: the graph has a cycle');
    now = next.end;
    ends.set(next.name, next.end);
    while (running.length && running[0]!.end === now) ends.set(running.shift()!.name, now);
  }
  // The last nodes started are still running when the loop ends.
  for (const last of running) ends.set(last.name, last.end);
  return { makespan: Math.max(0, ...ends.values()), starts };
}

/** The longest chain of durations through the graph: no schedule, however parallel, is shorter. */
export function criticalPath(nodes: readonly DagNode[], durations: (name: string) => number): number {
  return Math.max(0, ...bottomLevels(nodes, durations).values());
}
