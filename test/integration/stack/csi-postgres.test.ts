import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { V1PersistentVolume, V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { processState } from '../../support/csi-driver/consistent-cut.ts';
import type { SnapshotRecord } from '../../support/csi-driver/store.ts';
import { ensureStack, kubeClients, type KubeClients, testNamespace, type TestNamespace } from '../../support/stack.ts';

/**
 * The consistent cut with a real database and the real controllers: a VolumeSnapshot of a PostgreSQL data
 * directory taken while transactions commit in a loop, restored into a new PVC, must start (crash recovery)
 * and hold intact tables. The test plays the pod runtime's part itself: it starts the server on the volume
 * directory and lists it in the volume's `.writers` file.
 */

const PG_ROOT = '/usr/lib/postgresql';
const pgBin = existsSync(PG_ROOT) ? join(PG_ROOT, readdirSync(PG_ROOT).sort().at(-1)!, 'bin') : '';
const postgresUser = (() => {
  try {
    return { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) };
  } catch {
    return undefined;
  }
})();
const skip = !pgBin || postgresUser === undefined || process.getuid?.() !== 0 ? 'needs Debian PostgreSQL and root' : false;

interface CsiInfo {
  volumes: string;
  snapshots: string;
  storageClass: string;
  otherStorageClass: string;
  snapshotClass: string;
}

const SNAPSHOT_API = { group: 'snapshot.storage.k8s.io', version: 'v1' };

async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 200));
  }
}

function asPostgres(command: string, args: string[]): string {
  return execFileSync('runuser', ['-u', 'postgres', '--', join(pgBin, command), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A PostgreSQL server on `dataDir`, reachable only through a unix socket in `socketDir`. */
class Server {
  readonly process: ChildProcess;
  constructor(
    readonly dataDir: string,
    readonly socketDir: string,
  ) {
    // runuser stays the parent of the postmaster: listing runuser's PID exercises the driver's descendant walk.
    this.process = spawn(
      'runuser',
      ['-u', 'postgres', '--', join(pgBin, 'postgres'), '-D', dataDir, '-k', socketDir, '-c', "listen_addresses=", '-c', 'port=5432'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.process.stderr!.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
  }
  log = '';

  sql(statement: string): string {
    return asPostgres('psql', ['-h', this.socketDir, '-U', 'postgres', '-d', 'postgres', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', statement]).trim();
  }

  async ready(): Promise<void> {
    await eventually(`PostgreSQL on ${this.dataDir} to accept connections`, () => (this.sql('select 1') === '1' ? true : undefined), 60_000);
  }

  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = new Promise((resolveExit) => this.process.once('exit', resolveExit));
    try {
      asPostgres('pg_ctl', ['stop', '-D', this.dataDir, '-m', 'fast', '-w']);
    } catch {
      this.process.kill('SIGKILL');
    }
    await exited;
  }
}

let kube: KubeClients;
let csi: CsiInfo;
let namespace: TestNamespace;
const cleanups: (() => Promise<void> | void)[] = [];

before(async () => {
  if (skip) return;
  const stack = await ensureStack();
  kube = kubeClients(stack);
  csi = stack.csi as CsiInfo;
  namespace = await testNamespace('csi-postgres');
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await namespace?.cleanup();
});

async function boundVolume(body: V1PersistentVolumeClaim): Promise<V1PersistentVolume> {
  await kube.core.createNamespacedPersistentVolumeClaim({ namespace: namespace.name, body });
  const claim = await eventually(`PVC ${body.metadata!.name} to be Bound`, async () => {
    const found = await kube.core.readNamespacedPersistentVolumeClaim({ namespace: namespace.name, name: body.metadata!.name! });
    return found.status?.phase === 'Bound' ? found : undefined;
  });
  return kube.core.readPersistentVolume({ name: claim.spec!.volumeName! });
}

function socketDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-pg-'));
  chownSync(dir, postgresUser!.uid, postgresUser!.gid);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a VolumeSnapshot of a PostgreSQL volume under write load restores into a database that recovers intact', { skip }, async (t) => {
  const pv = await boundVolume({
    metadata: { name: 'pg' },
    spec: { accessModes: ['ReadWriteOnce'], storageClassName: csi.storageClass, resources: { requests: { storage: '1Gi' } } },
  });
  const handle = pv.spec!.csi!.volumeHandle;
  const dataDir = join(csi.volumes, handle, 'pgdata');
  mkdirSync(dataDir, { mode: 0o700 });
  chownSync(dataDir, postgresUser!.uid, postgresUser!.gid);
  asPostgres('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync']);

  const server = new Server(dataDir, socketDir());
  cleanups.push(() => server.stop());
  writeFileSync(join(csi.volumes, `${handle}.writers`), `${server.process.pid}\n`);
  await server.ready();
  server.sql(`create table a (n int primary key, pad text); create table b (n int primary key, pad text);
    create procedure load() language plpgsql as $$
    begin
      for i in 1..10000000 loop
        insert into a values (i, repeat('x', 200)); insert into b values (i, repeat('y', 200)); commit;
      end loop;
    end $$;`);
  // Transactions commit one after another while the snapshot is taken: each puts row n in a and in b.
  const load = spawn('runuser', ['-u', 'postgres', '--', join(pgBin, 'psql'), '-h', server.socketDir, '-U', 'postgres', '-d', 'postgres', '-Xq', '-c', 'call load()'], {
    stdio: 'ignore',
  });
  cleanups.push(() => void load.kill('SIGKILL'));
  await eventually('the load to commit 2000 transactions', () => (Number(server.sql('select count(*) from a')) > 2000 ? true : undefined));

  const started = performance.now();
  await kube.custom.createNamespacedCustomObject({
    ...SNAPSHOT_API,
    namespace: namespace.name,
    plural: 'volumesnapshots',
    body: { apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', metadata: { name: 'pg' }, spec: { volumeSnapshotClassName: csi.snapshotClass, source: { persistentVolumeClaimName: 'pg' } } },
  });
  const snapshot = await eventually('VolumeSnapshot pg to be ready', async () => {
    const found = (await kube.custom.getNamespacedCustomObject({ ...SNAPSHOT_API, namespace: namespace.name, plural: 'volumesnapshots', name: 'pg' })) as {
      status?: { readyToUse?: boolean; boundVolumeSnapshotContentName?: string };
    };
    return found.status?.readyToUse ? found : undefined;
  });
  t.diagnostic(`snapshot of the live database ready in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  const content = (await kube.custom.getClusterCustomObject({
    ...SNAPSHOT_API,
    plural: 'volumesnapshotcontents',
    name: snapshot.status!.boundVolumeSnapshotContentName!,
  })) as { status: { snapshotHandle: string } };
  const record = JSON.parse(readFileSync(join(csi.snapshots, `${content.status.snapshotHandle}.json`), 'utf8')) as SnapshotRecord;
  // runuser, the postmaster and its children (checkpointer, WAL writer, the loading backend, …) stood still.
  assert.ok(record.pausedPids.length >= 4, `paused ${record.pausedPids.join(', ')}`);
  t.diagnostic(`${record.pausedPids.length} processes paused for ${record.pausedMs} ms to copy ${(record.dataBytes / 1e6).toFixed(1)} MB`);
  await new Promise((resolveWait) => setTimeout(resolveWait, 200));
  for (const pid of record.pausedPids) assert.notEqual(processState(pid), 'T', `process ${pid} was left stopped after the snapshot`);
  const committedAfter = Number(server.sql('select count(*) from a'));

  load.kill('SIGKILL');
  await server.stop();

  const restoredPv = await boundVolume({
    metadata: { name: 'pg-restored' },
    spec: {
      accessModes: ['ReadWriteOnce'],
      storageClassName: csi.otherStorageClass,
      resources: { requests: { storage: '1Gi' } },
      dataSource: { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 'pg' },
    },
  });
  const restored = new Server(join(csi.volumes, restoredPv.spec!.csi!.volumeHandle, 'pgdata'), socketDir());
  cleanups.push(() => restored.stop());
  await restored.ready();
  assert.match(restored.log, /database system was interrupted|was not properly shut down/, 'the copy is of a running server: it recovers like after a crash');
  const [a, b] = [Number(restored.sql('select count(*) from a')), Number(restored.sql('select count(*) from b'))];
  assert.equal(a, b, 'every committed transaction is whole');
  assert.ok(a > 2000 && a <= committedAfter, `${a} rows: between the load before the snapshot and after it`);
  assert.equal(restored.sql('select count(*) from a full join b using (n) where a.n is null or b.n is null'), '0');
  // Heap and index pages check out too: no page copied half-written.
  asPostgres('pg_amcheck', ['-h', restored.socketDir, '-U', 'postgres', '-d', 'postgres', '--install-missing', '--heapallindexed']);
  t.diagnostic(`restored database recovered with ${a} committed transactions; pg_amcheck clean`);
});
