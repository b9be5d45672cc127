import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { innermostMessage } from '../../../src/diagnostics.ts';
import type { RunActionResult } from '../../../src/run/types.ts';
import { leftoverSnapshotObjects, startPodWriter, waitForReadyPod, type BlueprintHarness } from '../../support/database-blueprint.ts';
import { POSTGRES_POD as POD, postgresHarness, psqlIn } from '../../support/databases/postgresql.ts';
import { execInPod } from '../../support/pod-runtime/testing.ts';

// The shipped PostgreSQL blueprint's snapshot strategy against a real server playing the example
// StatefulSet's pod: 100,000 rows, a writer committing paired rows all through the backup, pg_backup_start →
// CSI snapshot → pg_backup_stop, the snapshot's files and the backup's WAL into kopia; then the table dropped,
// a restore into the scaled-down workload, and the server recovers to one instant inside the backup window.
let harness: BlueprintHarness;

before(async () => {
  harness = await postgresHarness('pg-snapshot');
});

after(async () => {
  await harness?.close();
});

const psql = (sql: string) => psqlIn(harness, sql);

const ITEMS_CHECKSUM = "SELECT count(*) || ':' || md5(string_agg(id || ',' || grp || ',' || payload, ';' ORDER BY id)) FROM items";
const PAIRS = "SELECT coalesce(string_agg(txn || '/' || side || '/' || note, ' ' ORDER BY txn, side), '') FROM pairs";

/**
 * A writer in the database pod: one transaction after another, each inserting two rows of one txn number, until
 * the stop file appears. A copy torn between files would hold one row of a pair, or a gap in the numbers.
 */
function startWriter(): { stop(): Promise<void> } {
  return startPodWriter(harness, POD, 'postgres', `i=$(psql -X -A -t -c 'SELECT coalesce(max(txn), 0) FROM pairs'); while [ ! -e /tmp/stop-writer ]; do i=$((i + 1)); echo "BEGIN; INSERT INTO pairs VALUES ($i, 1, 'left $i'), ($i, 2, 'right $i'); COMMIT;"; sleep 0.01; done | psql -X -q -v ON_ERROR_STOP=1`);
}

async function committed(): Promise<number> {
  return Number(await psql('SELECT coalesce(max(txn), 0) FROM pairs'));
}

let backup: RunActionResult;
let itemsAtBackup: string;
let committedBefore: number;
let afterBackup: number;

it('backs up 100,000 rows with pg_backup_start → CSI snapshot → pg_backup_stop while a writer keeps committing', async () => {
  await psql(`CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, payload text NOT NULL);
    INSERT INTO items SELECT g, g % 97, md5(g::text) || repeat('x', g % 50) FROM generate_series(1, 100000) g;
    CREATE INDEX items_grp ON items (grp);
    CREATE TABLE pairs (txn int NOT NULL, side int NOT NULL, note text NOT NULL, PRIMARY KEY (txn, side));`);
  itemsAtBackup = await psql(ITEMS_CHECKSUM);
  assert.match(itemsAtBackup, /^100000:/);

  const writer = startWriter();
  try {
    while ((await committed()) < 30) await new Promise((r) => setTimeout(r, 200));
    committedBefore = await committed();
    backup = await harness.run('backup', { options: { strategy: 'snapshot' } });
    afterBackup = await committed();
    assert.ok(afterBackup > committedBefore, 'the writer kept committing during the backup');
  } finally {
    await writer.stop();
  }

  const artifact = backup.outputArtifacts.pgSnapshot?.KeyValue;
  assert.ok(artifact, `artifacts: ${JSON.stringify(backup.outputArtifacts)}`);
  assert.equal(backup.outputArtifacts.pgDump, undefined);
  assert.match(artifact.volumeBackupID ?? '', /^[0-9a-f]{32}$/);
  assert.match(artifact.walBackupID ?? '', /^[0-9a-f]{32}$/);
  assert.equal(artifact.pvc, 'data-postgres-0');
  assert.equal(artifact.dataSubPath, 'pgdata');
  assert.match(artifact.backupStopLsn ?? '', /^[0-9A-F]+\/[0-9A-F]+$/);
  assert.ok(Number(artifact.volumeBytes) > 10_000_000, `${artifact.volumeBytes} bytes copied`);
  const window = Number(backup.phaseOutputs.unquiesce?.quiesceWindowMs);
  assert.ok(window > 0 && String(window) === artifact.quiesceWindowMs, `quiesce window ${window} ms`);
  assert.ok(Number(backup.phaseOutputs.unquiesce?.walSegments) >= 1);
  assert.ok(backup.restorePoint, 'a restore point was written');

  // The local snapshot and the PVC the export read are gone, and so is the backup session.
  assert.deepEqual(await leftoverSnapshotObjects(harness), { volumeSnapshots: [], claims: ['data-postgres-0'] });
  assert.equal(await psql("SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'cairn%'"), '0');
  const sessions = await execInPod(harness.clients, harness.namespace, POD, 'postgres', ['sh', '-c', 'ls /tmp/cairn-quiesce']);
  assert.equal(sessions.stdout.trim(), '');
});

it('restores into the scaled-down workload: the server recovers to one instant inside the backup window, pairs whole', async () => {
  const live = await psql(PAIRS);
  await psql('DROP TABLE items; DELETE FROM pairs WHERE txn % 2 = 0; CREATE TABLE scratch (x int);');

  const restore = await harness.run('restore', { artifacts: backup.outputArtifacts });
  assert.deepEqual(Object.keys(restore.phaseOutputs).filter((id) => id === 'restoreFromLocation'), []);
  assert.equal(restore.phaseOutputs.waitRecovered?.inRecovery, 'f');
  await waitForReadyPod(harness, POD);

  assert.equal(await psql(ITEMS_CHECKSUM), itemsAtBackup);
  assert.equal(await psql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'scratch'"), '0');
  // Every transaction is there with both rows or not at all, without gaps: a prefix of what was committed.
  assert.equal(await psql('SELECT count(*) FROM (SELECT txn FROM pairs GROUP BY txn HAVING count(*) <> 2) torn'), '0');
  const restoredCommitted = await committed();
  assert.equal(await psql('SELECT count(DISTINCT txn) FROM pairs'), String(restoredCommitted));
  assert.ok(restoredCommitted >= committedBefore && restoredCommitted <= afterBackup, `restored up to txn ${restoredCommitted}, backup ran between ${committedBefore} and ${afterBackup}`);
  // And exactly what the live database held at that point.
  const restored = await psql(PAIRS);
  const prefix = live.split(' ').filter((row) => Number(row.split('/')[0]) <= restoredCommitted).join(' ');
  assert.equal(restored, prefix);
  // The indexes agree with the heap.
  await psql("CREATE EXTENSION IF NOT EXISTS amcheck; SELECT bt_index_check('items_pkey', true), bt_index_check('items_grp', true), bt_index_check('pairs_pkey', true);");
  // The restored server takes writes.
  await psql("INSERT INTO pairs VALUES (1000000, 1, 'after restore')");
});

it('a quiesce that fails after pg_backup_start always ends the backup session', async () => {
  await assert.rejects(harness.run('backup', { label: 'bad-pvc', options: { strategy: 'snapshot', pvc: 'no-such-claim' } }), (error) => {
    assert.match(innermostMessage(error), /no-such-claim/);
    return true;
  });
  assert.equal(await psql("SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'cairn%'"), '0');
  const states = await execInPod(harness.clients, harness.namespace, POD, 'postgres', ['sh', '-c', 'cat /tmp/cairn-quiesce/*/state']);
  assert.equal(states.stdout.trim(), 'released');
  await psql("INSERT INTO pairs VALUES (1000001, 1, 'after a failed backup')");
});
