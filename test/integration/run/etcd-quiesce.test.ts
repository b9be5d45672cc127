import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { innermostMessage } from '../../../src/diagnostics.ts';
import { createManifests } from '../../../src/kube/apply.ts';
import { blueprintHarness, type BlueprintHarness } from '../../support/database-blueprint.ts';
import { execUntilSuccess, waitForPod } from '../../support/pod-runtime/testing.ts';

// The shipped etcd blueprint's quiesce / unquiesce actions (an Application's consistency group) against a real
// etcd 3.6 with authentication on: no hold by design, so quiesce reports the data PVC and the revision while
// writes go on, and unquiesce succeeds with an empty window.
const ROOT = join(import.meta.dirname, '../../..');
const PASSWORD = `etcd-${randomBytes(9).toString('hex')}`;
const POD = 'etcd-0';

let harness: BlueprintHarness;

before(async () => {
  harness = await blueprintHarness('etcd-quiesce', 'etcd', (namespace) => `statefulset/${namespace}/etcd`);
  const { clients, namespace } = harness;
  await createManifests(clients, join(ROOT, 'examples/etcd-app'), namespace, (file) => file.startsWith('00-config.'));
  await clients.core.patchNamespacedSecret(
    { name: 'etcd-credentials', namespace, body: { stringData: { ETCD_ROOT_PASSWORD: PASSWORD } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  await createManifests(clients, join(ROOT, 'examples/etcd-app'), namespace, (file) => file.startsWith('10-etcd.'));
  await waitForPod(clients, namespace, POD, 'ready', (pod) => pod.status?.phase === 'Running' && (pod.status.containerStatuses ?? []).every((c) => c.ready), 180_000);
});

after(async () => {
  await harness?.close();
});

/** etcdctl in the pod as root; the runtime's exec env has the endpoint. */
async function etcdctl(script: string): Promise<string> {
  return (await execUntilSuccess(harness.clients, harness.namespace, POD, 'etcd', ['sh', '-c', `export ETCDCTL_USER=root ETCDCTL_PASSWORD="$1"; ${script}`, 'sh', PASSWORD])).stdout.trim();
}

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
