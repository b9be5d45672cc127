import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BackupData } from '../../../activities/functions/BackupData.ts';
import type { FunctionContext } from '../../../activities/functions/types.ts';
import type { Repository } from '../../../activities/kopia/repository.ts';
import { resourceName } from '../../../activities/run-phase.ts';
import type { JsonObject } from '../../../src/json.ts';
import type { TemplateContext } from '../../../src/template/context.ts';
import { applicationRepository, pseudoRandom, runStep, snapshotsUnder, treeManifest, writeAwkwardTree } from '../../support/data-functions.ts';
import { claimVolumeDir, isReadyPod, waitForPod } from '../../support/pod-runtime/testing.ts';
import { ensureStack, kubeClients, testNamespace, type KubeClients, type StackInfo, type TestNamespace } from '../../support/stack.ts';
import { runningWorker, type RunningWorker, type TemporalFixture } from '../../support/temporal.ts';

// BackupData and RestoreData through a real worker: a tree in a pod's volume (played by the pod runtime)
// streams out with tar into kopia, is damaged, and comes back exactly — in the pod, and through a one-off pod
// into another PVC. Failures leave no snapshot behind.
let stack: StackInfo;
let clients: KubeClients;
let fixture: TemporalFixture;
let namespace: TestNamespace;
let serving: RunningWorker;
let repository: Repository;
let appVolume: string;
let ns: string;

async function createClaim(name: string): Promise<void> {
  await clients.core.createNamespacedPersistentVolumeClaim({
    namespace: ns,
    body: { metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'cairn-csi', resources: { requests: { storage: '1Gi' } } } },
  });
}

async function createPod(name: string, claim: string, env: { name: string; value: string }[] = []): Promise<void> {
  await clients.core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name },
      spec: {
        containers: [{ name: 'app', image: 'busybox:1.36', env, volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }],
      },
    },
  });
  await waitForPod(clients, ns, name, 'Running', isReadyPod);
}

async function dataPods(): Promise<string[]> {
  return (await clients.core.listNamespacedPod({ namespace: ns, labelSelector: 'cairn.io/pod-role=data' })).items.map((p) => p.metadata!.name!);
}

async function waitNoDataPods(): Promise<void> {
  for (let i = 0; i < 100 && (await dataPods()).length > 0; i++) await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(await dataPods(), []);
}

before(async () => {
  stack = await ensureStack();
  clients = kubeClients(stack);
  namespace = await testNamespace('data-functions');
  ns = namespace.name;
  await createClaim('app-data');
  await createClaim('restored');
  await createPod('app', 'app-data');
  appVolume = await claimVolumeDir(clients, stack.state, ns, 'app-data');
  writeAwkwardTree(join(appVolume, 'tree'));
  repository = await applicationRepository(clients, ns);
  serving = await runningWorker('data-functions');
  fixture = serving.fixture;
});

after(async () => {
  await serving?.stop();
  await namespace?.cleanup();
});

describe('BackupData then RestoreData', () => {
  let backupID = '';
  let backupTag = '';
  let original: ReturnType<typeof treeManifest>;

  it('backs up a directory tree of a running pod into a pinned, tagged kopia snapshot', async () => {
    original = treeManifest(join(appVolume, 'tree'));
    const outcome = await runStep(fixture, ns, 'BackupData', {
      namespace: ns,
      pod: 'app',
      container: 'app',
      includePath: '/data/tree',
      backupArtifactPrefix: 'bucket/apps/tree',
      encryptionKey: 'ignored by Cairn',
    });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
    backupID = String(outcome.outputs.backupID);
    backupTag = String(outcome.outputs.backupTag);
    assert.match(backupID, /^[0-9a-f]{32}$/);
    assert.match(backupTag, /^cairn-[0-9a-f]{10}-backup-data-[0-9a-f]{6}$/);
    assert.ok(Number(outcome.outputs.size) > 300_000, `size ${String(outcome.outputs.size)}`);
    assert.ok(Number(outcome.outputs.phySize) > 0);
    const [snapshot, ...others] = await snapshotsUnder(repository, 'bucket/apps/tree');
    assert.equal(others.length, 0);
    assert.equal(snapshot?.id, backupID);
    assert.equal(snapshot?.source.host, ns);
    assert.deepEqual(snapshot?.pins, ['cairn']);
    assert.equal(snapshot?.tags.backupTag, backupTag);
    assert.equal(snapshot?.tags.includePath, '/data/tree');
  });

  it('restores the tree in place in the pod: changed, deleted and re-moded entries come back exactly', async () => {
    const tree = join(appVolume, 'tree');
    writeFileSync(join(tree, 'a.txt'), 'overwritten\n');
    unlinkSync(join(tree, 'nested', 'deeper', 'b.bin'));
    unlinkSync(join(tree, 'link-to-b'));
    rmSync(join(tree, 'nested', 'deeper', 'deepest'), { recursive: true });
    chmodSync(join(tree, 'run.sh'), 0o600);
    writeFileSync(join(tree, 'added-after-backup.txt'), 'new\n');
    assert.notDeepEqual(treeManifest(tree), original);

    const outcome = await runStep(fixture, ns, 'RestoreData', { namespace: ns, pod: 'app', image: 'ignored-with-pod', backupArtifactPrefix: 'bucket/apps/tree', backupIdentifier: backupID });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
    assert.equal(outcome.outputs.restoredFrom, backupID);
    // As with Kanister's restic, a restore overwrites and recreates; it does not delete what is new.
    assert.deepEqual(treeManifest(tree).filter((entry) => entry.path !== 'added-after-backup.txt'), original);
    assert.ok(existsSync(join(tree, 'added-after-backup.txt')));
  });

  it('restores by backupTag under another restorePath', async () => {
    const outcome = await runStep(fixture, ns, 'RestoreData', { namespace: ns, pod: 'app', backupArtifactPrefix: 'bucket/apps/tree/', backupTag, restorePath: '/data/copy' });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
    assert.deepEqual(treeManifest(join(appVolume, 'copy', 'data', 'tree')), original);
  });

  it('restores into another PVC through a one-off pod that mounts it, and deletes that pod', async () => {
    const outcome = await runStep(fixture, ns, 'RestoreData', {
      namespace: ns,
      image: 'busybox:1.36',
      volumes: { restored: '/restore-target' },
      restorePath: '/restore-target',
      backupArtifactPrefix: 'bucket/apps/tree',
      backupIdentifier: backupID,
      podLabels: { purpose: 'restore-test' },
    });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
    const restoredVolume = await claimVolumeDir(clients, stack.state, ns, 'restored');
    assert.deepEqual(treeManifest(join(restoredVolume, 'data', 'tree')), original);
    await waitNoDataPods();
  });

  it('a retried attempt of the same phase finds its snapshot instead of backing up again', async () => {
    const context = directContext({ namespace: ns, pod: 'app', container: 'app', includePath: '/data/tree', backupArtifactPrefix: 'bucket/apps/retried' });
    const first = await BackupData.run(context);
    const second = await BackupData.run(context);
    assert.equal(second.backupID, first.backupID);
    assert.equal(second.backupTag, first.backupTag);
    assert.equal((await snapshotsUnder(repository, 'bucket/apps/retried')).length, 1);
  });
});

describe('failures', () => {
  it('names a missing pod and does not retry', async () => {
    const outcome = await runStep(fixture, ns, 'BackupData', { namespace: ns, pod: 'no-such-pod', container: 'app', includePath: '/data', backupArtifactPrefix: 'bucket/missing' });
    assert.ok(!outcome.ok);
    assert.match(outcome.message, new RegExp(`pod ${ns}/no-such-pod not found`));
  });

  it("reports tar's stderr for an includePath that does not exist, and writes no snapshot", async () => {
    const outcome = await runStep(fixture, ns, 'BackupData', { namespace: ns, pod: 'app', container: 'app', includePath: '/data/does-not-exist', backupArtifactPrefix: 'bucket/nothing' });
    assert.ok(!outcome.ok);
    assert.match(outcome.message, /tar exited 2 in .*\/app \(app\) after \d+ bytes; no snapshot was written; stderr:\n.*does-not-exist.*No such file or directory/s);
    assert.deepEqual(await snapshotsUnder(repository, 'bucket/nothing'), []);
  });

  it('refuses an unknown backupIdentifier, a relative restorePath and a wrong prefix', async () => {
    const unknown = await runStep(fixture, ns, 'RestoreData', { namespace: ns, pod: 'app', backupArtifactPrefix: 'bucket/apps/tree', backupIdentifier: '0123456789abcdef0123456789abcdef' });
    assert.ok(!unknown.ok);
    assert.match(unknown.message, /no backup 0123456789abcdef0123456789abcdef in repository/);
    const relative = await runStep(fixture, ns, 'RestoreData', { namespace: ns, pod: 'app', backupArtifactPrefix: 'x', backupTag: 't', restorePath: 'data' });
    assert.ok(!relative.ok);
    assert.match(relative.message, /restorePath must be an absolute path, got "data"/);
    const both = await runStep(fixture, ns, 'RestoreData', { namespace: ns, pod: 'app', volumes: { restored: '/r' }, backupArtifactPrefix: 'x', backupTag: 't' });
    assert.ok(!both.ok);
    assert.match(both.message, /give exactly one of pod and volumes/);
    const [snapshot] = await snapshotsUnder(repository, 'bucket/apps/tree');
    const wrongPrefix = await runStep(fixture, ns, 'RestoreData', { namespace: ns, pod: 'app', backupArtifactPrefix: 'bucket/other', backupIdentifier: snapshot!.id });
    assert.ok(!wrongPrefix.ok);
    assert.match(wrongPrefix.message, /is stored under \/bucket\/apps\/tree, not under backupArtifactPrefix \/bucket\/other/);
  });

  it('leaves no snapshot when tar fails midway through a large stream', async () => {
    // A `tar` that streams 3 MB of the real archive, then fails as a disk error would: first on the pod's PATH.
    const bin = join(stack.state, 'test-bin', ns);
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'tar'), '#!/bin/sh\n/bin/tar "$@" | head -c 3000000\necho "tar: ./big.bin: Read error at byte 2999808: Input/output error" >&2\nexit 2\n');
    chmodSync(join(bin, 'tar'), 0o755);
    await createPod('flaky', 'app-data', [{ name: 'PATH', value: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` }]);
    mkdirSync(join(appVolume, 'big'), { recursive: true });
    writeFileSync(join(appVolume, 'big', 'big.bin'), pseudoRandom('big', 20_000_000));

    const outcome = await runStep(fixture, ns, 'BackupData', { namespace: ns, pod: 'flaky', container: 'app', includePath: '/data/big', backupArtifactPrefix: 'bucket/midway' });
    rmSync(bin, { recursive: true, force: true });
    assert.ok(!outcome.ok);
    assert.match(outcome.message, /tar exited 2 .* after 3000000 bytes; no snapshot was written; stderr:\n.*Input\/output error/s);
    assert.deepEqual(await snapshotsUnder(repository, 'bucket/midway'), []);
  });
});

/** What the phase runner gives a function, for calling one directly as a retried attempt would. */
function directContext(args: JsonObject): FunctionContext {
  const template = { Namespace: ns, Time: '2026-01-01T00:00:00Z', Phases: {}, ArtifactsIn: {}, Options: {}, Object: {} } as unknown as TemplateContext;
  return {
    args,
    template,
    kube: () => clients,
    heartbeat: () => {},
    previousHeartbeat: undefined,
    signal: new AbortController().signal,
    resourceName: (suffix) => resourceName(`direct-${ns}`, 'backup', suffix),
    log: () => {},
  };
}
