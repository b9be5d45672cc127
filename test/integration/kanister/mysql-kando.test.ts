import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { repositoryFor } from '../../../activities/functions/exec-target.ts';
import type { FunctionContext } from '../../../activities/functions/types.ts';
import { listSnapshotEntries } from '../../../activities/kopia/snapshots.ts';
import { innermostMessage } from '../../../src/diagnostics.ts';
import { importKanisterFile } from '../../../src/kanister/import.ts';
import type { RunActionResult } from '../../../src/run/types.ts';
import type { TemplateContext } from '../../../src/template/context.ts';
import type { BlueprintHarness } from '../../support/database-blueprint.ts';
import { mysqlHarness, mysqlIn } from '../../support/databases/mysql.ts';
import { ensureStack } from '../../support/stack.ts';
import { assertPodRuntimeHasKando } from './world.ts';

// The end-to-end test: a Kanister-style MySQL blueprint whose KubeTask pods dump with mysqldump and
// push and pull the dump with `kando location` (test/fixtures/kanister/mysql-kando.yaml), imported with the
// importer and run unchanged through Temporal against MariaDB playing the example's mysql:8.0 pod. kando in
// those pods reaches the run's location only through the environment Cairn injects.
const ROOT = join(import.meta.dirname, '../../..');
const ROOT_PASSWORD = `root-${randomBytes(9).toString('hex')}`;

let harness: BlueprintHarness;
let blueprint: string;

before(async () => {
  assertPodRuntimeHasKando(await ensureStack());
  const imported = await importKanisterFile(join(ROOT, 'test/fixtures/kanister/mysql-kando.yaml'));
  assert.deepEqual(imported.diagnostics.filter((d) => d.severity === 'error'), []);
  blueprint = imported.yaml!;
  // The shipped blueprint's name goes unused: every run gives the imported one inline.
  harness = await mysqlHarness('kanister-mysql-kando', ROOT_PASSWORD);
});

after(async () => {
  await harness?.close();
});

const run = (action: string, input: Parameters<BlueprintHarness['run']>[1] = {}) => harness.run(action, { inline: blueprint, ...input });

const sql = (statements: string) => mysqlIn(harness, statements);

/** Row counts and exact table checksums of the data a restore must bring back. */
async function fingerprint(): Promise<string> {
  return sql(`
    SELECT COUNT(*), SUM(amount) FROM shop.orders;
    CHECKSUM TABLE shop.orders, shop.customers EXTENDED;
  `);
}

async function repository() {
  const template = { Namespace: harness.namespace, Time: new Date(0).toISOString(), Phases: {}, ArtifactsIn: {}, Options: {}, Object: {} } as unknown as TemplateContext;
  return repositoryFor({ template, kube: () => harness.clients } as unknown as FunctionContext);
}

async function kandoSecrets(): Promise<string[]> {
  const list = await harness.clients.core.listNamespacedSecret({ namespace: harness.namespace, labelSelector: 'cairn.io/kando-location=true' });
  return list.items.map((secret) => secret.metadata!.name!);
}

let backup: RunActionResult;
let atBackup: string;

it('backs up with mysqldump | kando location push in a KubeTask pod, into the run profile\'s repository', async () => {
  await sql(`
    CREATE DATABASE shop;
    USE shop;
    CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL);
    CREATE TABLE shop.orders (id INT PRIMARY KEY, customer INT NOT NULL, amount DECIMAL(10,2) NOT NULL, note VARCHAR(64));
    INSERT INTO shop.customers SELECT seq, CONCAT('customer ', seq) FROM seq_1_to_500;
    INSERT INTO shop.orders SELECT seq, 1 + seq % 500, (seq * 7919 % 100003) / 100, CONCAT('order ', seq) FROM seq_1_to_20000;
  `);
  atBackup = await fingerprint();

  backup = await run('backup');
  const artifact = backup.outputArtifacts.mysqlBackup?.KeyValue ?? {};
  assert.match(artifact.path ?? '', new RegExp(`^/mysql-backups/${harness.namespace}/mysql/\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\d/dump\\.sql\\.gz$`));
  // kando prints Kanister's kopia snapshot info under the --output-name it was given.
  const info = JSON.parse(artifact.kopiaSnapshot ?? '{}') as { id?: string; logicalSize?: number; physicalSize?: number };
  assert.match(info.id ?? '', /^[0-9a-f]{32}$/);
  assert.ok((info.logicalSize ?? 0) > 10_000, `dump of ${info.logicalSize} bytes`);
  assert.equal(info.physicalSize, 0);

  // The snapshot is in the application's repository, under the artifact's path, pinned like Cairn's own.
  const snapshots = await listSnapshotEntries(await repository());
  const pushed = snapshots.find((snapshot) => snapshot.id === info.id);
  assert.ok(pushed, 'kando\'s snapshot is in the repository Cairn opens for the application');
  assert.equal(pushed.source.path, artifact.path);
  assert.equal(pushed.source.host, harness.namespace);
  assert.deepEqual(pushed.pins, ['cairn']);
  assert.equal(pushed.tags['cairn-function'], 'kando');
  // The per-phase Secret that carried the location is gone with the phase.
  assert.deepEqual(await kandoSecrets(), []);
});

it('restores with kando location pull | mysql: rows written after the backup are gone, checksums are as at the backup', async () => {
  await sql(`
    USE shop;
    INSERT INTO shop.orders (id, customer, amount) SELECT 20000 + seq, 1, 5 FROM seq_1_to_300;
    UPDATE shop.orders SET amount = amount + 1 WHERE id <= 10;
    DELETE FROM shop.customers WHERE id > 400;
  `);
  assert.notEqual(await fingerprint(), atBackup);

  const restore = await run('restore', { artifacts: backup.outputArtifacts });
  assert.equal(restore.phaseOutputs.restoreFromLocation?.restored, backup.outputArtifacts.mysqlBackup?.KeyValue.path);
  assert.equal(await fingerprint(), atBackup);
  assert.equal(await sql('SELECT COUNT(*) FROM shop.orders WHERE id > 20000'), '0');
  assert.deepEqual(await kandoSecrets(), []);
});

it('fails a restore of a path nothing was pushed to, saying so, and leaks no password into any history', async () => {
  const missing = { mysqlBackup: { KeyValue: { path: '/mysql-backups/nothing/here/dump.sql.gz', kopiaSnapshot: '{}' } } };
  await assert.rejects(run('restore', { label: 'restore-missing', artifacts: missing }), (error) => {
    assert.match(innermostMessage(error), /nothing was pushed to \/mysql-backups\/nothing\/here\/dump\.sql\.gz/);
    return true;
  });
  const { password } = (await repository()).session;
  await harness.assertNoSecretInHistories(ROOT_PASSWORD);
  await harness.assertNoSecretInHistories(password);
});

it('deletes the dump with kando location delete --kopia-snapshot', async () => {
  const id = (JSON.parse(backup.outputArtifacts.mysqlBackup!.KeyValue.kopiaSnapshot!) as { id: string }).id;
  await run('delete', { artifacts: backup.outputArtifacts });
  const snapshots = await listSnapshotEntries(await repository());
  assert.equal(snapshots.find((snapshot) => snapshot.id === id), undefined);
  await assert.rejects(run('restore', { label: 'restore-deleted', artifacts: backup.outputArtifacts }), (error) => {
    assert.match(innermostMessage(error), /nothing was pushed to/);
    return true;
  });
});
