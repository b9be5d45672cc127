import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { innermostMessage } from '../../../src/diagnostics.ts';
import type { RunActionResult } from '../../../src/run/types.ts';
import type { BlueprintHarness } from '../../support/database-blueprint.ts';
import { mongodbHarness, mongoshIn } from '../../support/databases/mongodb.ts';

// The shipped MongoDB blueprint against a real wire-protocol server (FerretDB playing the example's mongo:7.0
// pod, with SCRAM authentication): 101,200 documents of many BSON types in three collections of two
// databases, with collection options and indexes; a backup through Temporal and kopia; writes after it, a
// dropped database and a new one; a restore; every collection is exactly as at the backup, type for type.
const ROOT_PASSWORD = `root-${randomBytes(9).toString('hex')}`;

let harness: BlueprintHarness;

before(async () => {
  harness = await mongodbHarness('mongodb-blueprint', ROOT_PASSWORD);
}, { timeout: 20 * 60_000 });

after(async () => {
  await harness?.close();
});

const mongosh = (script: string) => mongoshIn(harness, script);

interface CollectionFingerprint {
  documents: number;
  checksum: string;
  options: unknown;
  indexes: unknown;
}

/**
 * Everything a restore must bring back, per collection of every user database: the documents (the sum modulo
 * 2^256 of the SHA-256 of each one's canonical Extended JSON, with doubles, int32s and regex flags kept as
 * stored: no server-side sort needed), the collection options and the indexes. The per-collection checksum
 * is defined as the validate action's is.
 */
async function fingerprint(): Promise<Record<string, CollectionFingerprint>> {
  return JSON.parse(
    await mongosh(`(() => {
      const result = {};
      const names = db.adminCommand({ listDatabases: 1, nameOnly: true }).databases.map((d) => d.name)
        .filter((name) => !['admin', 'config', 'local'].includes(name)).sort();
      for (const name of names) {
        const database = db.getSiblingDB(name);
        for (const info of database.getCollectionInfos().sort((a, b) => a.name.localeCompare(b.name))) {
          const collection = database.getCollection(info.name);
          let sum = 0n;
          let documents = 0;
          collection.find({}, {}, { promoteValues: false, bsonRegExp: true }).forEach((doc) => {
            sum += BigInt('0x' + require('crypto').createHash('sha256').update(EJSON.stringify(doc, { relaxed: false })).digest('hex'));
            documents++;
          });
          const indexes = collection.getIndexes().map(({ v, ns, ...spec }) => spec).sort((a, b) => a.name.localeCompare(b.name));
          const checksum = (sum % (1n << 256n)).toString(16).padStart(64, '0');
          result[name + '.' + info.name] = { documents, checksum, options: EJSON.serialize(info.options || {}, { relaxed: false }), indexes: EJSON.serialize(indexes, { relaxed: false }) };
        }
      }
      print(JSON.stringify(result));
    })()`),
  ) as Record<string, CollectionFingerprint>;
}

async function userDatabases(): Promise<string[]> {
  return JSON.parse(await mongosh("print(JSON.stringify(db.adminCommand({ listDatabases: 1, nameOnly: true }).databases.map((d) => d.name).filter((n) => !['admin', 'config', 'local'].includes(n)).sort()))")) as string[];
}

let backup: RunActionResult;
let backupPoint: Record<string, CollectionFingerprint>;

it('seeds 101,200 documents of many BSON types with options and indexes, and backs them up with mongosh into kopia', async () => {
  await mongosh(`(() => {
    const shop = db.getSiblingDB('shop');
    for (let batch = 0; batch < 100; batch++) {
      const docs = [];
      for (let i = 0; i < 1000; i++) {
        const n = batch * 1000 + i;
        docs.push({
          _id: n,
          customer: NumberInt(n % 1000),
          total: Double((n % 4000) / 4),
          quantity: NumberLong(String(n * 7919)),
          placedAt: new Date(1700000000000 + n * 60000),
          note: 'order ' + n + ' ø ☃ 🚀',
          tags: ['gift', NumberInt(n % 7), n % 2 === 0],
          ref: ObjectId(n.toString(16).padStart(24, '0')),
          digest: BinData(0, Buffer.from('digest-' + n).toString('base64')),
          shipping: { city: 'city ' + (n % 13), express: n % 5 === 0, eta: null },
          ...(n % 1000 === 0 ? { pattern: /order-\\d+/i, version: Timestamp({ t: 1700000000 + n, i: 1 }) } : {}),
        });
      }
      shop.orders.insertMany(docs);
    }
    const customers = [];
    for (let n = 0; n < 1000; n++) customers.push({ _id: ObjectId('c' + n.toString(16).padStart(23, '0')), email: 'customer' + n + '@example.com', name: 'Customer ' + n, since: new Date(1600000000000 + n * 86400000) });
    shop.customers.insertMany(customers);
    shop.customers.createIndex({ email: 1 }, { unique: true, name: 'email_unique' });
    shop.customers.createIndex({ name: 1, since: -1 }, { name: 'name_since' });
    shop.orders.createIndex({ customer: 1 }, { name: 'by_customer' });
    const inventory = db.getSiblingDB('inventory');
    inventory.createCollection('events', { capped: true, size: 4194304 });
    const events = [];
    for (let n = 0; n < 200; n++) events.push({ _id: n, kind: n % 3 === 0 ? 'restock' : 'sale', sku: 'sku-' + (n % 20), at: new Date(1700000000000 + n * 1000) });
    inventory.events.insertMany(events);
    inventory.events.createIndex({ sku: 1 }, { sparse: true, name: 'sku_sparse' });
  })()`);
  backupPoint = await fingerprint();
  assert.deepEqual(Object.keys(backupPoint), ['inventory.events', 'shop.customers', 'shop.orders']);
  assert.equal(backupPoint['shop.orders']?.documents, 100_000);
  assert.equal(backupPoint['shop.customers']?.documents, 1_000);
  assert.equal(backupPoint['inventory.events']?.documents, 200);

  backup = await harness.run('backup');
  const dump = backup.outputArtifacts.mongoDump?.KeyValue;
  assert.match(dump?.snapshotID ?? '', /^[0-9a-f]{32}$/);
  assert.equal(dump?.format, 'cairn-ejson-v1');
  assert.equal(dump?.oplog, 'false');
  assert.ok(Number(dump?.logicalBytes) > 20_000_000, `dump of ${dump?.logicalBytes} bytes`);
  assert.ok(Number(backup.phaseOutputs.dumpToLocation?.storedBytes) > 0);
  assert.equal(backup.phaseOutputs.inspect?.replicaSet, '');
  assert.equal(backup.phaseOutputs.inspect?.databases, '2');
});

it('restores to the backup point: later writes are gone, the dropped database comes back with options and indexes, new ones go', async () => {
  await mongosh(`(() => {
    const shop = db.getSiblingDB('shop');
    const late = [];
    for (let n = 100000; n < 100500; n++) late.push({ _id: n, customer: NumberInt(1), total: Double(5) });
    shop.orders.insertMany(late);
    for (let n = 0; n < 10; n++) shop.orders.updateOne({ _id: n }, { $set: { total: NumberInt(0) } });
    shop.customers.deleteMany({ email: /^customer1\\d@/ });
    shop.customers.dropIndex('name_since');
    shop.scratch.insertOne({ x: 1 });
    db.getSiblingDB('inventory').events.drop();
    db.getSiblingDB('late').notes.insertOne({ text: 'written after the backup' });
  })()`);
  assert.deepEqual(await userDatabases(), ['inventory', 'late', 'shop']);
  await mongosh("db.getSiblingDB('shop').dropDatabase()");

  const restore = await harness.run('restore', { artifacts: backup.outputArtifacts });
  assert.equal(Number(restore.phaseOutputs.restoreFromLocation?.bytes), Number(backup.outputArtifacts.mongoDump?.KeyValue.logicalBytes));
  assert.deepEqual(await fingerprint(), backupPoint);
  assert.deepEqual(await userDatabases(), ['inventory', 'shop']);
});

it('validate reports the server and a sample collection, and fails when the sample does not match', async () => {
  const validation = await harness.run('validate', {
    options: { sampleCollection: 'shop.customers', expectedSampleDocuments: '1000', expectedSampleChecksum: backupPoint['shop.customers']!.checksum },
  });
  const outputs = validation.phaseOutputs.inspect ?? {};
  assert.match(String(outputs.serverVersion), /^\d+\.\d+/);
  assert.equal(outputs.databases, '2');
  assert.equal(outputs.collections, '3');
  assert.equal(outputs.documents, '101200');
  assert.equal(outputs.sampleDocuments, '1000');
  assert.equal(outputs.sampleChecksum, backupPoint['shop.customers']!.checksum);

  await assert.rejects(harness.run('validate', { label: 'validate-mismatch', options: { sampleCollection: 'inventory.events', expectedSampleDocuments: '199' } }), (error) => {
    assert.match(innermostMessage(error), /inventory\.events has 200 documents, expected 199/);
    return true;
  });
});

it('fails clearly on a bad dumpTool, a missing Secret or a wrong password, and no run leaks the password', async () => {
  await assert.rejects(harness.run('backup', { label: 'bad-tool', options: { dumpTool: 'bsondump' } }), (error) => {
    assert.match(innermostMessage(error), /options\.dumpTool must be mongosh or mongodump, not bsondump/);
    return true;
  });
  // The real-cluster path: the image here has no mongo-tools, and the backup says so instead of dumping nothing.
  await assert.rejects(harness.run('backup', { label: 'no-mongodump', options: { dumpTool: 'mongodump' } }), (error) => {
    assert.match(innermostMessage(error), /the container has no mongodump/);
    return true;
  });
  await assert.rejects(harness.run('backup', { label: 'no-secret', options: { credentialsSecret: 'no-such-secret' } }), (error) => {
    assert.match(innermostMessage(error), /no-such-secret/);
    return true;
  });
  await harness.clients.core.createNamespacedSecret({
    namespace: harness.namespace,
    body: { metadata: { name: 'stale-credentials' }, stringData: { MONGO_INITDB_ROOT_USERNAME: 'root', MONGO_INITDB_ROOT_PASSWORD: 'not-the-password' } },
  });
  await assert.rejects(harness.run('backup', { label: 'wrong-password', options: { credentialsSecret: 'stale-credentials' } }), (error) => {
    assert.match(innermostMessage(error), /Authentication failed/);
    assert.doesNotMatch(innermostMessage(error), /not-the-password/);
    return true;
  });
  await harness.assertNoSecretInHistories(ROOT_PASSWORD);
  await harness.assertNoSecretInHistories('not-the-password');
});

it('delete removes the dump from the location', async () => {
  const deletion = await harness.run('delete', { artifacts: backup.outputArtifacts });
  assert.deepEqual(deletion.phaseOutputs.deleteDump?.deletedSnapshots, [backup.outputArtifacts.mongoDump?.KeyValue.snapshotID]);
  await assert.rejects(harness.run('restore', { label: 'restore-deleted', artifacts: backup.outputArtifacts }), (error) => {
    assert.match(innermostMessage(error), /no snapshot/);
    return true;
  });
});

// Last: a refused dump has already dropped the user databases (restore streams; it cannot look ahead).
it('refuses a dump that ends before its complete record', async () => {
  const truncated = [
    '{"cairnMongoDump":{"$numberInt":"1"}}',
    '{"collection":{"db":"shop","name":"orders","type":"collection","options":{},"indexes":[]}}',
    '{"d":{"_id":{"$numberInt":"1"}}}',
  ].join('\n');
  const inline = `apiVersion: cairn.io/v1alpha1
kind: Blueprint
metadata: { name: mongodb-truncated }
actions:
  backup:
    kinds: [StatefulSet]
    outputArtifacts:
      mongoDump:
        keyValue:
          snapshotID: "{{Phases.dump.Output.snapshotID}}"
          format: cairn-ejson-v1
    phases:
      - name: dump
        func: BackupStream
        args:
          namespace: "{{Target.namespace}}"
          pod: "{{index Target.pods 0}}"
          command: [sh, -c, ${JSON.stringify(`printf '%s\\n' '${truncated}'`)}]
`;
  const partial = await harness.run('backup', { label: 'truncated-backup', inline });
  await assert.rejects(harness.run('restore', { label: 'restore-truncated', artifacts: partial.outputArtifacts }), (error) => {
    assert.match(innermostMessage(error), /the dump ends before its complete record/);
    return true;
  });
});
