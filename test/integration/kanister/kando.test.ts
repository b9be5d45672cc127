import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { kandoLocation, type KandoLocation } from '../../../activities/functions/kando-location.ts';
import { repositoryFor } from '../../../activities/functions/exec-target.ts';
import type { FunctionContext } from '../../../activities/functions/types.ts';
import { listSnapshotEntries } from '../../../activities/kopia/snapshots.ts';
import { parsePhaseOutputs } from '../../../activities/functions/phase-output.ts';
import type { TemplateContext } from '../../../src/template/context.ts';
import { ensureStack, type StackInfo } from '../../support/stack.ts';
import { freshState, removeS3Prefix, s3ProfileYaml, uniquePrefix, writeProfile } from '../location/location-testing.ts';

// Cairn's kando (deploy/kando/kando) on this machine against real kopia repositories of a filesystem and an S3
// location (the stack's gateway), with nothing but the environment Cairn's functions give a container
// (kando-location.ts): what it pushes is a pinned snapshot in the application's repository that Cairn's own
// listing sees under the artifact's path; pull gives the bytes back; delete removes them.
const KANDO = join(import.meta.dirname, '../../../deploy/kando/kando');
const APPLICATION = 'kando-app';
let stack: StackInfo;
let state: Awaited<ReturnType<typeof freshState>>;
const prefix = uniquePrefix('kando');

function context(profile: string): FunctionContext {
  const template = { Namespace: APPLICATION, Profile: { name: profile, location: { type: 'filesystem' } }, Time: new Date(0).toISOString(), Phases: {}, ArtifactsIn: {}, Options: {}, Object: {} } as unknown as TemplateContext;
  return { template } as unknown as FunctionContext;
}

/** Runs kando with only the injected environment and a PATH holding kopia; stdin from `input`. */
function kando(location: KandoLocation, args: string[], input?: Buffer): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', [KANDO, ...args], { env: { ...location.env, PATH: `${join(stack.kopia.binary, '..')}:/usr/bin:/bin` } });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr }));
    child.stdin.end(input ?? Buffer.alloc(0));
  });
}

before(async () => {
  stack = await ensureStack();
  state = await freshState('kando');
  process.env.CAIRN_KOPIA = stack.kopia.binary;
  process.env.CAIRN_TEST_S3_KEY = stack.s3.accessKey;
  process.env.CAIRN_TEST_S3_SECRET = stack.s3.secretKey;
  await writeProfile(state.profiles, 'offsite', s3ProfileYaml('offsite', stack, prefix, '{env: {accessKeyId: CAIRN_TEST_S3_KEY, secretAccessKey: CAIRN_TEST_S3_SECRET}}'));
});

after(async () => {
  await removeS3Prefix(stack, stack.s3.testBucket, prefix);
});

for (const profile of ['default', 'offsite']) {
  describe(`kando location with the ${profile === 'default' ? 'filesystem' : 'S3'} profile "${profile}"`, () => {
    let location: KandoLocation;
    const data = randomBytes(3 * 1024 * 1024);
    let pushedId: string;

    before(async () => {
      location = await kandoLocation(context(profile));
    });

    it('gets only what kopia needs: a password, storage arguments, the application; S3 keys only for S3', () => {
      const keys = Object.keys(location.env).sort();
      const expected = ['KANDO_PROFILE', 'KANDO_REPOSITORY', 'KANDO_SOURCE_HOST', 'KOPIA_PASSWORD', ...(profile === 'offsite' ? ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] : [])].sort();
      assert.deepEqual(keys, expected);
      assert.match(location.env.KANDO_REPOSITORY!, profile === 'offsite' ? /^s3 --bucket cairn-test --prefix .*repositories\/kando-app\/kopia\/ --endpoint 127\.0\.0\.1:9000/ : /^filesystem --path .*\/repositories\/kando-app\/kopia$/);
      assert.doesNotMatch(location.env.KANDO_REPOSITORY!, new RegExp(stack.s3.secretKey));
      assert.equal(location.scrub(`x ${location.env.KOPIA_PASSWORD} y`), 'x <redacted> y');
    });

    it("pushes stdin as a pinned snapshot of the application's repository and prints Kanister's snapshot info", async () => {
      const result = await kando(location, ['location', 'push', '--profile', JSON.stringify({ name: profile, location: {} }), '--path', 'dumps//db/dump.bin', '--output-name', 'kopiaOutput', '-'], data);
      assert.equal(result.code, 0, result.stderr);
      const info = JSON.parse(String(parsePhaseOutputs(result.stdout.toString()).kopiaOutput)) as { id: string; logicalSize: number; physicalSize: number };
      assert.deepEqual(Object.keys(info), ['id', 'logicalSize', 'physicalSize']);
      assert.equal(info.logicalSize, data.length);
      pushedId = info.id;
      const snapshot = (await listSnapshotEntries(await repositoryFor(context(profile)))).find((s) => s.id === info.id);
      assert.ok(snapshot, 'Cairn sees the snapshot kando wrote');
      assert.deepEqual(snapshot.source, { userName: 'cairn', host: APPLICATION, path: '/dumps/db/dump.bin' });
      assert.deepEqual(snapshot.pins, ['cairn']);
    });

    it('pulls the latest push of a path, or a given snapshot, byte for byte, to stdout or a file', async () => {
      const second = randomBytes(1000);
      const again = await kando(location, ['location', 'push', '--path', '/dumps/db/dump.bin', '-'], second);
      assert.equal(again.code, 0, again.stderr);
      const latest = await kando(location, ['location', 'pull', '--path', '/dumps/db/dump.bin', '-']);
      assert.equal(latest.code, 0, latest.stderr);
      assert.ok(latest.stdout.equals(second), 'the latest push');
      const first = await kando(location, ['location', 'pull', '--path', '/dumps/db/dump.bin', '--kopia-snapshot', JSON.stringify({ id: pushedId, logicalSize: 1, physicalSize: 0 }), '-']);
      assert.ok(first.stdout.equals(data), 'the snapshot given');
      const file = join(state.dir, `pulled-${profile}.bin`);
      const toFile = await kando(location, ['location', 'pull', '--path', '/dumps/db/dump.bin', '--backupID', pushedId, file]);
      assert.equal(toFile.code, 0, toFile.stderr);
      assert.ok(readFileSync(file).equals(data));
    });

    it('pushes what another process writes into a FIFO, as MultiContainerRun containers share one', async () => {
      const fifo = join(state.dir, `fifo-${profile}`);
      execFileSync('mkfifo', [fifo]);
      const bytes = randomBytes(200_000);
      const writer = spawn('sh', ['-c', `cat > ${fifo}`]);
      writer.stdin.end(bytes);
      const pushed = await kando(location, ['location', 'push', '--path', '/fifo/data', fifo]);
      assert.equal(pushed.code, 0, pushed.stderr);
      const pulled = await kando(location, ['location', 'pull', '--path', '/fifo/data', '-']);
      assert.ok(pulled.stdout.equals(bytes));
    });

    it('pushes and pulls a directory as a tree', async () => {
      const source = join(state.dir, `tree-${profile}`);
      mkdirSync(join(source, 'sub'), { recursive: true });
      writeFileSync(join(source, 'sub', 'a.txt'), 'alpha\n');
      writeFileSync(join(source, 'b.txt'), 'beta\n');
      assert.equal((await kando(location, ['location', 'push', '--path', '/trees/t', source])).code, 0);
      const target = join(state.dir, `restored-${profile}`);
      const pulled = await kando(location, ['location', 'pull', '--path', '/trees/t', target]);
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.equal(readFileSync(join(target, 'sub', 'a.txt'), 'utf8'), 'alpha\n');
      assert.equal(readFileSync(join(target, 'b.txt'), 'utf8'), 'beta\n');
      const toStdout = await kando(location, ['location', 'pull', '--path', '/trees/t', '-']);
      assert.match(toStdout.stderr, /\/trees\/t holds a directory .*, not a stream: pull it into a directory/);
    });

    it('deletes every push of a path; deleting again succeeds, pulling fails saying nothing is there', async () => {
      assert.equal((await kando(location, ['location', 'delete', '--path', '/dumps/db/dump.bin'])).code, 0);
      const left = (await listSnapshotEntries(await repositoryFor(context(profile)))).filter((s) => s.source.path === '/dumps/db/dump.bin');
      assert.deepEqual(left, []);
      const again = await kando(location, ['location', 'delete', '--path', '/dumps/db/dump.bin']);
      assert.equal(again.code, 0, again.stderr);
      const pull = await kando(location, ['location', 'pull', '--path', '/dumps/db/dump.bin', '-']);
      assert.equal(pull.code, 1);
      assert.match(pull.stderr, /nothing was pushed to \/dumps\/db\/dump\.bin/);
    });

    it('fails clearly with a password the repository does not take', async () => {
      const wrong = { ...location, env: { ...location.env, KOPIA_PASSWORD: 'not-the-password' } };
      const result = await kando(wrong, ['location', 'pull', '--path', '/trees/t', '-']);
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`cannot connect to the location's repository \\(profile ${profile}\\)`));
      assert.doesNotMatch(result.stderr, new RegExp(stack.s3.secretKey));
    });
  });
}
