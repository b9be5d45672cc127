/**
 * The database blueprints on a real dataset, against the same dump taken by hand, in the same run:
 *
 *   by hand:  kubectl exec <pod> -- <the blueprint's dump command> | kopia snapshot create --stdin-file … -
 *   logical:  the blueprint's backup (BackupStream of that dump), then its restore (RestoreStream)
 *   snapshot: the blueprint's backup with options.strategy=snapshot (quiesce → CSI snapshot → unquiesce, then
 *             CopyVolumeData of a PVC restored from the snapshot), then its restore (RestoreData into the
 *             scaled-down workload's PVC)
 *
 * For each database (MariaDB playing mysql:8.0, PostgreSQL 15) a table of random bytes is grown to the size
 * asked, then each path runs BENCH_RUNS times. Printed: backup and restore MiB/s (logical bytes over the
 * phase's activity time, scheduled → completed in the workflow history), the ratio of Cairn's logical backup
 * to the dump by hand, and the quiesce window. Env: BENCH_DB_SIZE_MB (1024), BENCH_DBS (mysql,postgresql),
 * BENCH_RUNS (1). Usage: npm run bench:db-backup
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const SIZE_MB = Number(process.env.BENCH_DB_SIZE_MB ?? 1024);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 1));
const DATABASES = (process.env.BENCH_DBS ?? 'mysql,postgresql').split(',').map((name) => name.trim()).filter(Boolean);
const ROOT = join(import.meta.dirname, '..');
const TARGET_RATIO = 0.9;
const TARGET_QUIESCE_MS = 2000;

// A location of its own, so the bench neither fills nor reads the stack's: set before the location code loads.
const locationDir = mkdtempSync(join(process.env.CAIRN_BENCH_TMP ?? join(ROOT, '.cairn'), 'bench-location-'));
process.env.CAIRN_LOCATION = locationDir;

const { repositoryFor } = await import('../activities/functions/exec-target.ts');
const { spawnKopia } = await import('../activities/kopia/kopia.ts');
const { artifactSource, CAIRN_PIN } = await import('../activities/kopia/snapshots.ts');
const { createManifests } = await import('../src/kube/apply.ts');
const { blueprintHarness } = await import('../test/support/database-blueprint.ts');
const { execUntilSuccess, waitForPod } = await import('../test/support/pod-runtime/testing.ts');
const { ensureStack } = await import('../test/support/stack.ts');
const { temporalFixture } = await import('../test/support/temporal.ts');
type BlueprintHarness = import('../test/support/database-blueprint.ts').BlueprintHarness;
type FunctionContext = import('../activities/functions/types.ts').FunctionContext;
type TemplateContext = import('../src/template/context.ts').TemplateContext;
type RunActionResult = import('../src/run/types.ts').RunActionResult;

interface Database {
  blueprint: string;
  pod: string;
  container: string;
  example: RegExp;
  /** SQL run through `client` in the pod. */
  client: string[];
  /** Grows the table by `rows` rows of 1000 random bytes (plus the id). */
  grow(rows: number): string;
  /** The table's size in bytes, as the server counts it. */
  size: string;
  /** The blueprint's dump command, as the pod's exec env runs it. */
  dump: string;
  dumpArtifact: string;
  snapshotArtifact: string;
}

const DATABASES_KNOWN: Record<string, Database> = {
  mysql: {
    blueprint: 'mysql',
    pod: 'mysql-0',
    container: 'mysql',
    example: /^(00-config|10-mysql)\./,
    client: ['mysql', '--batch', '--skip-column-names', '-e'],
    grow: (rows) => `CREATE DATABASE IF NOT EXISTS bench; USE bench; CREATE TABLE IF NOT EXISTS data (id BIGINT AUTO_INCREMENT PRIMARY KEY, payload VARBINARY(1000) NOT NULL) ENGINE=InnoDB; INSERT INTO data (payload) SELECT RANDOM_BYTES(1000) FROM seq_1_to_${rows};`,
    size: "ANALYZE TABLE bench.data PERSISTENT FOR ALL; SELECT data_length + index_length FROM information_schema.tables WHERE table_schema = 'bench' AND table_name = 'data'",
    dump: 'mariadb-dump --default-character-set=utf8mb4 --single-transaction --all-databases --routines --triggers --events --hex-blob --flush-privileges',
    dumpArtifact: 'mysqlDump',
    snapshotArtifact: 'mysqlSnapshot',
  },
  postgresql: {
    blueprint: 'postgresql',
    pod: 'postgres-0',
    container: 'postgres',
    example: /^(00-config|10-postgres)\./,
    client: ['psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c'],
    grow: (rows) => `CREATE EXTENSION IF NOT EXISTS pgcrypto; CREATE TABLE IF NOT EXISTS data (id bigserial PRIMARY KEY, payload bytea NOT NULL); INSERT INTO data (payload) SELECT gen_random_bytes(1000) FROM generate_series(1, ${rows});`,
    size: "SELECT pg_total_relation_size('data')",
    dump: 'pg_dumpall --clean --if-exists',
    dumpArtifact: 'pgDump',
    snapshotArtifact: 'pgSnapshot',
  },
};

function mibps(bytes: number, seconds: number): number {
  return bytes / 1024 / 1024 / seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function millis(time: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return Number(time?.seconds ?? 0) * 1000 + (time?.nanos ?? 0) / 1e6;
}

const histories = await temporalFixture('bench-history');

/** Seconds of phase `id` of a run, scheduled → completed (its last attempt), from the workflow history. */
async function phaseSeconds(run: RunActionResult, id: string): Promise<number> {
  const workflowId = run.workflowId;
  const events = (await histories.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityId === `phase/${id}`).at(-1);
  const completed = events.find((e) => scheduled && String(e.activityTaskCompletedEventAttributes?.scheduledEventId) === String(scheduled.eventId));
  if (!scheduled || !completed) throw new Error(`phase ${id} did not complete in ${workflowId}`);
  return (millis(completed.eventTime) - millis(scheduled.eventTime)) / 1000;
}

/** The dump by hand: kubectl exec straight into kopia's stdin (no byte passes through this process). */
async function byHand(harness: BlueprintHarness, db: Database, run: number): Promise<{ seconds: number; bytes: number }> {
  const stack = await ensureStack();
  const template = { Namespace: harness.namespace, Time: new Date().toISOString(), Phases: {}, ArtifactsIn: {}, Options: {}, Object: {} } as unknown as TemplateContext;
  const repository = await repositoryFor({ template, kube: () => harness.clients } as unknown as FunctionContext);
  const started = performance.now();
  const kopia = spawnKopia(
    repository.session,
    ['snapshot', 'create', '--json', '--stdin-file', 'dump.sql', '--override-source', artifactSource(harness.namespace, `bench/by-hand/${run}`), '--pin', CAIRN_PIN, '-'],
    ['pipe', 'pipe', 'pipe'],
  );
  const kubectl = spawn(stack.binaries.kubectl!, ['--kubeconfig', stack.kube.kubeconfig, 'exec', '-n', harness.namespace, db.pod, '-c', db.container, '--', 'sh', '-c', db.dump], { stdio: ['ignore', kopia.stdin!, 'inherit'] });
  kopia.stdin!.destroy();
  let stdout = '';
  let stderr = '';
  kopia.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  kopia.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [dumpCode, kopiaCode] = await Promise.all([
    new Promise<number>((resolve) => kubectl.once('close', (c) => resolve(c ?? 1))),
    new Promise<number>((resolve) => kopia.once('close', (c) => resolve(c ?? 1))),
  ]);
  if (dumpCode !== 0 || kopiaCode !== 0) throw new Error(`by hand: dump exit ${dumpCode}, kopia exit ${kopiaCode}: ${stderr}`);
  const snapshot = JSON.parse(stdout) as { stats?: { totalSize?: number } ; rootEntry?: { summ?: { size?: number } } };
  return { seconds: (performance.now() - started) / 1000, bytes: snapshot.rootEntry?.summ?.size ?? snapshot.stats?.totalSize ?? 0 };
}

async function sql(harness: BlueprintHarness, db: Database, statements: string): Promise<string> {
  return (await execUntilSuccess(harness.clients, harness.namespace, db.pod, db.container, [...db.client, statements], 3_600_000)).stdout.trim();
}

async function bench(name: string): Promise<string[]> {
  const db = DATABASES_KNOWN[name];
  if (!db) throw new Error(`BENCH_DBS: unknown database "${name}" (${Object.keys(DATABASES_KNOWN).join(', ')})`);
  const harness = await blueprintHarness(`bench-${name}`, db.blueprint, (namespace) => `statefulset/${namespace}/${db.pod.replace(/-0$/, '')}`);
  const ready = () => waitForPod(harness.clients, harness.namespace, db.pod, 'ready', (pod) => pod.status?.phase === 'Running' && (pod.status.containerStatuses ?? []).every((c) => c.ready), 300_000);
  try {
    await createManifests(harness.clients, join(ROOT, name === 'mysql' ? 'examples/mysql-app' : 'examples/three-tier'), harness.namespace, (file) => db.example.test(file));
    await ready();
    // 1000 random bytes a row; the server's own size (pages, indexes) is printed.
    const seeded = performance.now();
    for (let rows = Math.ceil((SIZE_MB * 1024 * 1024) / 1000); rows > 0; rows -= 200_000) await sql(harness, db, db.grow(Math.min(rows, 200_000)));
    console.log(`${name}: table of ${(Number((await sql(harness, db, db.size)).split('\n').at(-1)) / 1024 / 1024).toFixed(0)} MiB (random bytes) in ${((performance.now() - seeded) / 1000).toFixed(0)} s`);

    const rows: Record<string, number[]> = { byHand: [], logicalBackup: [], logicalRestore: [], snapshotBackup: [], snapshotRestore: [], quiesceMs: [], snapshotWorkflow: [] };
    for (let run = 1; run <= RUNS; run++) {
      const hand = await byHand(harness, db, run);
      rows.byHand!.push(mibps(hand.bytes, hand.seconds));
      // Each figure as soon as it is measured: a later step failing (a long run on a busy machine) keeps them.
      console.log(`  run ${run}: dump by hand ${(hand.bytes / 1024 / 1024).toFixed(0)} MiB in ${hand.seconds.toFixed(1)} s: ${rows.byHand!.at(-1)!.toFixed(1)} MiB/s`);

      const logical = await harness.run('backup', { label: `logical-${run}` });
      const dumpBytes = Number(logical.outputArtifacts[db.dumpArtifact]?.KeyValue.logicalBytes);
      rows.logicalBackup!.push(mibps(dumpBytes, await phaseSeconds(logical, 'dumpToLocation')));
      console.log(`  run ${run}: logical backup ${rows.logicalBackup!.at(-1)!.toFixed(1)} MiB/s; ratio Cairn/by hand ${(rows.logicalBackup!.at(-1)! / rows.byHand!.at(-1)!).toFixed(3)}`);
      const logicalRestore = await harness.run('restore', { label: `logical-restore-${run}`, artifacts: logical.outputArtifacts });
      rows.logicalRestore!.push(mibps(dumpBytes, await phaseSeconds(logicalRestore, 'restoreFromLocation')));

      const started = performance.now();
      const snapshot: RunActionResult = await harness.run('backup', { label: `snapshot-${run}`, options: { strategy: 'snapshot' } });
      rows.snapshotWorkflow!.push((performance.now() - started) / 1000);
      const volumeBytes = Number(snapshot.outputArtifacts[db.snapshotArtifact]?.KeyValue.volumeBytes);
      rows.snapshotBackup!.push(mibps(volumeBytes, await phaseSeconds(snapshot, 'copyVolume')));
      rows.quiesceMs!.push(Number(snapshot.phaseOutputs.unquiesce?.quiesceWindowMs));
      console.log(`  run ${run}: logical restore ${rows.logicalRestore!.at(-1)!.toFixed(1)} MiB/s; snapshot export ${rows.snapshotBackup!.at(-1)!.toFixed(1)} MiB/s of ${(volumeBytes / 1024 / 1024).toFixed(0)} MiB; quiesce window ${rows.quiesceMs!.at(-1)} ms`);
      const snapshotRestore = await harness.run('restore', { label: `snapshot-restore-${run}`, artifacts: snapshot.outputArtifacts });
      rows.snapshotRestore!.push(mibps(volumeBytes, await phaseSeconds(snapshotRestore, 'restoreFiles')));
      await ready();
      console.log(`  run ${run}: dump ${(dumpBytes / 1024 / 1024).toFixed(0)} MiB, volume ${(volumeBytes / 1024 / 1024).toFixed(0)} MiB; by hand ${rows.byHand!.at(-1)!.toFixed(1)}, logical ${rows.logicalBackup!.at(-1)!.toFixed(1)} / restore ${rows.logicalRestore!.at(-1)!.toFixed(1)}, snapshot export ${rows.snapshotBackup!.at(-1)!.toFixed(1)} / restore ${rows.snapshotRestore!.at(-1)!.toFixed(1)} MiB/s; quiesce window ${rows.quiesceMs!.at(-1)} ms`);
    }
    const m = (key: string) => median(rows[key]!);
    const ratio = m('logicalBackup') / m('byHand');
    return [
      `${name} (${SIZE_MB} MiB table, median of ${RUNS}):`,
      `  logical backup   ${m('logicalBackup').toFixed(1)} MiB/s   restore ${m('logicalRestore').toFixed(1)} MiB/s`,
      `  dump by hand     ${m('byHand').toFixed(1)} MiB/s   (kubectl exec … | kopia snapshot create --stdin-file)`,
      `  ratio Cairn/by hand ${ratio.toFixed(3)}; target >= ${TARGET_RATIO} ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'}`,
      `  snapshot export  ${m('snapshotBackup').toFixed(1)} MiB/s   restore ${m('snapshotRestore').toFixed(1)} MiB/s   (whole backup workflow ${m('snapshotWorkflow').toFixed(1)} s)`,
      `  quiesce window   ${m('quiesceMs').toFixed(0)} ms; target < ${TARGET_QUIESCE_MS} ms ${m('quiesceMs') < TARGET_QUIESCE_MS ? 'met' : 'NOT met'}`,
    ];
  } finally {
    await harness.close();
  }
}

try {
  const report: string[] = [];
  for (const name of DATABASES) report.push(...(await bench(name)));
  console.log(`\n${report.join('\n')}`);
} finally {
  await histories.close();
  rmSync(locationDir, { recursive: true, force: true });
}
process.exit(0);
