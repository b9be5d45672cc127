import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { innermostMessage } from '../../../src/diagnostics.ts';
import type { RunActionResult } from '../../../src/run/types.ts';
import { leftoverSnapshotObjects, startPodWriter, type BlueprintHarness } from '../../support/database-blueprint.ts';
import { MYSQL_POD as POD, mysqlHarness, mysqlIn, waitForMysql } from '../../support/databases/mysql.ts';
import { execInPod } from '../../support/pod-runtime/testing.ts';

// The shipped MySQL blueprint's snapshot strategy against a real server (MariaDB playing the example's
// mysql:8.0 pod): 100,000 rows, a writer committing paired rows all through the backup, FLUSH TABLES WITH READ
// LOCK → CSI snapshot → UNLOCK TABLES, the snapshot's files into kopia; then a database dropped, a restore into
// the scaled-down workload, and the tables are exactly what checksums taken under the lock said.
const ROOT_PASSWORD = `root-${randomBytes(9).toString('hex')}`;

let harness: BlueprintHarness;

before(async () => {
  harness = await mysqlHarness('mysql-snapshot', ROOT_PASSWORD);
});

after(async () => {
  await harness?.close();
});

const sql = (statements: string) => mysqlIn(harness, statements);

/** `db.table:checksum …`, as the blueprint's lockedChecksums output has it. */
async function checksums(tables: string): Promise<string> {
  const rows = await sql(`CHECKSUM TABLE ${tables} EXTENDED`);
  return rows.split('\n').map((row) => row.split('\t').join(':')).join(' ');
}

/** Transactions of two rows each, one after another, until the stop file appears (blocked while locked). */
function startWriter(): { stop(): Promise<void> } {
  return startPodWriter(harness, POD, 'mysql', `i=$(mysql -N -e 'SELECT COALESCE(MAX(txn), 0) FROM shop.pairs'); while [ ! -e /tmp/stop-writer ]; do i=$((i + 1)); echo "BEGIN; INSERT INTO shop.pairs VALUES ($i, 1, 'left $i'), ($i, 2, 'right $i'); COMMIT;"; sleep 0.01; done | mysql`);
}

async function committed(): Promise<number> {
  return Number(await sql('SELECT COALESCE(MAX(txn), 0) FROM shop.pairs'));
}

let backup: RunActionResult;
let committedBefore: number;
let afterBackup: number;

it('backs up 100,000 rows with FLUSH TABLES WITH READ LOCK → CSI snapshot → UNLOCK TABLES while a writer keeps committing', async () => {
  await sql(`
    CREATE DATABASE shop;
    USE shop;
    CREATE TABLE shop.orders (id INT PRIMARY KEY, customer INT NOT NULL, amount DECIMAL(10,2) NOT NULL, note VARCHAR(64), KEY (customer)) ENGINE=InnoDB;
    INSERT INTO shop.orders SELECT seq, 1 + seq % 1000, (seq * 7919 % 100003) / 100, CONCAT('order ', seq, ' ', SHA1(seq)) FROM seq_1_to_100000;
    CREATE TABLE shop.pairs (txn INT NOT NULL, side INT NOT NULL, note VARCHAR(32) NOT NULL, PRIMARY KEY (txn, side)) ENGINE=InnoDB;
  `);
  const writer = startWriter();
  try {
    while ((await committed()) < 30) await new Promise((r) => setTimeout(r, 200));
    committedBefore = await committed();
    backup = await harness.run('backup', { options: { strategy: 'snapshot', checksumTables: 'shop.orders,shop.pairs' } });
    afterBackup = await committed();
    assert.ok(afterBackup > committedBefore, 'the writer kept committing around the backup');
  } finally {
    await writer.stop();
  }

  const artifact = backup.outputArtifacts.mysqlSnapshot?.KeyValue;
  assert.ok(artifact, `artifacts: ${JSON.stringify(backup.outputArtifacts)}`);
  assert.equal(backup.outputArtifacts.mysqlDump, undefined);
  assert.match(artifact.volumeBackupID ?? '', /^[0-9a-f]{32}$/);
  assert.equal(artifact.pvc, 'data-mysql-0');
  assert.ok(Number(artifact.volumeBytes) > 10_000_000, `${artifact.volumeBytes} bytes copied`);
  assert.match(artifact.lockedChecksums ?? '', /^shop\.orders:\d+ shop\.pairs:\d+$/);
  const window = Number(backup.phaseOutputs.unquiesce?.quiesceWindowMs);
  assert.ok(window > 0 && String(window) === artifact.quiesceWindowMs, `quiesce window ${window} ms`);
  assert.ok(backup.restorePoint, 'a restore point was written');
  assert.deepEqual(await leftoverSnapshotObjects(harness), { volumeSnapshots: [], claims: ['data-mysql-0'] });
});

it('restores into the scaled-down workload: every table is exactly what the checksums under the lock said', async () => {
  await sql('DROP DATABASE shop; CREATE DATABASE scratch;');
  const restore = await harness.run('restore', { artifacts: backup.outputArtifacts });
  assert.ok(Number(restore.phaseOutputs.restoreFiles?.size) > 10_000_000);
  await waitForMysql(harness);

  assert.equal(await checksums('shop.orders, shop.pairs'), backup.outputArtifacts.mysqlSnapshot?.KeyValue.lockedChecksums);
  assert.equal(await sql('SELECT COUNT(*) FROM shop.orders'), '100000');
  assert.equal(await sql("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'scratch'"), '0');
  assert.equal(await sql('SELECT COUNT(*) FROM (SELECT txn FROM shop.pairs GROUP BY txn HAVING COUNT(*) <> 2) torn'), '0');
  const restoredCommitted = await committed();
  assert.equal(await sql('SELECT COUNT(DISTINCT txn) FROM shop.pairs'), String(restoredCommitted));
  assert.ok(restoredCommitted >= committedBefore && restoredCommitted <= afterBackup, `restored up to txn ${restoredCommitted}, backup ran between ${committedBefore} and ${afterBackup}`);
  assert.equal(await sql('CHECK TABLE shop.orders, shop.pairs EXTENDED'), 'shop.orders\tcheck\tstatus\tOK\nshop.pairs\tcheck\tstatus\tOK');
  await sql("INSERT INTO shop.pairs VALUES (1000000, 1, 'after restore')");
  await harness.assertNoSecretInHistories(ROOT_PASSWORD);
});

it('a quiesce that fails while the lock is held always unlocks: writes go through at once', async () => {
  await assert.rejects(harness.run('backup', { label: 'bad-pvc', options: { strategy: 'snapshot', pvc: 'no-such-claim' } }), (error) => {
    assert.match(innermostMessage(error), /no-such-claim/);
    return true;
  });
  const states = await execInPod(harness.clients, harness.namespace, POD, 'mysql', ['sh', '-c', 'cat /tmp/cairn-quiesce/*/state']);
  assert.match(states.stdout, /released/);
  await sql("SET SESSION lock_wait_timeout = 2; INSERT INTO shop.pairs VALUES (1000001, 1, 'after a failed backup')");
});
