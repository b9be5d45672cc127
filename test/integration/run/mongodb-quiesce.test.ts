import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { ensureFerretDB } from '../../../scripts/stack/ferretdb.ts';
import { stackPaths } from '../../../scripts/stack/paths.ts';
import { innermostMessage } from '../../../src/diagnostics.ts';
import { createManifests } from '../../../src/kube/apply.ts';
import { blueprintHarness, type BlueprintHarness } from '../../support/database-blueprint.ts';
import { execInPod, execUntilSuccess, waitForPod } from '../../support/pod-runtime/testing.ts';
import { ensureStack } from '../../support/stack.ts';

// The shipped MongoDB blueprint's quiesce / unquiesce actions (an Application's consistency group) against
// FerretDB (playing the example's mongo:7.0 pod). FerretDB has no fsync command: the default quiesce
// (fsyncLock) is refused clearly and leaves nothing held or running; with options.quiesce none nothing is held
// and unquiesce succeeds with an empty window. The fsyncLock path itself needs a real mongod (not here).
const ROOT = join(import.meta.dirname, '../../..');
const ROOT_PASSWORD = `root-${randomBytes(9).toString('hex')}`;
const POD = 'mongodb-0';

let harness: BlueprintHarness;

before(async () => {
  await ensureStack();
  await ensureFerretDB(stackPaths(), (line) => process.stderr.write(`[ferretdb] ${line}\n`));
  harness = await blueprintHarness('mongodb-quiesce', 'mongodb', (namespace) => `statefulset/${namespace}/mongodb`);
  const { clients, namespace } = harness;
  await createManifests(clients, join(ROOT, 'examples/mongodb-app'), namespace, (file) => file.startsWith('00-config.'));
  await clients.core.patchNamespacedSecret(
    { name: 'mongodb-credentials', namespace, body: { stringData: { MONGO_INITDB_ROOT_PASSWORD: ROOT_PASSWORD } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  await createManifests(clients, join(ROOT, 'examples/mongodb-app'), namespace, (file) => file.startsWith('10-mongodb.'));
  await waitForPod(clients, namespace, POD, 'ready', (pod) => pod.status?.phase === 'Running' && (pod.status.containerStatuses ?? []).every((c) => c.ready), 180_000);
  await execUntilSuccess(clients, namespace, POD, 'mongodb', ['sh', '-c', 'mongosh "$MONGODB_URI" --quiet --eval "db.adminCommand({ ping: 1 }).ok"']);
}, { timeout: 20 * 60_000 });

after(async () => {
  await harness?.close();
});

async function mongosh(script: string): Promise<string> {
  const result = await execInPod(harness.clients, harness.namespace, POD, 'mongodb', ['sh', '-c', 'exec mongosh "$MONGODB_URI" --quiet --eval "$1"', 'sh', script]);
  assert.equal(result.exitCode, 0, `mongosh failed: ${result.stderr}`);
  return result.stdout.trim();
}

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
