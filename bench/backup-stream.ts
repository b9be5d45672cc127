/**
 * BackupStream throughput against raw kopia, measured in the same run on the same machine and repository.
 *
 *   raw:   node generate-stream.mjs N seed | kopia snapshot create --stdin-file … -   (a local pipe)
 *   cairn: a runAction workflow whose one phase is BackupStream of the same generator run in a pod of the
 *          local stack: exec through the API server → worker (this process) → kopia
 *
 * Each measurement streams a different seed of the same mix (no deduplication between runs); raw and Cairn
 * alternate, BENCH_RUNS times each, and the median of each is compared. Cairn's time is the phase's
 * activity (scheduled → completed in the workflow history: pod lookup, repository open, exec, kopia, the
 * repository size check); the whole workflow's time is printed too. Env: BENCH_SIZE_MB (512), BENCH_RUNS (3).
 * Usage: npm run bench:backup-stream
 */
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from '@temporalio/worker';

const SIZE = Math.round(Number(process.env.BENCH_SIZE_MB ?? 512) * 1024 * 1024);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const GENERATOR = join(import.meta.dirname, 'generate-stream.mjs');
const TARGET_RATIO = 0.9;

// A location of its own, so the bench neither fills nor reads the stack's: set before the location code loads.
const locationDir = mkdtempSync(join(process.env.CAIRN_BENCH_TMP ?? join(import.meta.dirname, '..', '.cairn'), 'bench-location-'));
process.env.CAIRN_LOCATION = locationDir;

const { repositoryFor } = await import('../activities/functions/exec-target.ts');
const { spawnKopia } = await import('../activities/kopia/kopia.ts');
const { execInPod } = await import('../activities/kube/exec.ts');
const { artifactSource, CAIRN_PIN } = await import('../activities/kopia/snapshots.ts');
const { formatCpu, stackPids, withCpuAccounting } = await import('./cpu-accounting.ts');
const { waitForPod } = await import('../test/support/pod-runtime/testing.ts');
const { ensureStack, kubeClients, testNamespace } = await import('../test/support/stack.ts');
const { inProcessWorker, temporalFixture } = await import('../test/support/temporal.ts');
type FunctionContext = import('../activities/functions/types.ts').FunctionContext;
type TemplateContext = import('../src/template/context.ts').TemplateContext;
type Repository = import('../activities/kopia/repository.ts').Repository;
type KubeConfig = import('@kubernetes/client-node').KubeConfig;

interface Sample {
  seconds: number;
  /** Cairn only: the whole workflow, as the client saw it. */
  workflowSeconds?: number;
  peakRssMb?: number;
  baseRssMb?: number;
}

function mbps(seconds: number): number {
  return SIZE / 1024 / 1024 / seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * The generator piped straight into the same `kopia snapshot create` BackupStream runs (the generator writes
 * into kopia's stdin pipe itself; no byte passes through this process), started and timed here.
 */
async function rawKopia(repository: Repository, namespace: string, seed: string): Promise<Sample> {
  const started = performance.now();
  const kopia = spawnKopia(
    repository.session,
    ['snapshot', 'create', '--json', '--stdin-file', 'stream', '--override-source', artifactSource(namespace, `bench/raw/${seed}`), '--pin', CAIRN_PIN, '-'],
    ['pipe', 'pipe', 'pipe'],
  );
  spawn(process.execPath, [GENERATOR, String(SIZE), seed], { stdio: ['ignore', kopia.stdin!, 'inherit'] });
  // The generator holds the pipe's write end now; kopia sees the end of its input when the generator exits.
  kopia.stdin!.destroy();
  let stderr = '';
  kopia.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  kopia.stdout!.resume();
  const code = await new Promise<number>((resolve) => kopia.once('close', (c) => resolve(c ?? 1)));
  if (code !== 0) throw new Error(`raw kopia failed (${code}): ${stderr}`);
  return { seconds: (performance.now() - started) / 1000 };
}

function generatorCommand(seed: string): string[] {
  return ['sh', '-c', `exec ${process.execPath} ${GENERATOR} ${SIZE} ${seed}`];
}

/**
 * The ceiling of any exec-based path: the same generator exec'd in the pod, its stdout received by this
 * process and thrown away (no kopia). BackupStream cannot be faster than its transport.
 */
async function execOnly(kube: KubeConfig, namespace: string, seed: string): Promise<Sample> {
  let bytes = 0;
  const discard = new Writable({
    highWaterMark: 4 * 1024 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback();
    },
  });
  const started = performance.now();
  const result = await execInPod(kube, { namespace, pod: 'source', container: 'app', command: generatorCommand(seed), stdout: discard });
  if (result.exitCode !== 0 || bytes !== SIZE) throw new Error(`exec-only run failed: exit ${result.exitCode}, ${bytes} bytes`);
  return { seconds: (performance.now() - started) / 1000 };
}

function blueprint(seed: string): string {
  return `apiVersion: cairn.io/v1alpha1
kind: Blueprint
metadata: {name: bench-backup-stream}
actions:
  backup:
    kinds: [Namespace]
    phases:
      - name: stream
        func: BackupStream
        retry: {maxAttempts: 1}
        args:
          namespace: "{{Namespace}}"
          pod: source
          command: ${JSON.stringify(generatorCommand(seed))}
          path: bench/cairn/${seed}
  restore:
    kinds: [Namespace]
    phases: [{name: r, func: Sleep, args: {duration: 1ms}}]
`;
}

type Fixture = Awaited<ReturnType<typeof temporalFixture>>;

function millis(time: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return Number(time?.seconds ?? 0) * 1000 + (time?.nanos ?? 0) / 1e6;
}

async function cairnBackupStream(fixture: Fixture, namespace: string, seed: string): Promise<Sample> {
  const base = process.memoryUsage().rss;
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  const workflowId = `${fixture.taskQueue}-${seed}`;
  const started = performance.now();
  try {
    await fixture.client.workflow.execute('runAction', {
      taskQueue: fixture.taskQueue,
      workflowId,
      args: [{ blueprint: { inline: blueprint(seed) }, action: 'backup', target: `namespace/${namespace}` }],
    });
  } finally {
    clearInterval(sampler);
  }
  const workflowSeconds = (performance.now() - started) / 1000;
  const events = (await fixture.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  // The phase's runPhase activity (compileAction runs first), from scheduled (Temporal writes a retryable
  // activity's started event only once it has ended) to completed.
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runPhase');
  const completed = events.find((e) => scheduled && String(e.activityTaskCompletedEventAttributes?.scheduledEventId) === String(scheduled.eventId));
  if (!scheduled || !completed) throw new Error('the BackupStream phase did not complete');
  return { seconds: (millis(completed.eventTime) - millis(scheduled.eventTime)) / 1000, workflowSeconds, peakRssMb: peak / 1024 / 1024, baseRssMb: base / 1024 / 1024 };
}

async function main(): Promise<void> {
  const stack = await ensureStack();
  const clients = kubeClients(stack);
  const fixture = await temporalFixture('bench');
  const namespace = await testNamespace('bench');
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  try {
    await clients.core.createNamespacedPod({ namespace: namespace.name, body: { metadata: { name: 'source' }, spec: { containers: [{ name: 'app', image: 'busybox:1.36' }] } } });
    await waitForPod(clients, namespace.name, 'source', 'Running', (pod) => pod.status?.phase === 'Running' && (pod.status.containerStatuses ?? []).every((c) => c.ready));
    worker = await inProcessWorker(fixture);
    running = worker.run();
    const template = { Namespace: namespace.name, Time: new Date().toISOString(), Phases: {}, ArtifactsIn: {}, Options: {}, Object: {} } as unknown as TemplateContext;
    const repository = await repositoryFor({ template, kube: () => clients } as unknown as FunctionContext);

    console.log(`BackupStream vs raw kopia: ${SIZE / 1024 / 1024} MiB of half random, half text per run, ${RUNS} runs each, alternating`);
    // One small warm-up of each path (kopia caches, the exec path, the workflow bundle), not counted.
    const raw: Sample[] = [];
    const transport: Sample[] = [];
    const cairn: Sample[] = [];
    await rawKopia(repository, namespace.name, 'warm-raw');
    await execOnly(clients.config, namespace.name, 'warm-exec');
    await cairnBackupStream(fixture, namespace.name, 'warm-cairn');
    const pids = stackPids(stack.kube.workdir);
    for (let run = 1; run <= RUNS; run++) {
      const { result: r, cpu: rawCpu } = await withCpuAccounting(pids, () => rawKopia(repository, namespace.name, `raw-${run}`));
      raw.push(r);
      const { result: e, cpu: execCpu } = await withCpuAccounting(pids, () => execOnly(clients.config, namespace.name, `exec-${run}`));
      transport.push(e);
      const { result: c, cpu: cairnCpu } = await withCpuAccounting(pids, () => cairnBackupStream(fixture, namespace.name, `cairn-${run}`));
      cairn.push(c);
      console.log(
        `  run ${run}: raw ${mbps(r.seconds).toFixed(1)} MiB/s (${r.seconds.toFixed(2)} s) | exec only ${mbps(e.seconds).toFixed(1)} MiB/s (${e.seconds.toFixed(2)} s) | cairn ${mbps(c.seconds).toFixed(1)} MiB/s (phase ${c.seconds.toFixed(2)} s, workflow ${c.workflowSeconds!.toFixed(2)} s, worker RSS ${c.baseRssMb!.toFixed(0)} → peak ${c.peakRssMb!.toFixed(0)} MiB)`,
      );
      console.log(`         CPU s, raw:       ${formatCpu(rawCpu)}`);
      console.log(`         CPU s, exec only: ${formatCpu(execCpu)}`);
      console.log(`         CPU s, cairn:     ${formatCpu(cairnCpu)}`);
    }
    const rawMbps = mbps(median(raw.map((s) => s.seconds)));
    const execMbps = mbps(median(transport.map((s) => s.seconds)));
    const cairnMbps = mbps(median(cairn.map((s) => s.seconds)));
    const workflowMbps = mbps(median(cairn.map((s) => s.workflowSeconds!)));
    const ratio = cairnMbps / rawMbps;
    console.log(`raw kopia:          ${rawMbps.toFixed(1)} MiB/s (median)`);
    console.log(`exec only:          ${execMbps.toFixed(1)} MiB/s (median): the transport, ceiling of any exec-based path (${(execMbps / rawMbps).toFixed(3)} of raw)`);
    console.log(`Cairn BackupStream: ${cairnMbps.toFixed(1)} MiB/s (median phase), ${workflowMbps.toFixed(1)} MiB/s whole workflow; ${(cairnMbps / execMbps).toFixed(3)} of exec only`);
    console.log(`ratio Cairn/raw:    ${ratio.toFixed(3)} (phase), ${(workflowMbps / rawMbps).toFixed(3)} (whole workflow); target >= ${TARGET_RATIO} ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'}`);
  } finally {
    worker?.shutdown();
    await running;
    await namespace.cleanup();
    await fixture.close();
    rmSync(locationDir, { recursive: true, force: true });
  }
}

await main();
