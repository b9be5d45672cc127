import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { createKekFile, kekId, loadKek, parseWrappedKey, serializeWrappedKey, unwrapKey, wrapKey, WrongKekError } from '../../../activities/location/envelope.ts';

it('a wrapped repository key unwraps with the same KEK and repository identity', () => {
  const kek = randomBytes(32);
  const dek = randomBytes(32);
  const wrapped = wrapKey(kek, dek, 'cairn:shop');
  assert.equal(wrapped.algorithm, 'AES-256-GCM');
  assert.equal(wrapped.kek, kekId(kek));
  const text = serializeWrappedKey(wrapped).toString('utf8');
  assert.ok(!text.includes(dek.toString('base64')) && !text.includes(dek.toString('hex')), 'the key file does not hold the key in clear');
  assert.ok(!text.includes(kek.toString('hex')), 'the key file does not hold the KEK');
  assert.deepEqual(unwrapKey(kek, parseWrappedKey(text, 'key.json'), 'cairn:shop'), dek);
});

it('says "wrong KEK" for another KEK and refuses another repository and a flipped byte', () => {
  const kek = randomBytes(32);
  const wrapped = wrapKey(kek, randomBytes(32), 'cairn:shop');
  const other = randomBytes(32);
  assert.throws(() => unwrapKey(other, wrapped, 'cairn:shop'), (error: Error) => error instanceof WrongKekError && error.message.includes(`wrong KEK (the key file is wrapped under KEK ${kekId(kek)}, the KEK given is ${kekId(other)})`));
  // Early key files carry no KEK id: the cipher's authentication still refuses a wrong KEK.
  const { kek: _id, ...withoutId } = wrapped;
  assert.throws(() => unwrapKey(other, withoutId, 'cairn:shop'), /wrong KEK or tampered/);
  assert.throws(() => unwrapKey(kek, wrapped, 'cairn:other'), /belongs to repository cairn:shop/);
  assert.throws(() => unwrapKey(kek, { ...wrapped, repository: 'cairn:other' }, 'cairn:other'), /wrong KEK or tampered/);
  const bytes = Buffer.from(wrapped.ciphertext, 'base64');
  bytes[0]! ^= 1;
  assert.throws(() => unwrapKey(kek, { ...wrapped, ciphertext: bytes.toString('base64') }, 'cairn:shop'), /wrong KEK or tampered/);
});

it('a key id reveals nothing usable: 16 hex digits, different for different KEKs, stable for one', () => {
  const kek = randomBytes(32);
  assert.match(kekId(kek), /^[0-9a-f]{16}$/);
  assert.equal(kekId(kek), kekId(Buffer.from(kek)));
  assert.notEqual(kekId(kek), kekId(randomBytes(32)));
  assert.ok(!kek.toString('hex').includes(kekId(kek)));
});

it('refuses a malformed key file as such, not as a wrong KEK', () => {
  assert.throws(() => parseWrappedKey('{"version":1}', 'repositories/shop/key.json'), /repositories\/shop\/key.json is not a Cairn key file \(no "repository"\)/);
  assert.throws(() => parseWrappedKey('not json', 'k'), /not a Cairn key file \(not JSON\)/);
});

it('creates the KEK file once, readable by its owner only, and reads the same key afterwards', async () => {
  const file = join(await mkdtemp(join(tmpdir(), 'cairn-kek-')), 'kek');
  const first = await loadKek(file);
  assert.equal(first.length, 32);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.deepEqual(await loadKek(file), first);
  assert.match(await readFile(file, 'utf8'), /^[0-9a-f]{64}\n$/);
});

it('does not invent a KEK to open existing data, and never replaces a KEK file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-kek-'));
  await assert.rejects(loadKek(join(dir, 'missing'), { create: false }), /no KEK: .*missing does not exist; set CAIRN_KEK_FILE/);
  await createKekFile(join(dir, 'kek'));
  await assert.rejects(createKekFile(join(dir, 'kek')), /EEXIST/);
});
