/**
 * Application restore RTO: Cairn's dependency-ordered, bounded-parallel restore against the critical-path lower
 * bound and against a serial restore of the same components (what a restore that brings components back one
 * after another — Velero-like, minus its crash loops — costs), measured in the same run.
 *
 * The real restoreApplication and runAction workflows run on the local Temporal with the real DAG, child
 * workflows and activity round trips; only the activities' work is simulated: the restore point is synthesized
 * (20 components in 3 dependency tiers), resources and readiness return at once, and each component's data
 * restore (its child runAction's one phase) sleeps that component's duration. So every millisecond above the
 * critical path is Cairn's scheduling and Temporal overhead (or a concurrency bound that bites).
 *
 * Env: BENCH_UNIT_MS (1000): the duration unit; BENCH_CONCURRENCY (9). Usage: npm run bench:restore-rto
 */
import { cpus, loadavg } from 'node:os';
import { NativeConnection, Worker } from '@temporalio/worker';
import { criticalPath, simulateSchedule, type DagNode } from '../src/application/dag.ts';
import type { ApplicationActivities, ApplicationRestoreResult, ApplicationSpec, ComponentSpec } from '../src/application/types.ts';
import type { ComponentRestorePoint, RestorePoint } from '../src/location/restore-point.ts';
import type { CairnActivities, PhaseInvocation } from '../src/run/types.ts';
import { createAuthorizeApplication } from '../activities/application/authorize-application.ts';
import { createCompileAction } from '../activities/compile-action.ts';
import { WORKFLOWS_PATH } from '../src/worker/worker.ts';
import { temporalFixture } from '../test/support/temporal.ts';

const UNIT_MS = Math.max(10, Number(process.env.BENCH_UNIT_MS ?? 1000));
const CONCURRENCY = Math.max(1, Number(process.env.BENCH_CONCURRENCY ?? 9));
const TARGET_RATIO = 1.15;

/** 3 databases; 8 services on one or two of them; 9 front ends and workers on the services. Durations in units. */
const COMPONENTS: Array<{ name: string; units: number; dependsOn: string[] }> = [
  { name: 'orders-db', units: 8, dependsOn: [] },
  { name: 'users-db', units: 6, dependsOn: [] },
  { name: 'cache', units: 3, dependsOn: [] },
  { name: 'orders-api', units: 4, dependsOn: ['orders-db', 'cache'] },
  { name: 'users-api', units: 3, dependsOn: ['users-db'] },
  { name: 'auth', units: 3, dependsOn: ['users-db', 'cache'] },
  { name: 'catalog', units: 4, dependsOn: ['cache'] },
  { name: 'payments', units: 3, dependsOn: ['orders-db'] },
  { name: 'search', units: 5, dependsOn: ['cache'] },
  { name: 'inventory', units: 2, dependsOn: ['orders-db'] },
  { name: 'notifications', units: 2, dependsOn: ['users-db'] },
  { name: 'web', units: 2, dependsOn: ['orders-api', 'users-api', 'auth', 'catalog'] },
  { name: 'admin', units: 1, dependsOn: ['users-api', 'auth'] },
  { name: 'checkout', units: 2, dependsOn: ['orders-api', 'payments'] },
  { name: 'fulfilment-worker', units: 2, dependsOn: ['orders-api', 'inventory'] },
  { name: 'mailer', units: 1, dependsOn: ['notifications'] },
  { name: 'indexer', units: 2, dependsOn: ['search', 'catalog'] },
  { name: 'reports', units: 2, dependsOn: ['orders-api', 'users-api'] },
  { name: 'mobile-gateway', units: 1, dependsOn: ['orders-api', 'auth'] },
  { name: 'recommendations', units: 2, dependsOn: ['search', 'users-api'] },
];
const durationMs = new Map(COMPONENTS.map((c) => [c.name, c.units * UNIT_MS]));

const BLUEPRINT = `apiVersion: cairn.io/v1alpha1
kind: Blueprint
metadata:
  name: bench-sleep
description: A component's data restore, simulated by the bench's runPhase (nothing is executed in a pod).
actions:
  restore:
    kinds: [Deployment]
    phases:
      - name: restoreData
        func: KubeExec
        args:
          namespace: "{{Target.namespace}}"
          pod: bench
          command: [sh, -c, "sleep {{Options.restoreMs}}"]
`;

function restorePoint(): RestorePoint {
  const components: ComponentSpec[] = COMPONENTS.map((c) => ({
    name: c.name,
    workload: { kind: 'Deployment', name: c.name },
    blueprint: 'bench-sleep',
    options: { restoreMs: durationMs.get(c.name)! },
    dependsOn: c.dependsOn,
  }));
  const spec: ApplicationSpec = { apiVersion: 'cairn.io/v1alpha1', kind: 'Application', metadata: { name: 'bench-rto' }, spec: { namespace: 'bench', components } };
  const stored: ComponentRestorePoint[] = COMPONENTS.map((c) => ({
    name: c.name,
    target: `deployment/bench/${c.name}`,
    blueprint: 'bench-sleep',
    artifacts: { data: { KeyValue: { snapshotID: '0'.repeat(32) } } },
  }));
  return {
    apiVersion: 'cairn.io/v1alpha1', kind: 'RestorePoint', formatVersion: 1, id: '20261122T000000.000Z-00000000', application: 'bench-rto', profile: 'bench',
    target: 'namespace/bench', action: 'backup', blueprint: 'application', planHash: '', run: { workflowId: 'bench', runId: 'bench' },
    startTime: '2026-11-22T00:00:00.000Z', endTime: '2026-11-22T00:00:00.000Z', repository: 'repositories/bench-rto/kopia/', artifacts: {}, snapshots: [],
    size: { logicalBytes: 0, storedBytes: 0 }, cairnVersion: 'bench', scope: 'application', spec, components: stored,
    resources: { snapshotID: '1'.repeat(32), items: [], kinds: {} }, blueprints: { 'bench-sleep': BLUEPRINT },
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The real compileAction; everything that would touch a cluster or a location is simulated. */
function activities(): Partial<CairnActivities & ApplicationActivities> {
  const point = restorePoint();
  return {
    compileAction: createCompileAction({ blueprintDirs: [] }),
    // The real check, with authorization not enforced (the worker's default): it returns without a cluster.
    authorizeApplication: createAuthorizeApplication({ kube: () => { throw new Error('the bench has no cluster'); } }),
    runPhase: async (input: PhaseInvocation) => {
      await sleep(Number(input.options.restoreMs ?? 0));
      return { outputs: {} };
    },
    readApplicationRestorePoint: async () => point,
    restoreResources: async () => ({ created: [], updated: [], skipped: [] }),
    waitWorkloadReady: async () => ({ readyReplicas: 1 }),
  };
}

const nodes: DagNode[] = COMPONENTS.map((c) => ({ name: c.name, dependsOn: c.dependsOn }));
const weight = (name: string) => durationMs.get(name)!;
const criticalMs = criticalPath(nodes, weight);
const boundedIdealMs = simulateSchedule(nodes, weight, CONCURRENCY).makespan;
const serialIdealMs = [...durationMs.values()].reduce((a, b) => a + b, 0);

const fixture = await temporalFixture('bench-rto');
const connection = await NativeConnection.connect({ address: fixture.address });
const worker = await Worker.create({ connection, namespace: fixture.namespace, taskQueue: fixture.taskQueue, workflowsPath: WORKFLOWS_PATH, activities: activities() });

interface Measured {
  rtoMs: number;
  wallMs: number;
  /** Mean time a component took beyond its simulated duration (its activities and child workflow). */
  componentOverheadMs: number;
  /** Mean time from a component's last dependency ready to its own start. */
  startDelayMs: number;
}

async function restore(label: string, concurrency: number): Promise<Measured> {
  const started = Date.now();
  const result = (await fixture.client.workflow.execute('restoreApplication', {
    taskQueue: fixture.taskQueue,
    workflowId: `${fixture.taskQueue}-${label}`,
    args: [{ application: 'bench-rto', concurrency }],
  })) as ApplicationRestoreResult;
  const byName = new Map(result.components.map((c) => [c.name, c]));
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const dependents = COMPONENTS.filter((c) => c.dependsOn.length);
  return {
    rtoMs: result.rtoMs,
    wallMs: Date.now() - started,
    componentOverheadMs: mean(result.components.map((c) => c.readyAtMs - c.startedAtMs - durationMs.get(c.name)!)),
    startDelayMs: mean(dependents.map((c) => byName.get(c.name)!.startedAtMs - Math.max(...c.dependsOn.map((d) => byName.get(d)!.readyAtMs)))),
  };
}

try {
  await worker.runUntil(async () => {
    await restore('warmup', CONCURRENCY); // bundles are loaded, connections warm
    const cairn = await restore('cairn', CONCURRENCY);
    const serial = await restore('serial', 1);
    const f = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    process.stdout.write(
      [
        `20 components in 3 tiers, unit ${UNIT_MS} ms, concurrency ${CONCURRENCY}`,
        `critical path (lower bound):       ${f(criticalMs)}  (ideal schedule under the bound: ${f(boundedIdealMs)}; serial sum: ${f(serialIdealMs)})`,
        `Cairn RTO:                         ${f(cairn.rtoMs)}  (client wall time ${f(cairn.wallMs)})`,
        `serial restore (concurrency 1):    ${f(serial.rtoMs)}  (client wall time ${f(serial.wallMs)})`,
        `Cairn RTO / critical path:         ${(cairn.rtoMs / criticalMs).toFixed(3)}  target <= ${TARGET_RATIO}: ${cairn.rtoMs / criticalMs <= TARGET_RATIO ? 'met' : 'NOT met'}`,
        `serial / Cairn RTO:                ${(serial.rtoMs / cairn.rtoMs).toFixed(2)}x`,
        `per component beyond its duration: ${cairn.componentOverheadMs.toFixed(0)} ms (serial run: ${serial.componentOverheadMs.toFixed(0)} ms); dependency ready → dependent started: ${cairn.startDelayMs.toFixed(0)} ms`,
        `load average at the end:           ${loadavg().map((l) => l.toFixed(1)).join(' ')} (${cpus().length} CPUs)`,
        '',
      ].join('\n'),
    );
  });
} finally {
  await connection.close();
  await fixture.close();
}
