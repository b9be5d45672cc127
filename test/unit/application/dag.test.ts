import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bottomLevels, checkDag, criticalPath, runDag, simulateSchedule, topologicalOrder, type DagNode } from '../../../src/application/dag.ts';

const THREE_TIER: DagNode[] = [
  { name: 'worker', dependsOn: ['postgres'] },
  { name: 'api', dependsOn: ['postgres'] },
  { name: 'postgres' },
];

/** A controllable run(): each call waits until the test resolves or rejects it. */
function manualRun() {
  const pending = new Map<string, { resolve: (value: string) => void; reject: (error: Error) => void }>();
  const calls: string[] = [];
  const run = (name: string) => new Promise<string>((resolve, reject) => {
    calls.push(name);
    pending.set(name, { resolve, reject });
  });
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  return {
    run,
    calls,
    running: () => [...pending.keys()],
    async finish(name: string) {
      pending.get(name)!.resolve(`restored ${name}`);
      pending.delete(name);
      await tick();
    },
    async fail(name: string) {
      pending.get(name)!.reject(new Error(`${name} broke`));
      pending.delete(name);
      await tick();
    },
  };
}

describe('checkDag', () => {
  it('accepts a sound graph', () => assert.deepEqual(checkDag(THREE_TIER), []));
  it('names unknown dependencies, self-dependencies and duplicates', () => {
    assert.deepEqual(checkDag([{ name: 'a', dependsOn: ['b', 'a'] }, { name: 'a' }]), [
      '"a" is declared twice',
      '"a" depends on "b", which is not a component',
      '"a" depends on itself',
    ]);
  });
  it('names a cycle with its path', () => {
    assert.deepEqual(checkDag([{ name: 'a', dependsOn: ['c'] }, { name: 'b', dependsOn: ['a'] }, { name: 'c', dependsOn: ['b'] }]), ['dependency cycle: a → c → b → a']);
  });
});

describe('order', () => {
  it('puts dependencies first and the longest chains first among equals', () => {
    const nodes: DagNode[] = [{ name: 'leaf' }, { name: 'db' }, { name: 'api', dependsOn: ['db'] }, { name: 'web', dependsOn: ['api'] }];
    assert.deepEqual(topologicalOrder(nodes), ['db', 'api', 'leaf', 'web']);
    assert.deepEqual(Object.fromEntries(bottomLevels(nodes)), { leaf: 1, db: 3, api: 2, web: 1 });
  });
  it('throws on a cycle instead of scheduling it', () => {
    assert.throws(() => topologicalOrder([{ name: 'a', dependsOn: ['b'] }, { name: 'b', dependsOn: ['a'] }]), /dependency cycle: a → b → a/);
  });
});

describe('runDag', () => {
  it('starts dependents only after their dependency succeeded, and independent ones together', async () => {
    const m = manualRun();
    const outcome = runDag(THREE_TIER, { concurrency: 9 }, m.run);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(m.running(), ['postgres']);
    await m.finish('postgres');
    assert.deepEqual(m.running().sort(), ['api', 'worker']);
    await m.finish('api');
    await m.finish('worker');
    const result = await outcome;
    assert.deepEqual(result.started, ['postgres', 'worker', 'api']);
    assert.equal(result.results.get('api'), 'restored api');
    assert.equal(result.failure, undefined);
    assert.deepEqual(result.notStarted, []);
  });

  it('never runs more than the bound at once', async () => {
    const nodes = Array.from({ length: 7 }, (_, i) => ({ name: `c${i}` }));
    let now = 0;
    let peak = 0;
    const outcome = await runDag(nodes, { concurrency: 3 }, async (name) => {
      now += 1;
      peak = Math.max(peak, now);
      await new Promise((resolve) => setTimeout(resolve, 5));
      now -= 1;
      return name;
    });
    assert.equal(peak, 3);
    assert.equal(outcome.results.size, 7);
  });

  it('after a failure starts nothing new, waits for the running ones and says what never started', async () => {
    const m = manualRun();
    const nodes: DagNode[] = [{ name: 'db' }, { name: 'cache' }, { name: 'api', dependsOn: ['db', 'cache'] }, { name: 'batch' }];
    const outcome = runDag(nodes, { concurrency: 2 }, m.run);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(m.running(), ['db', 'cache']);
    await m.fail('db');
    assert.deepEqual(m.running(), ['cache'], 'batch must not start after the failure');
    await m.finish('cache');
    const result = await outcome;
    assert.equal(result.failure?.name, 'db');
    assert.match(String(result.failure?.error), /db broke/);
    assert.deepEqual(result.notStarted.sort(), ['api', 'batch']);
  });

  it('ordered: false ignores dependencies (what a flat, Velero-like restore does)', async () => {
    const m = manualRun();
    const outcome = runDag(THREE_TIER, { concurrency: 9, ordered: false }, m.run);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(m.running().sort(), ['api', 'postgres', 'worker']);
    for (const name of ['api', 'worker', 'postgres']) await m.finish(name);
    assert.equal((await outcome).results.size, 3);
  });

  it('gives the same start order on every run (replay needs it)', async () => {
    const nodes: DagNode[] = [{ name: 'z' }, { name: 'a' }, { name: 'm', dependsOn: ['z'] }, { name: 'b', dependsOn: ['a'] }];
    const first = await runDag(nodes, { concurrency: 1 }, async (name) => name);
    const second = await runDag(nodes, { concurrency: 1 }, async (name) => name);
    assert.deepEqual(first.started, ['z', 'a', 'm', 'b']);
    assert.deepEqual(second.started, first.started);
  });
});

describe('schedules', () => {
  const durations: Record<string, number> = { db: 10, api: 5, worker: 2, web: 3, batch: 4 };
  const nodes: DagNode[] = [{ name: 'batch' }, { name: 'db' }, { name: 'api', dependsOn: ['db'] }, { name: 'worker', dependsOn: ['db'] }, { name: 'web', dependsOn: ['api'] }];
  it('critical path is the heaviest chain', () => assert.equal(criticalPath(nodes, (n) => durations[n]!), 18));
  it('an unbounded schedule meets the critical path', () => assert.equal(simulateSchedule(nodes, (n) => durations[n]!, 9).makespan, 18));
  it('with one slot the schedule is the serial sum', () => assert.equal(simulateSchedule(nodes, (n) => durations[n]!, 1).makespan, 24));
  it('never beats the critical path, whatever the bound (the last nodes to start count too)', () => {
    const wide: DagNode[] = [{ name: 'a' }, { name: 'b' }, { name: 'c', dependsOn: ['a'] }, { name: 'd', dependsOn: ['b'] }];
    const d: Record<string, number> = { a: 8, b: 6, c: 6, d: 2 };
    for (const bound of [1, 2, 9]) assert.ok(simulateSchedule(wide, (n) => d[n]!, bound).makespan >= criticalPath(wide, (n) => d[n]!));
    assert.equal(simulateSchedule(wide, (n) => d[n]!, 9).makespan, 14);
  });
  it('with two slots the long chain goes first and the short work fills the gaps', () => {
    const schedule = simulateSchedule(nodes, (n) => durations[n]!, 2);
    assert.equal(schedule.makespan, 18);
    assert.equal(schedule.starts.get('db'), 0);
    assert.equal(schedule.starts.get('web'), 15);
  });
});
