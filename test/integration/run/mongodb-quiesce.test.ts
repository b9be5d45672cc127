import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { innermostMessage } from '../../../src/diagnostics.ts';
import type { BlueprintHarness } from '../../support/database-blueprint.ts';
import { MONGODB_POD as POD, mongodbHarness, mongoshIn } from '../../support/databases/mongodb.ts';
import { execInPod } from '../../support/pod-runtime/testing.ts';

// The shipped MongoDB blueprint's quiesce / unquiesce actions (an Application's consistency group) against
// FerretDB (playing the example's mongo:7.0 pod). FerretDB has no fsync command: the default quiesce
// (fsyncLock) is refused clearly and leaves nothing held or running; with options.quiesce none nothing is held
// and unquiesce succeeds with an empty window. The fsyncLock path itself needs a real mongod (not here).
const ROOT_PASSWORD = `root-${randomBytes(9).toString('hex')}`;

let harness: BlueprintHarness;

before(async () => {
  harness = await mongodbHarness('mongodb-quiesce', ROOT_PASSWORD);
}, { timeout: 20 * 60_000 });

after(async () => {
  await harness?.close();
});

const mongosh = (script: string) => mongoshIn(harness, script);

const insert = (value: number) => mongosh(`print(db.getSiblingDB('shop').log.insertOne({ value: ${value} }).acknowledged)`);
/** What quiesce sessions left in the pod's /tmp/cairn-quiesce (directories; release verdicts end in .released). */
const sessionFiles = async () => (await execInPod(harness.clients, harness.namespace, POD, 'mongodb', ['sh', '-c', 'ls /tmp/cairn-quiesce 2>/dev/null'])).stdout.trim();

it('refuses the default quiesce (fsyncLock) on FerretDB clearly, leaving it writable with no session behind (the trap waited for the watchdog to stop)', async () => {
  await assert.rejects(harness.run('quiesce', { label: 'quiesce-fsync-lock' }), (error) => {
    assert.match(innermostMessage(error), /has no fsync command, so fsyncLock cannot quiesce it.*options\.quiesce=none/s);
    return true;
  });
  assert.equal(await insert(1), 'true');
  assert.equal(await sessionFiles(), '');
  await assert.rejects(harness.run('quiesce', { label: 'quiesce-no-pvc', options: { quiesce: 'none', pvc: 'no-such-claim' } }), (error) => {
    assert.match(innermostMessage(error), /options\.pvc: pod mongodb-0 does not mount PVC "no-such-claim" \(it mounts: data-mongodb-0\)/);
    return true;
  });
});

it('with options.quiesce none: quiesce reports the data PVC and holds nothing; unquiesce succeeds with an empty window, twice', async () => {
  const quiesce = await harness.run('quiesce', { options: { quiesce: 'none' } });
  assert.deepEqual(Object.keys(quiesce.outputArtifacts), ['quiesced']);
  const quiesced = quiesce.outputArtifacts.quiesced?.KeyValue ?? {};
  assert.equal(quiesced.pvc, 'data-mongodb-0');
  assert.match(quiesced.session ?? '', /^cairn-mongodb-[0-9a-z]+$/);
  assert.equal(quiesced.quiesce, 'none');
  assert.equal(quiesced.lockedAtMs, '');
  assert.equal(await insert(2), 'true');
  for (const label of ['unquiesce', 'unquiesce-again']) {
    const unquiesce = await harness.run('unquiesce', { label, artifacts: quiesce.outputArtifacts });
    assert.deepEqual(unquiesce.outputArtifacts.unquiesced?.KeyValue, { quiesceWindowMs: '' });
  }
  assert.equal(await sessionFiles(), '');
  await harness.assertNoSecretInHistories(ROOT_PASSWORD);
});
