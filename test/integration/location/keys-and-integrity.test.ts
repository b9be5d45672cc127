import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runKopia } from '../../../activities/kopia/kopia.ts';
import { openRepository, type Repository } from '../../../activities/kopia/repository.ts';
import { createKekFile, readKekFile } from '../../../activities/location/envelope.ts';
import { openNamedLocation } from '../../../activities/location/location.ts';
import { main } from '../../../src/cli/main.ts';
import { ensureStack, type StackInfo } from '../../support/stack.ts';
import { freshState, readSnapshot, removeS3Prefix, s3ProfileYaml, scratchDir, snapshotBytes, uniquePrefix, writeProfile } from './location-testing.ts';

// Envelope encryption and integrity with real kopia: a wrong KEK is named as such, a flipped byte in a pack is
// detected rather than restored, and `cairn keys rotate` re-wraps the DEKs of an S3 location so that only the
// new KEK opens it, with the data unchanged.
const ROOT = join(import.meta.dirname, '../../..');
let stack: StackInfo;
let state: Awaited<ReturnType<typeof freshState>>;
const prefix = uniquePrefix('keys');

before(async () => {
  stack = await ensureStack();
  state = await freshState('keys');
  process.env.CAIRN_KOPIA = stack.kopia.binary;
  process.env.CAIRN_TEST_S3_KEY = stack.s3.accessKey;
  process.env.CAIRN_TEST_S3_SECRET = stack.s3.secretKey;
  await writeProfile(state.profiles, 'local', `apiVersion: cairn.io/v1alpha1\nkind: Profile\nmetadata: {name: local}\nlocation: {type: filesystem, path: ${join(state.dir, 'local-location')}}\n`);
  await writeProfile(state.profiles, 'lab', s3ProfileYaml('lab', stack, prefix, '{env: {accessKeyId: CAIRN_TEST_S3_KEY, secretAccessKey: CAIRN_TEST_S3_SECRET}}'));
});

after(async () => {
  await removeS3Prefix(stack, stack.s3.testBucket, prefix);
});

async function cairn(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

/** `cairn` in a new process: nothing cached from this one (no open repository, no loaded KEK). */
function cairnProcess(args: string[]) {
  const result = spawnSync(process.execPath, [join(ROOT, 'bin/cairn.js'), ...args], { cwd: ROOT, env: { ...process.env, CAIRN_CACHE_DIR: join(state.dir, `cache-${randomBytes(3).toString('hex')}`) }, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** kopia's data packs: blobs `p…`, which the filesystem backend shards into `p/<3 hex>/<rest>.f`. */
async function packFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(dir, 'p'), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.f')).map((e) => join(e.parentPath, e.name));
}

describe('the KEK', () => {
  it('a wrong KEK is refused as "wrong KEK", naming the profile; the right one opens', async () => {
    const location = await openNamedLocation('local');
    const right = await readKekFile(state.kekFile);
    const repository = await openRepository(location, 'shop', { kek: right });
    const data = randomBytes(100_000);
    const id = await snapshotBytes(repository, data);
    const wrong = await createKekFile(join(await scratchDir('wrong-kek'), 'kek'));
    await assert.rejects(openRepository(location, 'shop', { kek: wrong }), (error: Error) => {
      assert.match(error.message, /^profile "local" \(filesystem .*local-location\): cannot unwrap the key of repository cairn:shop: wrong KEK \(the key file is wrapped under KEK [0-9a-f]{16}, the KEK given is [0-9a-f]{16}\)$/);
      assert.ok(!error.message.includes(wrong.toString('hex')) && !error.message.includes(right.toString('hex')));
      return true;
    });
    assert.deepEqual((await readSnapshot(repository, id)).bytes, data);
  });

  it('a pack file with one flipped byte is detected by verify and by a restore, never restored silently', async () => {
    const location = await openNamedLocation('local');
    const repository: Repository = await openRepository(location, 'corrupt', { kek: await readKekFile(state.kekFile) });
    const data = randomBytes(3 * 1024 * 1024);
    const id = await snapshotBytes(repository, data);
    assert.equal((await runKopia(repository.session, ['snapshot', 'verify', '--verify-files-percent=100'])).code, 0, 'verifies before the damage');

    const packs = await packFiles(join(repository.directory!, 'kopia'));
    const sizes = await Promise.all(packs.map(async (p) => (await stat(p)).size));
    const largest = packs[sizes.indexOf(Math.max(...sizes))]!;
    const file = await open(largest, 'r+');
    const offset = Math.floor(Math.max(...sizes) / 2);
    const byte = Buffer.alloc(1);
    await file.read(byte, 0, 1, offset);
    byte[0]! ^= 0x01;
    await file.write(byte, 0, 1, offset);
    await file.close();
    // Nothing may come from a cache of what was written: read what is in the location now.
    assert.equal((await runKopia(repository.session, ['cache', 'clear'])).code, 0);

    const verify = await runKopia(repository.session, ['snapshot', 'verify', '--verify-files-percent=100']);
    assert.notEqual(verify.code, 0, 'verify fails');
    assert.match(verify.stderr, /invalid checksum at p[0-9a-f]+.*message authentication failed/);
    const restored = await readSnapshot(repository, id);
    assert.notEqual(restored.code, 0, 'restoring the stream fails');
    assert.match(restored.stderr, /invalid checksum .*message authentication failed/);
    assert.ok(!restored.bytes.equals(data), 'the damaged data is not handed out as the backup');
  });
});

describe('cairn keys rotate', () => {
  it('re-wraps every DEK of an S3 location under the new KEK: the old KEK fails, the new one opens, the data is intact', async () => {
    const oldKek = await readKekFile(state.kekFile);
    const location = await openNamedLocation('lab');
    const data = { shop: randomBytes(200_000), web: randomBytes(50_000) };
    const ids: Record<string, string> = {};
    for (const [application, bytes] of Object.entries(data)) ids[application] = await snapshotBytes(await openRepository(location, application, { kek: oldKek }), bytes);

    const newKekFile = join(state.dir, 'new.kek');
    assert.equal((await cairn('keys', 'generate', newKekFile)).code, 0);
    const rotation = await cairn('keys', 'rotate', '--profile', 'lab', '--kek-file', state.kekFile, '--new-kek-file', newKekFile, '--output', 'json');
    assert.equal(rotation.code, 0, rotation.stderr);
    const result = JSON.parse(rotation.stdout) as { repositories: { application: string; state: string }[]; oldKek: string; newKek: string };
    assert.deepEqual(result.repositories, [{ application: 'shop', state: 'rotated' }, { application: 'web', state: 'rotated' }]);
    assert.match(rotation.stderr, /\[1\/2\] shop: rotated\n\[2\/2\] web: rotated\n/);
    const newKek = await readKekFile(newKekFile);
    for (const key of [oldKek, newKek]) assert.ok(!rotation.stdout.includes(key.toString('hex')) && !rotation.stderr.includes(key.toString('hex')), 'no key printed');

    // Run again, as after an interruption: nothing left to do.
    const again = await cairn('keys', 'rotate', '--profile', 'lab', '--kek-file', state.kekFile, '--new-kek-file', newKekFile, '--output', 'json');
    assert.deepEqual((JSON.parse(again.stdout) as typeof result).repositories.map((r) => r.state), ['already-rotated', 'already-rotated']);

    // Fresh processes: the old KEK no longer opens the location, the new one does.
    const withOld = cairnProcess(['keys', 'status', '--profile', 'lab', '--kek-file', state.kekFile]);
    assert.equal(withOld.code, 1);
    assert.match(withOld.stdout, new RegExp(`shop\\s+does not open \\(wrapped under ${result.newKek}\\)`));
    const withNew = cairnProcess(['keys', 'status', '--profile', 'lab', '--kek-file', newKekFile, '--output', 'json']);
    assert.equal(withNew.code, 0, withNew.stderr);
    assert.deepEqual((JSON.parse(withNew.stdout) as { repositories: { opens: boolean }[] }).repositories.map((r) => r.opens), [true, true]);

    process.env.CAIRN_CACHE_DIR = join(state.dir, 'cache-after-rotation');
    await assert.rejects(openRepository(location, 'shop', { kek: oldKek }), /wrong KEK/);
    for (const [application, bytes] of Object.entries(data)) {
      const repository = await openRepository(location, application, { kek: newKek });
      assert.deepEqual((await readSnapshot(repository, ids[application]!)).bytes, bytes, `${application} data intact`);
    }
  });
});
