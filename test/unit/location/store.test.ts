import assert from 'node:assert/strict';
import { mkdtemp, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { FilesystemStore } from '../../../activities/location/store.ts';

async function store(): Promise<FilesystemStore> {
  return new FilesystemStore(await mkdtemp(join(tmpdir(), 'cairn-store-')));
}

it('writes a file whole under its key, owner-readable only, leaving no scratch file behind', async () => {
  const s = await store();
  assert.equal(await s.write('restore-points/shop/a.json', Buffer.from('{"a":1}')), true);
  assert.equal((await s.read('restore-points/shop/a.json'))?.toString(), '{"a":1}');
  assert.equal((await stat(s.path('restore-points/shop/a.json'))).mode & 0o777, 0o600);
  assert.deepEqual(await readdir(join(s.root, 'restore-points', 'shop')), ['a.json']);
  assert.equal(await s.read('restore-points/shop/missing.json'), undefined);
});

it('create-if-absent keeps the first file and says so', async () => {
  const s = await store();
  assert.equal(await s.write('repositories/shop/key.json', Buffer.from('first'), { ifAbsent: true }), true);
  assert.equal(await s.write('repositories/shop/key.json', Buffer.from('second'), { ifAbsent: true }), false);
  assert.equal((await s.read('repositories/shop/key.json'))?.toString(), 'first');
  assert.deepEqual(await readdir(join(s.root, 'repositories', 'shop')), ['key.json']);
});

it('lists files recursively with sizes, skipping the scratch files of writes in progress', async () => {
  const s = await store();
  await s.write('restore-points/shop/b.json', Buffer.from('bb'));
  await s.write('restore-points/web/a.json', Buffer.from('a'));
  // What a writer that died before its rename leaves: never listed as a file.
  await writeFile(join(s.root, 'restore-points', 'shop', '.c.json.123.abcd.tmp'), 'half');
  assert.deepEqual(await s.list('restore-points/'), [
    { key: 'restore-points/shop/b.json', size: 2 },
    { key: 'restore-points/web/a.json', size: 1 },
  ]);
  assert.deepEqual(await s.list('nothing-here/'), []);
  await s.remove('restore-points/web/a.json');
  await s.remove('restore-points/web/a.json');
  assert.deepEqual((await s.list('restore-points/')).map((f) => f.key), ['restore-points/shop/b.json']);
});
