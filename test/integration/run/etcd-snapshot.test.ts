import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { innermostMessage } from '../../../src/diagnostics.ts';
import type { RunActionResult } from '../../../src/run/types.ts';
import { leftoverSnapshotObjects, type BlueprintHarness } from '../../support/database-blueprint.ts';
import { b64, enableAuthentication, etcdctlIn, etcdGateway, etcdHarness, seedConfigKeys, type EtcdGateway } from '../../support/databases/etcd.ts';

// The shipped etcd blueprint's snapshot strategy against a real etcd 3.6 with authentication on: 100,000
// keys, a writer putting w/1, w/2, … all through the backup, a CSI snapshot of the data PVC with no quiesce
// (bracketed by revisions), the snapshot's files into kopia; then every key deleted, a restore into the
// scaled-down workload, and the store is exactly the live one at the restored revision: the seeded keys with
// their revisions, and the writer's keys up to that revision, each with its own revision.
const PASSWORD = `etcd-${randomBytes(9).toString('hex')}`;
const KEYS = 100_000;

let harness: BlueprintHarness;
/** etcd's JSON gateway (seeding through it is minutes faster than 100,000 etcdctl processes). */
let gateway: EtcdGateway;

before(async () => {
  harness = await etcdHarness('etcd-snapshot', PASSWORD);
  gateway = await etcdGateway(harness);
});

after(async () => {
  await harness?.close();
});

/** etcdctl as root. */
const etcdctl = (script: string) => etcdctlIn(harness, PASSWORD, script);

/** The seeded keys with their values and revisions (not the store's revision): unchanged by the writer. */
const seededFingerprint = () => etcdctl(`etcdctl get config/ --prefix -w fields | grep -v '^"\\(ClusterID\\|MemberID\\|RaftTerm\\|Revision\\)"' | sha256sum | cut -c1-64`);

/** The writer's keys on the live server: key → the revision that wrote it. */
async function writerRevisions(): Promise<Map<string, number>> {
  const range = (await gateway.post('/v3/kv/range', { key: b64('w/'), range_end: b64('w0') })) as { kvs?: { key: string; mod_revision: string }[] };
  return new Map((range.kvs ?? []).map((kv) => [Buffer.from(kv.key, 'base64').toString(), Number(kv.mod_revision)]));
}

let backup: RunActionResult;
let seeded: string;
let live: Map<string, number>;

it('backs up 100,000 keys by a CSI snapshot of the data volume with no quiesce while a writer keeps putting keys', async () => {
  await seedConfigKeys(gateway, KEYS);
  await enableAuthentication(harness, PASSWORD);
  await gateway.authenticate(PASSWORD);
  seeded = await seededFingerprint();

  let stop = false;
  let written = 0;
  const writer = (async () => {
    while (!stop) await gateway.post('/v3/kv/put', { key: b64(`w/${++written}`), value: b64(`v${written}`) });
  })();
  try {
    while (written < 30) await new Promise((r) => setTimeout(r, 200));
    backup = await harness.run('backup', { options: { strategy: 'snapshot' } });
    const afterBackup = written;
    while (written < afterBackup + 10) await new Promise((r) => setTimeout(r, 100));
  } finally {
    stop = true;
    await writer;
  }
  live = await writerRevisions();
  assert.equal(live.size, written);

  const artifact = backup.outputArtifacts.etcdVolume?.KeyValue;
  assert.ok(artifact, `artifacts: ${JSON.stringify(backup.outputArtifacts)}`);
  assert.equal(backup.outputArtifacts.etcdSnapshot, undefined);
  assert.match(artifact.volumeBackupID ?? '', /^[0-9a-f]{32}$/);
  assert.equal(artifact.pvc, 'data-etcd-0');
  assert.equal(artifact.quiesceWindowMs, '0');
  assert.ok(Number(artifact.revisionAfter) > Number(artifact.revisionBefore), `revisions ${artifact.revisionBefore} → ${artifact.revisionAfter}: the writer went on during the cut`);
  assert.ok(Number(artifact.cutWindowMs) > 0);
  assert.deepEqual(await leftoverSnapshotObjects(harness), { volumeSnapshots: [], claims: ['data-etcd-0'] });
});

it('restores into the scaled-down workload: a working member holding exactly the store at a revision inside the cut', async () => {
  await etcdctl('etcdctl del "" --prefix >/dev/null && etcdctl put after-backup 1 >/dev/null');
  const restore = await harness.run('restore', { artifacts: backup.outputArtifacts });
  const artifact = backup.outputArtifacts.etcdVolume!.KeyValue;
  const revision = Number(restore.phaseOutputs.waitHealthy?.revision);
  assert.ok(revision >= Number(artifact.revisionBefore) && revision <= Number(artifact.revisionAfter), `restored revision ${revision}, cut between ${artifact.revisionBefore} and ${artifact.revisionAfter}`);

  await gateway.authenticate(PASSWORD);
  const expected = [...live].filter(([, modRevision]) => modRevision <= revision);
  assert.deepEqual([...(await writerRevisions())].sort(), expected.sort(), 'the writer keys are those of the live store at that revision, with their revisions');
  assert.equal(await seededFingerprint(), seeded);
  assert.equal(restore.phaseOutputs.waitHealthy?.keys, String(KEYS + expected.length));
  assert.equal(await etcdctl('etcdctl get after-backup --print-value-only'), '');
  assert.equal(await etcdctl('etcdctl put after-restore 1'), 'OK');
  assert.equal(await etcdctl('etcdctl member list -w simple | cut -d, -f3'), 'etcd-0');
  await harness.assertNoSecretInHistories(PASSWORD);
});

it('a snapshot backup that fails leaves etcd serving and nothing behind', async () => {
  await assert.rejects(harness.run('backup', { label: 'bad-pvc', options: { strategy: 'snapshot', pvc: 'no-such-claim' } }), (error) => {
    assert.match(innermostMessage(error), /no-such-claim/);
    return true;
  });
  assert.equal(await etcdctl('etcdctl put after-failure 1'), 'OK');
  assert.deepEqual(await leftoverSnapshotObjects(harness), { volumeSnapshots: [], claims: ['data-etcd-0'] });
});
