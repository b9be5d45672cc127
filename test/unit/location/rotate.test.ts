import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { kekId, parseWrappedKey, serializeWrappedKey, unwrapKey, wrapKey } from '../../../activities/location/envelope.ts';
import { openLocation, type OpenedLocation } from '../../../activities/location/location.ts';
import { rotateKeys } from '../../../activities/location/rotate.ts';
import { keyFileKey, repositoryIdentity } from '../../../src/location/layout.ts';

const APPS = ['api', 'shop', 'web'];

async function locationWithKeys(kek: Buffer): Promise<{ location: OpenedLocation; deks: Map<string, Buffer> }> {
  const root = await mkdtemp(join(tmpdir(), 'cairn-rotate-'));
  const location = await openLocation({ name: 'local', location: { type: 'filesystem', path: root }, source: 'test' });
  const deks = new Map<string, Buffer>();
  for (const app of APPS) {
    const dek = randomBytes(32);
    deks.set(app, dek);
    await location.store.write(keyFileKey(app), serializeWrappedKey(wrapKey(kek, dek, repositoryIdentity(app))));
  }
  return { location, deks };
}

async function dekUnder(location: OpenedLocation, app: string, kek: Buffer): Promise<Buffer> {
  return unwrapKey(kek, parseWrappedKey((await location.store.read(keyFileKey(app)))!.toString(), app), repositoryIdentity(app));
}

it('re-wraps every DEK under the new KEK: same DEKs, the old KEK no longer opens them', async () => {
  const [oldKek, newKek] = [randomBytes(32), randomBytes(32)];
  const { location, deks } = await locationWithKeys(oldKek);
  const progress: string[] = [];
  const result = await rotateKeys(location, oldKek, newKek, (done, total, r) => progress.push(`${done}/${total} ${r.application} ${r.state}`));
  assert.deepEqual(progress, ['1/3 api rotated', '2/3 shop rotated', '3/3 web rotated']);
  assert.deepEqual(result, { oldKek: kekId(oldKek), newKek: kekId(newKek), repositories: APPS.map((application) => ({ application, state: 'rotated' })) });
  for (const app of APPS) {
    assert.deepEqual(await dekUnder(location, app, newKek), deks.get(app));
    await assert.rejects(dekUnder(location, app, oldKek), /wrong KEK/);
  }
  assert.deepEqual(await readdir(join(location.root!, 'repositories', 'shop')), ['key.json'], 'no scratch or backup key file left');
  assert.ok(!JSON.stringify(result).includes(newKek.toString('hex')));
});

it('an interrupted rotation is finished by running it again; each key file is under one of the two KEKs throughout', async () => {
  const [oldKek, newKek] = [randomBytes(32), randomBytes(32)];
  const { location, deks } = await locationWithKeys(oldKek);
  // The process dies while writing the second key file (after the first was replaced).
  let writes = 0;
  const dying: OpenedLocation = {
    ...location,
    store: { ...location.store, read: (k) => location.store.read(k), list: (p) => location.store.list(p), remove: (k) => location.store.remove(k), write: async (k, b, o) => {
      if (++writes === 2) throw new Error('killed');
      return location.store.write(k, b, o);
    } },
  };
  const first = await rotateKeys(dying, oldKek, newKek);
  assert.deepEqual(first.repositories.map((r) => r.state), ['rotated', 'failed', 'rotated']);
  assert.deepEqual(await dekUnder(location, 'shop', oldKek), deks.get('shop'), 'the key file that failed is still under the old KEK');
  const again = await rotateKeys(location, oldKek, newKek);
  assert.deepEqual(again.repositories.map((r) => r.state), ['already-rotated', 'rotated', 'already-rotated']);
  for (const app of APPS) assert.deepEqual(await dekUnder(location, app, newKek), deks.get(app));
});

it('names a key file neither KEK opens, and refuses a rotation to the same KEK', async () => {
  const kek = randomBytes(32);
  const { location } = await locationWithKeys(kek);
  const stranger = randomBytes(32);
  const result = await rotateKeys(location, stranger, randomBytes(32));
  assert.equal(result.repositories[0]?.state, 'failed');
  assert.match(result.repositories[0]?.error ?? '', new RegExp(`repositories/api/key.json is wrapped under KEK ${kekId(kek)}: neither the old KEK \\(${kekId(stranger)}\\) nor the new one`));
  await assert.rejects(rotateKeys(location, kek, Buffer.from(kek)), /the new KEK is the current KEK/);
});
