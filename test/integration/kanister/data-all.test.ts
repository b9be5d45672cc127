import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Repository } from '../../../activities/kopia/repository.ts';
import { listSnapshotEntries } from '../../../activities/kopia/snapshots.ts';
import { applicationRepository, treeManifest, writeAwkwardTree, type TreeEntry } from '../../support/data-functions.ts';
import { claimVolumeDir, scaleStatefulSet, waitForPodGone } from '../../support/pod-runtime/testing.ts';
import { createDataStatefulSet, kanisterWorld, type KanisterWorld } from './world.ts';

// BackupDataAll, RestoreDataAll, DeleteDataAll over the two pods of a StatefulSet played by the pod runtime,
// each with its own PVC (a real CSI volume directory); BackupDataStats on one pod's backup; CheckRepository
// on a used and an unused application.
let world: KanisterWorld;
let repository: Repository;
const volumes: Record<string, string> = {};
const originals: Record<string, TreeEntry[]> = {};
const target = () => `statefulset/${world.ns}/db`;

before(async () => {
  world = await kanisterWorld('kanister-data-all');
  const { clients, ns } = world;
  await createDataStatefulSet(world, 'db', 2);
  for (const pod of ['db-0', 'db-1']) {
    volumes[pod] = await claimVolumeDir(clients, world.stack.state, ns, `data-${pod}`);
    writeAwkwardTree(volumes[pod], pod);
    originals[pod] = treeManifest(volumes[pod]);
  }
  repository = await applicationRepository(clients, ns);
});

after(async () => {
  await world?.close();
});

let backupInfo: string;

describe('BackupDataAll', () => {
  it("backs up includePath of every pod under <prefix>/<pod> and outputs Kanister's BackupAllInfo", async () => {
    const outcome = await world.step('BackupDataAll', { namespace: world.ns, container: 'main', includePath: '/data', backupArtifactPrefix: 'bucket/db-all' }, { target: target() });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
    backupInfo = String(outcome.outputs.BackupAllInfo);
    const info = JSON.parse(backupInfo) as Record<string, { PodName: string; BackupID: string; BackupTag: string }>;
    assert.deepEqual(Object.keys(info).sort(), ['db-0', 'db-1']);
    const snapshots = await listSnapshotEntries(repository);
    for (const pod of ['db-0', 'db-1']) {
      assert.equal(info[pod]!.PodName, pod);
      const snapshot = snapshots.find((s) => s.id === info[pod]!.BackupID);
      assert.ok(snapshot, `snapshot of ${pod}`);
      assert.equal(snapshot.source.path, `/bucket/db-all/${pod}`);
      assert.equal(snapshot.tags.backupTag, info[pod]!.BackupTag);
      assert.equal(snapshot.tags.pod, `${world.ns}/${pod}`);
    }
    assert.notEqual(info['db-0']!.BackupTag, info['db-1']!.BackupTag);
    assert.ok(Number(outcome.outputs.size) > 600_000);
  });

  it('fails naming the pod that does not exist, after trying the others', async () => {
    const outcome = await world.step('BackupDataAll', { namespace: world.ns, pods: 'db-0 db-9', container: 'main', includePath: '/data', backupArtifactPrefix: 'bucket/db-missing' }, { target: target() });
    assert.ok(!outcome.ok);
    assert.match(outcome.message, new RegExp(`pod db-9: pod ${world.ns}/db-9 not found`));
    assert.doesNotMatch(outcome.message, /pod db-0:/);
    const tried = (await listSnapshotEntries(repository)).filter((s) => s.source.path === '/bucket/db-missing/db-0');
    assert.equal(tried.length, 1, 'the pod that exists was backed up');
  });
});

describe('BackupDataStats', () => {
  it("counts the files and bytes of a pod's backup as it streams from kopia", async () => {
    const info = JSON.parse(backupInfo) as Record<string, { BackupID: string }>;
    const outcome = await world.step('BackupDataStats', { namespace: world.ns, backupArtifactPrefix: 'bucket/db-all/db-0', backupID: info['db-0']!.BackupID });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
    const entries = originals['db-0']!;
    assert.equal(outcome.outputs.mode, 'restore-size');
    assert.equal(outcome.outputs.fileCount, entries.filter((e) => e.type !== 'dir').length);
    const bytes = entries.filter((e) => e.type === 'file').reduce((sum, e) => sum + readFileSync(join(volumes['db-0']!, e.path)).length, 0);
    assert.equal(outcome.outputs.size, bytes);
  });

  it('refuses a backup stored under another prefix, and the modes kopia has no counterpart for', async () => {
    const info = JSON.parse(backupInfo) as Record<string, { BackupID: string }>;
    const elsewhere = await world.step('BackupDataStats', { namespace: world.ns, backupArtifactPrefix: 'bucket/db-all/db-1', backupID: info['db-0']!.BackupID });
    assert.ok(!elsewhere.ok);
    assert.match(elsewhere.message, /is stored under \/bucket\/db-all\/db-0, not under backupArtifactPrefix \/bucket\/db-all\/db-1/);
    const raw = await world.step('BackupDataStats', { namespace: world.ns, backupArtifactPrefix: 'bucket/db-all/db-0', backupID: info['db-0']!.BackupID, statsMode: 'raw-data' });
    assert.ok(!raw.ok);
    assert.match(raw.message, /statsMode "raw-data" is not supported/);
  });
});

describe('RestoreDataAll', () => {
  it("puts every pod's files back into its own PVC after a scale to zero, through the workload's pod template", async () => {
    for (const pod of ['db-0', 'db-1']) {
      writeFileSync(join(volumes[pod]!, 'a.txt'), 'changed after the backup\n');
      rmSync(join(volumes[pod]!, 'nested'), { recursive: true });
    }
    await scaleStatefulSet(world.clients, world.ns, 'db', 0);
    await waitForPodGone(world.clients, world.ns, 'db-0');
    await waitForPodGone(world.clients, world.ns, 'db-1');
    const outcome = await world.step('RestoreDataAll', { namespace: world.ns, image: 'busybox:1.36', backupArtifactPrefix: 'bucket/db-all', backupInfo }, { target: target() });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
    const info = JSON.parse(backupInfo) as Record<string, { BackupID: string }>;
    assert.deepEqual(JSON.parse(String(outcome.outputs.restoredFrom)), { 'db-0': info['db-0']!.BackupID, 'db-1': info['db-1']!.BackupID });
    // Each backup went back into its own pod's volume (the trees differ: each was seeded with its pod's name).
    for (const pod of ['db-0', 'db-1']) assert.deepEqual(treeManifest(volumes[pod]!), originals[pod]);
    assert.notDeepEqual(originals['db-0'], originals['db-1']);
  });

  it('refuses pods that backupInfo has no backup of, before restoring anything', async () => {
    const outcome = await world.step('RestoreDataAll', { namespace: world.ns, backupArtifactPrefix: 'bucket/db-all', backupInfo, pods: 'db-0 db-7' }, { target: target() });
    assert.ok(!outcome.ok);
    assert.match(outcome.message, /backupInfo has no backup of pod db-7 \(it has db-0, db-1\)/);
  });
});

describe('CheckRepository', () => {
  it('reports a used repository as available and verified', async () => {
    const outcome = await world.step('CheckRepository', { backupArtifactPrefix: 'bucket/db-all' });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
    assert.equal(outcome.outputs.repoUnavailable, 'false');
    assert.equal(outcome.outputs.passwordIncorrect, 'false');
    assert.equal(outcome.outputs.profile, 'default');
    assert.ok(Number(outcome.outputs.snapshots) >= 2);
  });

  it("says repoUnavailable for an application that has none, and creates none", async () => {
    const unused = `unused-${world.ns}`;
    const outcome = await world.step('CheckRepository', { backupArtifactPrefix: 'anything' }, { target: `namespace/${unused}` });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
    assert.equal(outcome.outputs.repoUnavailable, 'true');
    assert.equal(outcome.outputs.passwordIncorrect, 'false');
    assert.equal(existsSync(join(world.stack.state, 'location', 'repositories', unused)), false);
  });

  it('says passwordIncorrect when the key does not unwrap with the KEK the worker has', async () => {
    process.env.CAIRN_KEK = 'ab'.repeat(32);
    try {
      const outcome = await world.step('CheckRepository', { backupArtifactPrefix: 'bucket/db-all' });
      assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
      assert.equal(outcome.outputs.passwordIncorrect, 'true');
      assert.equal(outcome.outputs.repoUnavailable, 'false');
    } finally {
      delete process.env.CAIRN_KEK;
    }
  });
});

describe('DeleteDataAll', () => {
  it("deletes every pod's backup and is done when they are gone already", async () => {
    const info = JSON.parse(backupInfo) as Record<string, { BackupID: string }>;
    const outcome = await world.step('DeleteDataAll', { namespace: world.ns, backupArtifactPrefix: 'bucket/db-all', backupInfo });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
    assert.deepEqual([...(outcome.outputs.deletedSnapshots as string[])].sort(), [info['db-0']!.BackupID, info['db-1']!.BackupID].sort());
    const left = (await listSnapshotEntries(repository)).filter((s) => s.source.path.startsWith('/bucket/db-all/'));
    assert.deepEqual(left, []);
    const again = await world.step('DeleteDataAll', { namespace: world.ns, backupArtifactPrefix: 'bucket/db-all', backupInfo });
    assert.ok(again.ok, again.ok ? '' : again.message);
    assert.deepEqual(again.outputs.deletedSnapshots, []);
  });

  it('refuses a backupInfo that is not what BackupDataAll writes', async () => {
    const outcome = await world.step('DeleteDataAll', { namespace: world.ns, backupArtifactPrefix: 'bucket/db-all', backupInfo: '{"db-0": {"PodName": "db-0"}}' });
    assert.ok(!outcome.ok);
    assert.match(outcome.message, /backupInfo: pod db-0 has no BackupID/);
  });
});
