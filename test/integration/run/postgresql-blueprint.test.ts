import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { BlueprintHarness } from '../../support/database-blueprint.ts';
import { postgresHarness, psqlIn } from '../../support/databases/postgresql.ts';

// The shipped PostgreSQL blueprint against a real PostgreSQL server playing the example StatefulSet's pod:
// a backup through Temporal and kopia, a change, a restore, and the data is back as it was.
let harness: BlueprintHarness;

before(async () => {
  harness = await postgresHarness('pg-blueprint');
});

after(async () => {
  await harness?.close();
});

const psql = (sql: string) => psqlIn(harness, sql);

it('backs up with pg_dumpall into kopia and restores the database to the backup point', async () => {
  await psql("CREATE TABLE IF NOT EXISTS orders (id int PRIMARY KEY, item text); INSERT INTO orders VALUES (1, 'anvil'), (2, 'rope') ON CONFLICT DO NOTHING;");
  const backup = await harness.run('backup');
  const dump = backup.outputArtifacts.pgDump?.KeyValue;
  assert.match(dump?.snapshotID ?? '', /^[0-9a-f]{32}$/);
  assert.ok(Number(dump?.logicalBytes) > 1000, `dump of ${dump?.logicalBytes} bytes`);
  assert.ok(Number(backup.phaseOutputs.dumpToLocation?.storedBytes) > 0);

  await psql("DELETE FROM orders WHERE id = 1; INSERT INTO orders VALUES (3, 'dynamite'); CREATE TABLE scratch (x int);");
  assert.equal(await psql('SELECT string_agg(item, \',\' ORDER BY id) FROM orders'), 'rope,dynamite');

  await harness.run('restore', { artifacts: backup.outputArtifacts });
  assert.equal(await psql('SELECT string_agg(item, \',\' ORDER BY id) FROM orders'), 'anvil,rope');
  assert.equal(await psql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'scratch'"), '0');
});
