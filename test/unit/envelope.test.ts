import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { loadKek, unwrapKey, wrapKey } from '../../activities/location/envelope.ts';

it('a wrapped repository key unwraps with the same KEK and repository identity', () => {
  const kek = randomBytes(32);
  const dek = randomBytes(32);
  const wrapped = wrapKey(kek, dek, 'cairn:shop');
  assert.equal(wrapped.algorithm, 'AES-256-GCM');
  assert.ok(!JSON.stringify(wrapped).includes(dek.toString('base64')), 'the key file does not hold the key in clear');
  assert.deepEqual(unwrapKey(kek, wrapped, 'cairn:shop'), dek);
});

it('refuses a wrong KEK, another repository and a flipped byte', () => {
  const kek = randomBytes(32);
  const wrapped = wrapKey(kek, randomBytes(32), 'cairn:shop');
  assert.throws(() => unwrapKey(randomBytes(32), wrapped, 'cairn:shop'), /wrong KEK or tampered/);
  assert.throws(() => unwrapKey(kek, wrapped, 'cairn:other'), /belongs to repository cairn:shop/);
  assert.throws(() => unwrapKey(kek, { ...wrapped, repository: 'cairn:other' }, 'cairn:other'), /wrong KEK or tampered/);
  const bytes = Buffer.from(wrapped.ciphertext, 'base64');
  bytes[0]! ^= 1;
  assert.throws(() => unwrapKey(kek, { ...wrapped, ciphertext: bytes.toString('base64') }, 'cairn:shop'), /wrong KEK or tampered/);
});

it('creates the KEK file once, readable by its owner only, and reads the same key afterwards', async () => {
  const file = join(await mkdtemp(join(tmpdir(), 'cairn-kek-')), 'kek');
  const first = await loadKek(file);
  assert.equal(first.length, 32);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.deepEqual(await loadKek(file), first);
  assert.match(await readFile(file, 'utf8'), /^[0-9a-f]{64}\n$/);
});
