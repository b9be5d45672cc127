import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { innermostMessage } from '../../../src/diagnostics.ts';
import type { RunActionResult } from '../../../src/run/types.ts';
import { backupGarbage, type BlueprintHarness } from '../../support/database-blueprint.ts';
import { b64, enableAuthentication, etcdctlIn, etcdGateway, etcdHarness, seedConfigKeys } from '../../support/databases/etcd.ts';

// The shipped etcd blueprint against a real etcd 3.6 playing the example's pod, with authentication on:
// 100,000 keys with history and a lease; etcdctl snapshot save streamed into kopia; writes after it and every
// key deleted; a restore that rebuilds the member with etcdutl, stops etcd, swaps the member directory and
// starts it again; every key, value and revision is back.
const PASSWORD = `etcd-${randomBytes(9).toString('hex')}`;
const KEYS = 100_000;

let harness: BlueprintHarness;

before(async () => {
  harness = await etcdHarness('etcd-blueprint', PASSWORD);
});

after(async () => {
  await harness?.close();
});

/** etcdctl as root (once authentication is on). */
const etcdctl = (script: string) => etcdctlIn(harness, PASSWORD, script);

/** Every key with its value, lease and revisions, and the store's revision, hashed: equal means the same store. */
const fingerprint = () => etcdctl(`etcdctl get "" --prefix -w fields | grep -v '^"\\(ClusterID\\|MemberID\\|RaftTerm\\)"' | sha256sum | cut -c1-64; etcdctl get "" --prefix --count-only -w fields | sed -n 's/^"Count" : //p'`);

/** The seed goes through etcd's JSON gateway (before authentication is on). */
async function seed(): Promise<void> {
  const gateway = await etcdGateway(harness);
  await seedConfigKeys(gateway, KEYS);
  // History: a rewritten key (version 2), a deleted one, and a key bound to a lease.
  await gateway.post('/v3/kv/put', { key: b64('config/000001'), value: b64('rewritten') });
  await gateway.post('/v3/kv/deleterange', { key: b64('config/000002') });
  await gateway.post('/v3/kv/put', { key: b64('config/000002'), value: b64('recreated') });
  const lease = await gateway.post('/v3/lease/grant', { TTL: 3600 });
  await gateway.post('/v3/kv/put', { key: b64('session/worker-1'), value: b64('alive'), lease: lease.ID });
}

let backup: RunActionResult;
let backupPoint: string;

it('seeds 100,000 keys, turns authentication on, and streams an etcdctl snapshot into kopia', async () => {
  await seed();
  await enableAuthentication(harness, PASSWORD);
  backupPoint = await fingerprint();
  assert.match(backupPoint, new RegExp(`^[0-9a-f]{64}\\n${KEYS + 1}$`));

  backup = await harness.run('backup');
  const snapshot = backup.outputArtifacts.etcdSnapshot?.KeyValue;
  assert.match(snapshot?.snapshotID ?? '', /^[0-9a-f]{32}$/);
  assert.ok(Number(snapshot?.logicalBytes) > 5_000_000, `snapshot of ${snapshot?.logicalBytes} bytes`);
  assert.equal(await etcdctl('ls -A "$ETCD_DATA_DIR" | tr "\\n" " "'), 'member', 'the staged snapshot is removed');
});

it('restores every key, value, lease and revision after later writes and a full delete', async () => {
  await etcdctl('etcdctl put config/000003 changed >/dev/null && etcdctl put late/1 x >/dev/null');
  assert.notEqual(await fingerprint(), backupPoint);
  await etcdctl('etcdctl del "" --prefix >/dev/null');
  assert.equal(await etcdctl('etcdctl get "" --prefix --count-only -w fields | sed -n "s/^\\"Count\\" : //p"'), '0');
  const podBefore = await harness.clients.core.readNamespacedPod({ namespace: harness.namespace, name: 'etcd-0' });

  const restore = await harness.run('restore', { artifacts: backup.outputArtifacts });
  assert.equal(restore.phaseOutputs.inspect?.memberName, 'etcd-0');
  assert.equal(restore.phaseOutputs.waitHealthy?.keys, String(KEYS + 1));
  assert.equal(await fingerprint(), backupPoint);
  const podAfter = await harness.clients.core.readNamespacedPod({ namespace: harness.namespace, name: 'etcd-0' });
  assert.notEqual(podAfter.metadata?.uid, podBefore.metadata?.uid, 'etcd was stopped and started again');
  assert.equal(await etcdctl('etcdctl get session/worker-1 --print-value-only'), 'alive');
  assert.equal(await etcdctl('ls -A "$ETCD_DATA_DIR/.cairn-replaced"'), 'member', 'the replaced member is kept once');
});

it('validate reports health and counts, and fails when the count is not the expected one', async () => {
  const validation = await harness.run('validate', { options: { expectedKeys: String(KEYS + 1), samplePrefix: 'session/', expectedSampleKeys: '1' } });
  const outputs = validation.phaseOutputs.inspect ?? {};
  assert.equal(outputs.keys, String(KEYS + 1));
  assert.equal(outputs.sampleKeys, '1');
  assert.equal(outputs.serverVersion, '3.6.4');
  assert.ok(Number(outputs.dbSize) > 5_000_000);

  await assert.rejects(harness.run('validate', { label: 'validate-mismatch', options: { expectedKeys: '7' } }), (error) => {
    assert.match(innermostMessage(error), new RegExp(`etcd holds ${KEYS + 1} keys, expected 7`));
    return true;
  });
});

it('a backup that is not an etcd snapshot is refused before etcd is stopped', async () => {
  const garbage = await backupGarbage(harness, 'etcdSnapshot', 'not-a-snapshot');
  const podBefore = await harness.clients.core.readNamespacedPod({ namespace: harness.namespace, name: 'etcd-0' });
  await assert.rejects(harness.run('restore', { label: 'restore-garbage', artifacts: garbage.outputArtifacts }), (error) => {
    assert.match(innermostMessage(error), /phase stageSnapshot/);
    return true;
  });
  const podAfter = await harness.clients.core.readNamespacedPod({ namespace: harness.namespace, name: 'etcd-0' });
  assert.equal(podAfter.metadata?.uid, podBefore.metadata?.uid, 'etcd was never stopped');
  assert.equal(await fingerprint(), backupPoint);
});

it('fails on a wrong password without leaking it, and no run leaks the real one', async () => {
  await harness.clients.core.createNamespacedSecret({ namespace: harness.namespace, body: { metadata: { name: 'stale-credentials' }, stringData: { ETCD_ROOT_PASSWORD: 'not-the-password' } } });
  await assert.rejects(harness.run('validate', { label: 'wrong-password', options: { credentialsSecret: 'stale-credentials' } }), (error) => {
    assert.match(innermostMessage(error), /authentication failed/);
    assert.doesNotMatch(innermostMessage(error), /not-the-password/);
    return true;
  });
  await harness.assertNoSecretInHistories(PASSWORD);
  await harness.assertNoSecretInHistories('not-the-password');
});

it('delete removes the snapshot from the location', async () => {
  const deletion = await harness.run('delete', { artifacts: backup.outputArtifacts });
  assert.deepEqual(deletion.phaseOutputs.deleteSnapshot?.deletedSnapshots, [backup.outputArtifacts.etcdSnapshot?.KeyValue.snapshotID]);
});
