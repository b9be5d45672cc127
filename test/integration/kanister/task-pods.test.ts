import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Repository } from '../../../activities/kopia/repository.ts';
import { listSnapshotEntries, openSnapshotFileReader } from '../../../activities/kopia/snapshots.ts';
import { applicationRepository } from '../../support/data-functions.ts';
import { claimVolumeDir } from '../../support/pod-runtime/testing.ts';
import { assertPodRuntimeCurrent, assertPodRuntimeHasKando, createDataStatefulSet, kanisterWorld, type KanisterWorld } from './world.ts';

// The functions that run one-off pods (MultiContainerRun, PrepareData, KubeTask) and KubeExec, with real
// processes played by the pod runtime, and kando reaching the run's location from inside them: through a
// per-phase Secret in pods Cairn creates, through stdin in an exec, never when the phase does not ask.
let world: KanisterWorld;
let repository: Repository;
const target = () => `statefulset/${world.ns}/web`;

before(async () => {
  world = await kanisterWorld('kanister-task-pods');
  await createDataStatefulSet(world, 'web', 1);
  repository = await applicationRepository(world.clients, world.ns);
});

after(async () => {
  await world?.close();
});

async function podsLeft(): Promise<string[]> {
  const pods = (await world.clients.core.listNamespacedPod({ namespace: world.ns, labelSelector: 'app.kubernetes.io/managed-by=cairn' })).items;
  return pods.map((pod) => pod.metadata!.name!);
}

async function waitNoTaskPods(): Promise<void> {
  for (let i = 0; i < 100 && (await podsLeft()).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(await podsLeft(), []);
}

async function kandoSecrets(): Promise<string[]> {
  const list = await world.clients.core.listNamespacedSecret({ namespace: world.ns, labelSelector: 'cairn.io/kando-location=true' });
  return list.items.map((secret) => secret.metadata!.name!);
}

async function snapshotText(id: string): Promise<string> {
  const snapshot = (await listSnapshotEntries(repository)).find((s) => s.id === id);
  assert.ok(snapshot, `snapshot ${id}`);
  const reader = openSnapshotFileReader(repository, snapshot, snapshot.source.path.split('/').pop()!);
  let text = '';
  reader.process.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  assert.equal((await reader.done).code, 0);
  return text;
}

const sh = (script: string) => ['sh', '-c', script];
const output = (key: string, value: string) => `kando output ${key} "${value}"`;

describe('MultiContainerRun', () => {
  it('runs init, background and output containers on one shared volume at /tmp/ (the default); outputs come from the output container', async () => {
    // Needs the runtime's handling of a volume mounted at /tmp (pod-worker.ts).
    assertPodRuntimeCurrent(world.stack);
    const outcome = await world.step('MultiContainerRun', {
      sharedVolumeMedium: 'Memory',
      initImage: 'busybox:1.36',
      initCommand: sh('echo prepared > /tmp/init.txt && mkfifo /tmp/pipe'),
      backgroundImage: 'busybox:1.36',
      backgroundCommand: sh('seq 1 2500 > /tmp/pipe'),
      outputImage: 'busybox:1.36',
      outputCommand: sh(`lines=$(wc -l < /tmp/pipe | tr -d ' '); ${output('lines', '$lines')}; ${output('init', '$(cat /tmp/init.txt)')}`),
    });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
    assert.deepEqual(outcome.outputs, { lines: '2500', init: 'prepared' });
    await waitNoTaskPods();
  });

  it('streams from the background container into kando location push in the output container', async () => {
    assertPodRuntimeHasKando(world.stack);
    const outcome = await world.step('MultiContainerRun', {
      namespace: world.ns,
      sharedVolumeDir: '/shared',
      backgroundImage: 'busybox:1.36',
      backgroundCommand: sh('mkfifo /shared/dump.pipe 2>/dev/null; seq 1 5000 > /shared/dump.pipe'),
      outputImage: 'ghcr.io/cairn-dev/cairn-tools:0.1.0',
      outputCommand: sh('until [ -p /shared/dump.pipe ]; do sleep 0.1; done; kando location push --profile \'{"name":"default"}\' --path /multi/seq.txt - < /shared/dump.pipe'),
    });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
    const info = JSON.parse(String(outcome.outputs.kandoOutput)) as { id: string; logicalSize: number };
    const expected = `${Array.from({ length: 5000 }, (_, i) => i + 1).join('\n')}\n`;
    assert.equal(info.logicalSize, expected.length);
    assert.equal(await snapshotText(info.id), expected);
    assert.deepEqual(await kandoSecrets(), []);
    await waitNoTaskPods();
  });

  it('fails naming the container that failed, with its log, and deletes the pod', async () => {
    const outcome = await world.step('MultiContainerRun', {
      backgroundImage: 'busybox:1.36',
      backgroundCommand: sh('echo "background broke" >&2; exit 3'),
      outputImage: 'busybox:1.36',
      outputCommand: sh('echo fine'),
    });
    assert.ok(!outcome.ok);
    assert.match(outcome.message, /multi-container pod .* failed: container background exited 3; log:\nbackground broke/);
    assert.doesNotMatch(outcome.message, /container output/);
    await waitNoTaskPods();
  });
});

describe('PrepareData', () => {
  it("mounts the target's PVCs at /mnt/prepare_data/<pvc> by default and runs the command there", async () => {
    const outcome = await world.step('PrepareData', {
      namespace: world.ns,
      image: 'busybox:1.36',
      command: sh(`echo seeded > /mnt/prepare_data/data-web-0/seed.txt && ${output('mounted', '$(ls /mnt/prepare_data)')}`),
    }, { target: target() });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
    assert.equal(outcome.outputs.mounted, 'data-web-0');
    const volume = await claimVolumeDir(world.clients, world.stack.state, world.ns, 'data-web-0');
    assert.equal(readFileSync(join(volume, 'seed.txt'), 'utf8'), 'seeded\n');
    await waitNoTaskPods();
  });

  it('mounts the volumes given, and names a missing PVC without creating a pod', async () => {
    const given = await world.step('PrepareData', { namespace: world.ns, image: 'busybox:1.36', volumes: { 'data-web-0': '/seed' }, command: sh(`${output('seed', '$(cat /seed/seed.txt)')}`) });
    assert.ok(given.ok, given.ok ? '' : given.message);
    assert.equal(given.outputs.seed, 'seeded');
    const missing = await world.step('PrepareData', { namespace: world.ns, image: 'busybox:1.36', volumes: { 'no-such-claim': '/x' }, command: sh('true') });
    assert.ok(!missing.ok);
    assert.match(missing.message, new RegExp(`PVC ${world.ns}/no-such-claim not found`));
    await waitNoTaskPods();
  });
});

describe('kando in KubeTask and KubeExec', () => {
  it("runs a KubeTask in the target's namespace when namespace is omitted", async () => {
    const outcome = await world.step('KubeTask', { image: 'busybox:1.36', command: sh(output('ran', 'yes')) }, { target: target() });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
    assert.deepEqual(outcome.outputs, { ran: 'yes' });
  });

  it('gives no location to a command that does not run kando location, nor when locationCredentials is false', async () => {
    const plain = await world.step('KubeTask', { image: 'busybox:1.36', command: sh(output('password', '${KOPIA_PASSWORD:-none}')) });
    assert.ok(plain.ok, plain.ok ? '' : plain.message);
    assert.equal(plain.outputs.password, 'none');
    const refused = await world.step('KubeTask', { image: 'busybox:1.36', locationCredentials: false, command: sh('echo x | kando location push --path /nowhere -') });
    assert.ok(!refused.ok);
    assert.match(refused.message, /kando: no location in the environment/);
  });

  it('hides the injected values in what the task prints', async () => {
    const outcome = await world.step('KubeTask', { image: 'busybox:1.36', locationCredentials: true, command: sh(output('leak', '$KOPIA_PASSWORD')) });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.message);
    assert.equal(outcome.outputs.leak, '<redacted>');
    assert.deepEqual(await kandoSecrets(), []);
  });

  it('gives a KubeExec command the location on stdin: push and pull in a running pod', async () => {
    assertPodRuntimeHasKando(world.stack);
    const push = await world.step('KubeExec', { namespace: world.ns, pod: 'web-0', command: sh('echo "from exec" | kando location push --path /exec/hello.txt --output-name pushed -') });
    assert.ok(push.ok, push.ok ? '' : push.message);
    const info = JSON.parse(String(push.outputs.pushed)) as { id: string };
    assert.equal(await snapshotText(info.id), 'from exec\n');
    const pull = await world.step('KubeExec', { namespace: world.ns, pod: 'web-0', command: sh(`${output('got', '$(kando location pull --path /exec/hello.txt -)')}; ${output('stdin', '$(cat)')}`) });
    assert.ok(pull.ok, pull.ok ? '' : pull.message);
    // The command's own stdin is empty, as an exec without stdin has it.
    assert.deepEqual(pull.outputs, { got: 'from exec', stdin: '' });
    // Nothing of the location stays in the container's environment files or on disk under the pod's volume.
    const volume = await claimVolumeDir(world.clients, world.stack.state, world.ns, 'data-web-0');
    assert.equal(existsSync(join(volume, 'repository.config')), false);
  });
});
