import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { S3Client } from '../../../activities/location/s3.ts';
import type { RunActionResult } from '../../../src/run/types.ts';
import { pseudoRandom } from '../../support/data-functions.ts';
import { claimVolumeDir, isReadyPod, waitForPod } from '../../support/pod-runtime/testing.ts';
import { ensureStack, kubeClients, testNamespace, type KubeClients, type StackInfo, type TestNamespace } from '../../support/stack.ts';
import { findSecret, historyJson } from '../../support/secret-scan.ts';
import { ensureTemporalBinary, runningWorker, type RunningWorker, type TemporalFixture } from '../../support/temporal.ts';
import { freshState, removeS3Prefix, s3ProfileYaml, scratchDir, uniquePrefix, writeProfile } from './location-testing.ts';

// The whole path through Temporal: a worker whose S3 profile lives in a labelled ConfigMap of its namespace
// (credentials in a Secret) backs up a pod's stream into the bucket and writes a restore point there; a run
// that fails writes none. Then, as after losing the cluster and Temporal: a new process with nothing but a
// profile file and the KEK file lists the restore points and restores the stream, byte for byte.
const ROOT = join(import.meta.dirname, '../../..');
let stack: StackInfo;
let clients: KubeClients;
let fixture: TemporalFixture;
let namespace: TestNamespace;
let serving: RunningWorker;
let state: Awaited<ReturnType<typeof freshState>>;
let ns: string;
const prefix = uniquePrefix('dr');
const dump = pseudoRandom('restore-from-location', 3 * 1024 * 1024 + 17);

const blueprint = (failAfterDump: boolean) => `apiVersion: cairn.io/v1alpha1
kind: Blueprint
metadata: {name: stream-offsite}
actions:
  backup:
    kinds: [Namespace]
    outputArtifacts:
      dump:
        keyValue:
          snapshotID: "{{Phases.dump.Output.snapshotID}}"
    phases:
      - name: dump
        func: BackupStream
        args:
          namespace: "{{Namespace}}"
          pod: app
          container: app
          command: [sh, -c, "cat /data/dump.bin"]
          path: app/dump.bin
      - name: where
        func: KubeExec
        retry: {maxAttempts: 1}
        args:
          namespace: "{{Namespace}}"
          pod: app
          command: [sh, -c, "echo '###Phase-output###: {\\"key\\":\\"location\\",\\"value\\":\\"{{Profile.name}} {{Profile.location.bucket}} {{Profile.location.prefix}}\\"}'${failAfterDump ? '; exit 3' : ''}"]
`;

before(async () => {
  stack = await ensureStack();
  clients = kubeClients(stack);
  namespace = await testNamespace('restore-from-location');
  ns = namespace.name;
  state = await freshState('dr-worker');
  // The worker's own state is fresh too; its cluster is the stack's.
  process.env.KUBECONFIG = stack.kube.kubeconfig;
  process.env.CAIRN_KOPIA = stack.kopia.binary;
  process.env.CAIRN_NAMESPACE = ns;
  await clients.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'offsite-s3' }, stringData: { aws_access_key_id: stack.s3.accessKey, aws_secret_access_key: stack.s3.secretKey } } });
  await clients.core.createNamespacedConfigMap({
    namespace: ns,
    body: { metadata: { name: 'offsite-profile', labels: { 'cairn.io/profile': 'true' } }, data: { 'offsite.yaml': s3ProfileYaml('offsite', stack, prefix, `{secretRef: {namespace: ${ns}, name: offsite-s3}}`) } },
  });
  await clients.core.createNamespacedPersistentVolumeClaim({
    namespace: ns,
    body: { metadata: { name: 'app-data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'cairn-csi', resources: { requests: { storage: '1Gi' } } } },
  });
  await clients.core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name: 'app' },
      spec: { containers: [{ name: 'app', image: 'busybox:1.36', volumeMounts: [{ name: 'data', mountPath: '/data' }] }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'app-data' } }] },
    },
  });
  await waitForPod(clients, ns, 'app', 'Running', isReadyPod);
  await writeFile(join(await claimVolumeDir(clients, stack.state, ns, 'app-data'), 'dump.bin'), dump);
  serving = await runningWorker('restore-from-location');
  fixture = serving.fixture;
});

after(async () => {
  await serving?.stop();
  await namespace?.cleanup();
  await removeS3Prefix(stack, stack.s3.testBucket, prefix);
});

function backup(failAfterDump: boolean, id: string): Promise<RunActionResult> {
  return fixture.client.workflow.execute('runAction', {
    taskQueue: fixture.taskQueue,
    workflowId: `${fixture.taskQueue}-${id}`,
    args: [{ blueprint: { inline: blueprint(failAfterDump), file: 'stream-offsite.yaml' }, action: 'backup', target: `namespace/${ns}`, profile: 'offsite' }],
  }) as Promise<RunActionResult>;
}

async function restorePointKeys(): Promise<string[]> {
  const bucket = new S3Client({ endpoint: stack.s3.endpoint, region: stack.s3.region, bucket: stack.s3.testBucket }, { accessKeyId: stack.s3.accessKey, secretAccessKey: stack.s3.secretKey });
  return (await bucket.list(`${prefix}restore-points/`)).map((o) => o.key.slice(prefix.length));
}

let restorePoint: NonNullable<RunActionResult['restorePoint']>;

it('a backup with an S3 profile ends with its restore point in the bucket; templates see the location, history no credentials', async () => {
  const result = await backup(false, 'ok');
  assert.ok(result.restorePoint, 'the result names the restore point');
  restorePoint = result.restorePoint;
  assert.equal(restorePoint.profile, 'offsite');
  assert.equal(restorePoint.application, ns);
  assert.match(restorePoint.key, new RegExp(`^restore-points/${ns}/\\d{8}T\\d{6}\\.\\d{3}Z-[0-9a-f]{8}\\.json$`));
  assert.deepEqual(await restorePointKeys(), [restorePoint.key]);
  assert.equal(result.phaseOutputs.where?.location, `offsite ${stack.s3.testBucket} ${prefix}`);
  assert.equal(result.phaseOutputs.dump?.logicalBytes, dump.length);

  const history = historyJson(await ensureTemporalBinary(), fixture.address, fixture.namespace, `${fixture.taskQueue}-ok`);
  const events = (JSON.parse(history) as { events: { markerRecordedEventAttributes?: { markerName?: string } }[] }).events;
  assert.ok(events.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch'), 'the run records the restore-point patch marker');
  assert.ok(findSecret(history, 'cairn-restore-point').length > 0, 'the marker names the patch');
  assert.deepEqual(findSecret(history, stack.s3.secretKey), [], 'no S3 secret key in the workflow history');
});

it('a run that fails after the data was written leaves no restore point', async () => {
  await assert.rejects(backup(true, 'failing'), (error: WorkflowFailedError) => /failed in phase where/.test(String(error.cause?.message)));
  assert.deepEqual(await restorePointKeys(), [restorePoint.key]);
});

it('with nothing but the bucket, a profile file and the KEK file, a new process lists the restore point and restores the stream byte for byte', async () => {
  // The recovery site: new state directory, no kopia config or cache, no cluster, no Temporal.
  const site = await scratchDir('dr-site');
  await mkdir(join(site, 'profiles'));
  await copyFile(state.kekFile, join(site, 'kek'));
  await writeProfile(join(site, 'profiles'), 'offsite', s3ProfileYaml('offsite', stack, prefix, '{env: {accessKeyId: DR_S3_KEY, secretAccessKey: DR_S3_SECRET}}'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: site,
    CAIRN_STATE_DIR: site,
    CAIRN_PROFILES_DIR: join(site, 'profiles'),
    CAIRN_KEK_FILE: join(site, 'kek'),
    CAIRN_CACHE_DIR: join(site, 'cache'),
    CAIRN_KOPIA: stack.kopia.binary,
    KUBECONFIG: join(site, 'no-kubeconfig'),
    DR_S3_KEY: stack.s3.accessKey,
    DR_S3_SECRET: stack.s3.secretKey,
  };
  const list = spawnSync(process.execPath, [join(ROOT, 'bin/cairn.js'), 'restore-points', 'list', '--profile', 'offsite', '--output', 'json'], { cwd: ROOT, env, encoding: 'utf8' });
  assert.equal(list.status, 0, list.stderr);
  const listed = JSON.parse(list.stdout) as { restorePoints: { id: string; application: string; target: string; blueprint: string; artifacts: RunActionResult['outputArtifacts']; snapshots: { id: string; logicalBytes: number }[] }[] };
  assert.equal(listed.restorePoints.length, 1);
  const [point] = listed.restorePoints;
  assert.equal(point?.id, restorePoint.id);
  assert.equal(point?.target, `namespace/${ns}`);
  assert.equal(point?.blueprint, 'stream-offsite');
  assert.equal(point?.snapshots[0]?.logicalBytes, dump.length);
  assert.equal(point?.artifacts.dump?.KeyValue.snapshotID, point?.snapshots[0]?.id);

  const restore = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures/stream-from-location.ts'), 'offsite', ns, restorePoint.id], { cwd: ROOT, env, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(restore.status, 0, restore.stderr.toString());
  assert.equal(restore.stdout.length, dump.length);
  assert.equal(createHash('sha256').update(restore.stdout).digest('hex'), createHash('sha256').update(dump).digest('hex'));
});
