import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { innermostMessage } from '../../../src/diagnostics.ts';
import type { BlueprintHarness } from '../../support/database-blueprint.ts';
import { etcdctlIn, etcdHarness } from '../../support/databases/etcd.ts';

// The shipped etcd blueprint's quiesce / unquiesce actions (an Application's consistency group) against a real
// etcd 3.6 with authentication on: no hold by design, so quiesce reports the data PVC and the revision while
// writes go on, and unquiesce succeeds with an empty window.
const PASSWORD = `etcd-${randomBytes(9).toString('hex')}`;

let harness: BlueprintHarness;

before(async () => {
  harness = await etcdHarness('etcd-quiesce', PASSWORD);
});

after(async () => {
  await harness?.close();
});

/** etcdctl as root. */
const etcdctl = (script: string) => etcdctlIn(harness, PASSWORD, script);

const revision = async () => Number(await etcdctl(`etcdctl endpoint status -w fields | sed -n 's/^"Revision" : //p'`));

it('quiesce reports the data PVC and the revision and holds nothing; unquiesce succeeds with an empty window, twice', async () => {
  await etcdctl('etcdctl put config/before quiesce');
  const before_ = await revision();
  const quiesce = await harness.run('quiesce');
  const quiesced = quiesce.outputArtifacts.quiesced?.KeyValue;
  assert.ok(quiesced, `artifacts: ${JSON.stringify(quiesce.outputArtifacts)}`);
  assert.equal(quiesced.pvc, 'data-etcd-0');
  assert.match(quiesced.session ?? '', /^cairn-etcd-[0-9a-z]+$/);
  assert.equal(Number(quiesced.revision), before_);
  // No hold: a write goes through between quiesce and unquiesce.
  assert.match(await etcdctl('etcdctl put config/during quiesce'), /^OK$/);
  assert.equal(await revision(), before_ + 1);
  for (const label of ['unquiesce', 'unquiesce-again']) {
    const unquiesce = await harness.run('unquiesce', { label, artifacts: quiesce.outputArtifacts });
    assert.deepEqual(unquiesce.outputArtifacts.unquiesced?.KeyValue, { quiesceWindowMs: '' });
  }
  await harness.assertNoSecretInHistories(PASSWORD);
});

it('quiesce refuses a PVC the pod does not mount', async () => {
  await assert.rejects(harness.run('quiesce', { label: 'quiesce-no-pvc', options: { pvc: 'no-such-claim' } }), (error) => {
    assert.match(innermostMessage(error), /options\.pvc: pod etcd-0 does not mount PVC "no-such-claim" \(it mounts: data-etcd-0\)/);
    return true;
  });
});
