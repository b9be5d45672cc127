import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import type { WorkflowHandle } from '@temporalio/client';
import { listRestorePoints } from '../../../activities/location/restore-points.ts';
import { openLocation } from '../../../activities/location/location.ts';
import { profileSources, resolveProfile } from '../../../activities/location/profiles.ts';
import { innermostMessage } from '../../../src/diagnostics.ts';
import { createManifests } from '../../../src/kube/apply.ts';
import type { RunActionResult } from '../../../src/run/types.ts';
import { execInPod, execUntilSuccess, isReadyPod, waitForPod } from '../../support/pod-runtime/testing.ts';
import { ensureStack, kubeClients, testNamespace, type KubeClients, type TestNamespace } from '../../support/stack.ts';
import { killSpawnedWorkers, spawnWorker, temporalFixture, TEST_BLUEPRINT_ARGS, type TemporalFixture, type WorkerProcess } from '../../support/temporal.ts';

// The snapshot strategy's quiesce against workers that die: the session holder in the database pod (MariaDB's
// FLUSH TABLES WITH READ LOCK, where a held lock is visible as blocked writes) is released by its own watchdog
// when nobody releases it, and a worker killed during the export leaves a run that either completes, with a
// whole restore point, or leaves none. Workers run as child processes, killed by PID like a crashing pod.
const ROOT = join(import.meta.dirname, '../../..');
const POD = 'mysql-0';
const ROOT_PASSWORD = `root-${randomBytes(9).toString('hex')}`;
/**
 * The shipped blueprint with a Sleep between the lock and the snapshot (`options.holdLock`), so that a test can
 * act while the lock is held. Everything else, the quiesce and unquiesce scripts above all, is as shipped.
 */
const SNAPSHOT_PHASE = '              - name: snapshot\n                func: CreateCSIGroupSnapshot\n';
const shipped = readFileSync(join(ROOT, 'blueprints/mysql.yaml'), 'utf8');
assert.ok(shipped.includes(SNAPSHOT_PHASE));
const BLUEPRINT = shipped.replace(SNAPSHOT_PHASE, `              - name: holdLock\n                func: Sleep\n                args: {duration: '{{default "0s" Options.holdLock}}'}\n${SNAPSHOT_PHASE}`);

let fixture: TemporalFixture;
let namespace: TestNamespace;
let clients: KubeClients;
let runs = 0;

before(async () => {
  const stack = await ensureStack();
  clients = kubeClients(stack);
  fixture = await temporalFixture('quiesce-watchdog');
  namespace = await testNamespace('quiesce-watchdog');
  await createManifests(clients, join(ROOT, 'examples/mysql-app'), namespace.name, (file) => file.startsWith('00-config.'));
  await clients.core.patchNamespacedSecret(
    { name: 'mysql-credentials', namespace: namespace.name, body: { stringData: { MYSQL_ROOT_PASSWORD: ROOT_PASSWORD } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  await createManifests(clients, join(ROOT, 'examples/mysql-app'), namespace.name, (file) => file.startsWith('10-mysql.'));
  await waitForReady();
  await sql(`CREATE DATABASE shop; USE shop;
    CREATE TABLE orders (id INT PRIMARY KEY, note VARCHAR(64)) ENGINE=InnoDB;
    INSERT INTO orders SELECT seq, CONCAT('order ', seq, ' ', SHA1(seq)) FROM seq_1_to_100000;
    CREATE TABLE writes (id INT AUTO_INCREMENT PRIMARY KEY, at TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP(3)) ENGINE=InnoDB;`);
});

after(async () => {
  await killSpawnedWorkers();
  await namespace?.cleanup();
  await fixture?.close();
});

async function waitForReady(): Promise<void> {
  await waitForPod(clients, namespace.name, POD, 'ready', isReadyPod, 180_000);
}

async function sql(statements: string): Promise<string> {
  return (await execUntilSuccess(clients, namespace.name, POD, 'mysql', ['mysql', '--batch', '--skip-column-names', '-e', statements])).stdout.trim();
}

/** One INSERT that gives up after a second of waiting for a lock: the exit code says whether writes go through. */
async function tryWrite(): Promise<boolean> {
  const result = await execInPod(clients, namespace.name, POD, 'mysql', ['mysql', '-e', 'SET SESSION lock_wait_timeout = 1; INSERT INTO shop.writes () VALUES ()']);
  if (result.exitCode !== 0 && !/Lock wait timeout/.test(result.stderr)) throw new Error(`write failed: ${result.stderr}`);
  return result.exitCode === 0;
}

/** The session holder's files for this run, in the database pod. */
async function session(file: string): Promise<string> {
  return (await execInPod(clients, namespace.name, POD, 'mysql', ['sh', '-c', `cat /tmp/cairn-quiesce/*/${file} 2>/dev/null`])).stdout.trim();
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function startBackup(options: Record<string, string>): Promise<WorkflowHandle> {
  await execInPod(clients, namespace.name, POD, 'mysql', ['rm', '-rf', '/tmp/cairn-quiesce']);
  return fixture.client.workflow.start('runAction', {
    taskQueue: fixture.taskQueue,
    workflowId: `${fixture.taskQueue}-${runs++}`,
    // A short heartbeat timeout: a killed worker's phase goes to the next worker within seconds.
    args: [{ blueprint: { inline: BLUEPRINT }, action: 'backup', target: `statefulset/${namespace.name}/mysql`, options: { strategy: 'snapshot', ...options }, heartbeatTimeout: '5s' }],
  });
}

async function worker(): Promise<WorkerProcess> {
  const started = await spawnWorker(fixture, { args: TEST_BLUEPRINT_ARGS });
  await started.ready;
  return started;
}

async function kill(process: WorkerProcess): Promise<void> {
  process.child.kill('SIGKILL');
  await process.exited;
}

it('the watchdog ends a lock nobody releases, and the backup refuses a snapshot it no longer covers', async () => {
  const running = await worker();
  try {
    const handle = await startBackup({ quiesceTimeout: '3', holdLock: '6s' });
    await until('the lock', async () => (await session('state')) === 'locked');
    assert.equal(await tryWrite(), false, 'writes wait while the lock is held');
    await assert.rejects(handle.result(), (error) => {
      assert.match(innermostMessage(error), /watchdog unlocked the tables 3 s after FLUSH TABLES WITH READ LOCK/);
      return true;
    });
    assert.equal(await session('state'), 'watchdog');
    const held = Number(await session('released')) - Number(await session('locked'));
    assert.ok(held >= 3000 && held < 10_000, `lock held ${held} ms, released by the watchdog after 3 s`);
    assert.equal(await tryWrite(), true);
  } finally {
    await kill(running);
  }
});

it('a worker killed while the lock is held leaves the database writable again within the watchdog bound', async () => {
  const first = await worker();
  const handle = await startBackup({ quiesceTimeout: '5', holdLock: '5m' });
  try {
    await until('the lock', async () => (await session('state')) === 'locked');
    assert.equal(await tryWrite(), false, 'writes wait while the lock is held');
    await kill(first);
    // Nobody runs the unquiesce phase now: only the watchdog in the pod can end the lock.
    await until('a write to go through', tryWrite, 60_000);
    assert.equal(await session('state'), 'watchdog');
    const held = Number(await session('released')) - Number(await session('locked'));
    assert.ok(held >= 5000 && held < 12_000, `lock held ${held} ms with quiesceTimeout 5 s`);
  } finally {
    await handle.terminate('test over').catch(() => undefined);
  }
});

it('a worker killed during the export: the run resumes on another worker and its restore point is whole, never half-written', async () => {
  const location = await openLocation(await resolveProfile(undefined, profileSources(() => clients)), { kube: () => clients });
  const points = async () => (await listRestorePoints(location, { application: namespace.name })).points;
  const before = (await points()).length;

  const first = await worker();
  const handle = await startBackup({ quiesceTimeout: '30' });
  let second: WorkerProcess | undefined;
  try {
    await until('the export to run', async () => ((await handle.describe()).raw.pendingActivities ?? []).some((a) => a.activityId === 'phase/copyVolume' && a.heartbeatDetails));
    await kill(first);
    assert.equal(await tryWrite(), true, 'the lock ended before the export');
    assert.equal((await points()).length, before, 'no restore point while the run is unfinished');

    second = await worker();
    const result = (await handle.result()) as RunActionResult;
    const written = (await points()).filter((point) => point.run.workflowId === handle.workflowId);
    assert.equal(written.length, 1);
    const point = written[0]!;
    assert.equal(point.id, result.restorePoint?.id);
    assert.deepEqual(point.artifacts, result.outputArtifacts);
    const volumeBackupID = result.outputArtifacts.mysqlSnapshot?.KeyValue.volumeBackupID;
    assert.ok(point.snapshots.some((snapshot) => snapshot.id === volumeBackupID && (snapshot.logicalBytes ?? 0) > 10_000_000), JSON.stringify(point.snapshots));
    const copyStarted = (log: string) => log.split('\n').some((line) => line.includes('"message":"phase started"') && line.includes('"phase":"copyVolume"'));
    assert.ok(copyStarted(await first.log()) && copyStarted(await second.log()), 'the export was interrupted on the first worker and run again on the second');

    // The restore point is enough to restore: the table comes back exactly.
    const checksum = await sql('CHECKSUM TABLE shop.orders EXTENDED');
    await sql('DROP DATABASE shop');
    const restore = await fixture.client.workflow.execute('runAction', {
      taskQueue: fixture.taskQueue,
      workflowId: `${fixture.taskQueue}-restore`,
      args: [{ blueprint: { inline: BLUEPRINT }, action: 'restore', target: `statefulset/${namespace.name}/mysql`, artifacts: point.artifacts }],
    }) as RunActionResult;
    assert.ok(restore.phaseOutputs.restoreFiles);
    await waitForReady();
    assert.equal(await sql('CHECKSUM TABLE shop.orders EXTENDED'), checksum);
  } finally {
    if (second) await kill(second);
  }
});
