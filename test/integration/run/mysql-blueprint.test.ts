import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { innermostMessage } from '../../../src/diagnostics.ts';
import type { RunActionResult } from '../../../src/run/types.ts';
import type { BlueprintHarness } from '../../support/database-blueprint.ts';
import { mysqlHarness, mysqlIn } from '../../support/databases/mysql.ts';
import { execUntilSuccess } from '../../support/pod-runtime/testing.ts';

// The shipped MySQL blueprint against a real server (MariaDB playing the example's mysql:8.0 pod): 100,000
// rows with routines, triggers, events, views and users; a backup through Temporal and kopia; writes after
// it, a dropped database and a new one; a restore; everything is exactly as at the backup.
const ROOT_PASSWORD = `root-${randomBytes(9).toString('hex')}`;
const SYSTEM = "'mysql', 'information_schema', 'performance_schema', 'sys'";

let harness: BlueprintHarness;

before(async () => {
  harness = await mysqlHarness('mysql-blueprint', ROOT_PASSWORD);
});

after(async () => {
  await harness?.close();
});

const sql = (statements: string) => mysqlIn(harness, statements);

/** Everything a restore must bring back, as one comparable text: schemas, exact table checksums, code, users. */
async function fingerprint(): Promise<string> {
  return sql(`
    SELECT GROUP_CONCAT(schema_name ORDER BY schema_name) FROM information_schema.schemata WHERE schema_name NOT IN (${SYSTEM});
    SELECT COUNT(*), SUM(amount), BIT_XOR(CRC32(CONCAT_WS('|', id, customer, amount, note, HEX(digest)))) FROM shop.orders;
    CHECKSUM TABLE shop.orders, shop.customers, guestbook.entries EXTENDED;
    SELECT GROUP_CONCAT(CONCAT(routine_schema, '.', routine_name) ORDER BY routine_name) FROM information_schema.routines WHERE routine_schema = 'shop';
    SELECT GROUP_CONCAT(trigger_name ORDER BY trigger_name) FROM information_schema.triggers WHERE trigger_schema = 'shop';
    SELECT GROUP_CONCAT(event_name ORDER BY event_name) FROM information_schema.events WHERE event_schema = 'shop';
    SELECT GROUP_CONCAT(table_name ORDER BY table_name) FROM information_schema.views WHERE table_schema = 'shop';
    SELECT GROUP_CONCAT(CONCAT(user, '@', host) ORDER BY user, host) FROM mysql.user WHERE user IN ('reporter', 'intruder');
  `);
}

let backup: RunActionResult;
let backupPoint: string;
let ordersChecksum: string;

it('seeds 100,000 rows with code and users, and backs everything up with mysqldump into kopia', async () => {
  await sql(`
    CREATE DATABASE shop;
    CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL) ENGINE=InnoDB;
    CREATE TABLE shop.orders (id INT PRIMARY KEY, customer INT NOT NULL, amount DECIMAL(10,2) NOT NULL, note VARCHAR(64), digest VARBINARY(16), KEY (customer)) ENGINE=InnoDB;
    USE shop;
    INSERT INTO customers SELECT seq, CONCAT('customer ', seq) FROM seq_1_to_1000;
    INSERT INTO orders SELECT seq, 1 + seq % 1000, (seq * 7919 % 100003) / 100, CONCAT('order ', seq, ' ', SHA1(seq)), UNHEX(MD5(seq)) FROM seq_1_to_100000;
    CREATE VIEW big_orders AS SELECT id, amount FROM orders WHERE amount > 900;
    CREATE FUNCTION order_total(c INT) RETURNS DECIMAL(12,2) READS SQL DATA RETURN (SELECT SUM(amount) FROM orders WHERE customer = c);
    CREATE PROCEDURE purge_small() DELETE FROM orders WHERE amount < 1;
    CREATE TRIGGER orders_note BEFORE INSERT ON orders FOR EACH ROW SET NEW.note = COALESCE(NEW.note, 'no note');
    CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DISABLE DO CALL purge_small();
    CREATE USER reporter@'%' IDENTIFIED BY 'reporter-pw';
    GRANT SELECT ON shop.* TO reporter@'%';
    CREATE TABLE IF NOT EXISTS guestbook.entries (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64) NOT NULL);
    INSERT INTO guestbook.entries (name) VALUES ('first guest'), ('second guest');
  `);
  assert.equal(await sql('SELECT COUNT(*) FROM shop.orders'), '100000');
  backupPoint = await fingerprint();
  ordersChecksum = (await sql('CHECKSUM TABLE shop.orders EXTENDED')).split('\t')[1]!;

  backup = await harness.run('backup');
  const dump = backup.outputArtifacts.mysqlDump?.KeyValue;
  assert.match(dump?.snapshotID ?? '', /^[0-9a-f]{32}$/);
  assert.ok(Number(dump?.logicalBytes) > 5_000_000, `dump of ${dump?.logicalBytes} bytes`);
  assert.ok(Number(backup.phaseOutputs.dumpToLocation?.storedBytes) > 0);
});

it('restores to the backup point: later writes are gone, the dropped database and its code come back, new ones go', async () => {
  await sql(`
    USE shop;
    INSERT INTO orders (id, customer, amount) SELECT 100000 + seq, 1, 5 FROM seq_1_to_500;
    UPDATE orders SET amount = amount + 1 WHERE id <= 10;
    DROP USER reporter@'%';
    CREATE USER intruder@'%';
    INSERT INTO guestbook.entries (name) VALUES ('late guest');
    CREATE DATABASE scratch;
    CREATE TABLE scratch.t (x INT);
  `);
  assert.notEqual(await fingerprint(), backupPoint);
  await sql('DROP DATABASE shop');

  const restore = await harness.run('restore', { artifacts: backup.outputArtifacts });
  assert.ok(Number(restore.phaseOutputs.restoreFromLocation?.bytes) > 5_000_000);
  assert.equal(await fingerprint(), backupPoint);
  assert.equal(await sql("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'scratch'"), '0');
  // The restored grants are in force: the restored user logs in and reads, no server restart needed.
  const asReporter = await execUntilSuccess(harness.clients, harness.namespace, 'mysql-0', 'mysql', ['sh', '-c', "MYSQL_PWD=reporter-pw mysql --user=reporter -N -e 'SELECT COUNT(*) FROM shop.orders'"]);
  assert.equal(asReporter.stdout.trim(), '100000');
});

it('validate reports the server and a sample table, and fails when the sample does not match', async () => {
  const validation = await harness.run('validate', { options: { sampleTable: 'shop.orders', expectedSampleRows: '100000', expectedSampleChecksum: ordersChecksum } });
  const outputs = validation.phaseOutputs.inspect ?? {};
  assert.match(String(outputs.serverVersion), /MariaDB|^\d+\.\d+/);
  assert.equal(outputs.databases, '2'); // guestbook and shop
  assert.equal(outputs.tables, '3');
  assert.equal(outputs.sampleRows, '100000');
  assert.equal(outputs.sampleChecksum, ordersChecksum);

  await assert.rejects(harness.run('validate', { label: 'validate-mismatch', options: { sampleTable: 'shop.orders', expectedSampleRows: '99999' } }), (error) => {
    assert.match(innermostMessage(error), /shop\.orders has 100000 rows, expected 99999/);
    return true;
  });
});

it('fails clearly when the credentials Secret is missing or holds a wrong password, and no run leaks the password', async () => {
  await assert.rejects(harness.run('backup', { label: 'no-secret', options: { credentialsSecret: 'no-such-secret' } }), (error) => {
    assert.match(innermostMessage(error), /no-such-secret/);
    return true;
  });
  await harness.clients.core.createNamespacedSecret({ namespace: harness.namespace, body: { metadata: { name: 'stale-credentials' }, stringData: { MYSQL_ROOT_PASSWORD: 'not-the-password' } } });
  await assert.rejects(harness.run('backup', { label: 'wrong-password', options: { credentialsSecret: 'stale-credentials' } }), (error) => {
    assert.match(innermostMessage(error), /Access denied/);
    assert.doesNotMatch(innermostMessage(error), /not-the-password/);
    return true;
  });
  await harness.assertNoSecretInHistories(ROOT_PASSWORD);
  await harness.assertNoSecretInHistories('not-the-password');
});

it('delete removes the dump from the location', async () => {
  const deletion = await harness.run('delete', { artifacts: backup.outputArtifacts });
  assert.deepEqual(deletion.phaseOutputs.deleteDump?.deletedSnapshots, [backup.outputArtifacts.mysqlDump?.KeyValue.snapshotID]);
  await assert.rejects(harness.run('restore', { label: 'restore-deleted', artifacts: backup.outputArtifacts }), (error) => {
    assert.match(innermostMessage(error), /no snapshot/);
    return true;
  });
});
