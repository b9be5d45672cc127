import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { innermostMessage } from '../../../src/diagnostics.ts';
import type { RunActionResult } from '../../../src/run/types.ts';
import { leftoverSnapshotObjects, startPodWriter, type BlueprintHarness } from '../../support/database-blueprint.ts';
import { MONGODB_POD as POD, mongodbHarness, mongoshIn, waitForMongoDB } from '../../support/databases/mongodb.ts';

// The shipped MongoDB blueprint's snapshot strategy against FerretDB (playing the example's mongo:7.0 pod, on
// SQLite). FerretDB has no fsync command: the default quiesce (fsyncLock) is refused with a clear message and
// leaves the server writable; with options.quiesce none the snapshot is crash-consistent (SQLite in WAL mode
// commits durably, the CSI cut is point-in-time). 100,000 documents, a writer inserting _id 1, 2, … all through
// the backup; then a dropped database, a restore into the scaled-down workload, and the documents are exactly
// those of one instant inside the backup.
const ROOT_PASSWORD = `root-${randomBytes(9).toString('hex')}`;

let harness: BlueprintHarness;

before(async () => {
  harness = await mongodbHarness('mongodb-snapshot', ROOT_PASSWORD);
}, { timeout: 20 * 60_000 });

after(async () => {
  await harness?.close();
});

const mongosh = (script: string) => mongoshIn(harness, script);

/** The seeded orders: count and the sum of the SHA-256 of each document's canonical Extended JSON. */
const ordersChecksum = () =>
  mongosh(`let sum = 0n, n = 0; db.getSiblingDB('shop').orders.find().forEach((d) => { sum += BigInt('0x' + require('crypto').createHash('sha256').update(EJSON.stringify(d, { relaxed: false })).digest('hex')); n++; }); print(n + ' ' + (sum % (1n << 256n)).toString(16))`);
/** How many writer documents there are and whether they are exactly _id 1 … n. */
const writerDocuments = () =>
  mongosh(`const ids = db.getSiblingDB('shop').log.find({}, { _id: 1 }).toArray().map((d) => d._id).sort((a, b) => a - b); print(ids.every((id, i) => id === i + 1) ? 'ids 1..' + ids.length : 'gap: ' + ids.slice(0, 20))`);
const logged = async () => Number(await mongosh("print(db.getSiblingDB('shop').log.countDocuments())"));

it('refuses the default quiesce on FerretDB, which has no fsyncLock, and leaves it writable with nothing behind', async () => {
  assert.match(await mongosh("try { db.fsyncLock(); print('locked') } catch (e) { print(e.codeName) }"), /^CommandNotFound$/);
  await assert.rejects(harness.run('backup', { label: 'fsync-lock', options: { strategy: 'snapshot' } }), (error) => {
    assert.match(innermostMessage(error), /has no fsync command, so fsyncLock cannot quiesce it.*options\.quiesce=none/s);
    return true;
  });
  assert.equal(await mongosh("print(db.getSiblingDB('probe').t.insertOne({ at: 1 }).acknowledged)"), 'true');
  assert.deepEqual(await leftoverSnapshotObjects(harness), { volumeSnapshots: [], claims: ['data-mongodb-0'] });
});

let backup: RunActionResult;
let seeded: string;
let before_: number;
let afterBackup: number;

it('backs up 100,000 documents by a crash-consistent CSI snapshot (options.quiesce none) while a writer keeps inserting', async () => {
  await mongosh(`const orders = db.getSiblingDB('shop').orders; for (let b = 0; b < 100; b++) { const docs = []; for (let i = 0; i < 1000; i++) { const n = b * 1000 + i; docs.push({ _id: n, customer: n % 1000, total: (n % 4000) / 4, note: 'order ' + n }); } orders.insertMany(docs); }`);
  seeded = await ordersChecksum();
  assert.match(seeded, /^100000 [0-9a-f]+$/);
  const writer = startPodWriter(harness, POD, 'mongodb', `exec mongosh "$MONGODB_URI" --quiet --eval "const log = db.getSiblingDB('shop').log; for (let i = 1; !fs.existsSync('/tmp/stop-writer'); i++) { log.insertOne({ _id: i, at: new Date() }); sleep(10); }"`);
  try {
    while ((await logged()) < 30) await new Promise((r) => setTimeout(r, 200));
    before_ = await logged();
    backup = await harness.run('backup', { options: { strategy: 'snapshot', quiesce: 'none' } });
    afterBackup = await logged();
    assert.ok(afterBackup > before_, 'the writer kept inserting around the backup');
  } finally {
    await writer.stop();
  }

  const artifact = backup.outputArtifacts.mongoSnapshot?.KeyValue;
  assert.ok(artifact, `artifacts: ${JSON.stringify(backup.outputArtifacts)}`);
  assert.equal(backup.outputArtifacts.mongoDump, undefined);
  assert.match(artifact.volumeBackupID ?? '', /^[0-9a-f]{32}$/);
  assert.equal(artifact.pvc, 'data-mongodb-0');
  assert.equal(artifact.quiesce, 'none');
  assert.equal(artifact.quiesceWindowMs, '0');
  assert.deepEqual(await leftoverSnapshotObjects(harness), { volumeSnapshots: [], claims: ['data-mongodb-0'] });
});

it('restores into the scaled-down workload: the seeded documents exactly, and the writer\'s up to one instant inside the backup', async () => {
  await mongosh("db.getSiblingDB('shop').dropDatabase(); db.getSiblingDB('scratch').t.insertOne({ x: 1 })");
  const restore = await harness.run('restore', { artifacts: backup.outputArtifacts });
  assert.ok(Number(restore.phaseOutputs.restoreFiles?.size) > 1_000_000);
  await waitForMongoDB(harness);
  assert.equal(await ordersChecksum(), seeded);
  const restored = await logged();
  assert.ok(restored >= before_ && restored <= afterBackup, `restored ${restored} writer documents, the backup ran between ${before_} and ${afterBackup}`);
  assert.equal(await writerDocuments(), `ids 1..${restored}`);
  assert.equal(await mongosh("print(db.getSiblingDB('admin').adminCommand({ listDatabases: 1, nameOnly: true }).databases.map((d) => d.name).filter((n) => n === 'scratch').length)"), '0');
  assert.equal(await mongosh("print(db.getSiblingDB('shop').log.insertOne({ _id: -1 }).acknowledged)"), 'true');
  await harness.assertNoSecretInHistories(ROOT_PASSWORD);
});
