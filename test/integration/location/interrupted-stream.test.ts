import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { before, it } from 'node:test';
import { spawnKopia } from '../../../activities/kopia/kopia.ts';
import { openRepository, type Repository } from '../../../activities/kopia/repository.ts';
import { CAIRN_PIN, completeSnapshots, listSnapshotEntries, openSnapshotWriter } from '../../../activities/kopia/snapshots.ts';
import { readKekFile } from '../../../activities/location/envelope.ts';
import { openNamedLocation } from '../../../activities/location/location.ts';
import { ensureStack } from '../../support/stack.ts';
import { freshState, readSnapshot, writeProfile } from './location-testing.ts';

// A worker killed mid-stream closes kopia's stdin, and kopia commits what it read as if it were the whole
// stream. Only a stream Cairn ended on purpose is pinned, and only pinned snapshots count as an earlier
// attempt's result, so a retried phase streams again instead of returning the truncated one.
let repository: Repository;
const tags = { 'cairn-phase': 'cairn-0123456789-stream' };
const source = 'cairn@shop:/db/stream';

before(async () => {
  const stack = await ensureStack();
  process.env.CAIRN_KOPIA = stack.kopia.binary;
  const state = await freshState('interrupted');
  await writeProfile(state.profiles, 'local', `apiVersion: cairn.io/v1alpha1\nkind: Profile\nmetadata: {name: local}\nlocation: {type: filesystem, path: ${join(state.dir, 'location')}}\n`);
  repository = await openRepository(await openNamedLocation('local'), 'shop', { kek: await readKekFile(state.kekFile) });
});

it('a stream cut off by a dying worker is committed by kopia unpinned, and a retry does not take it as its result', async () => {
  // What a SIGKILLed worker leaves: kopia started by Cairn's writer (tags, no pin yet) sees end of input early.
  const cut = spawnKopia(repository.session, ['snapshot', 'create', '--json', '--stdin-file', 'stream', '--override-source', source, '--tags', `cairn-phase:${tags['cairn-phase']}`, '-'], ['pipe', 'pipe', 'pipe']);
  cut.stdin!.end(randomBytes(64 * 1024));
  assert.equal(((await once(cut, 'close')) as [number])[0], 0, 'kopia commits a stream whose input just ends');
  const leftovers = await listSnapshotEntries(repository, tags);
  assert.equal(leftovers.length, 1);
  assert.deepEqual(leftovers[0]!.pins, []);
  assert.deepEqual(await completeSnapshots(repository, tags), [], 'the truncated snapshot is not a result');

  const whole = randomBytes(256 * 1024);
  const writer = openSnapshotWriter(repository, { file: 'stream', source, tags });
  writer.input.write(whole);
  const id = await writer.commit();
  const complete = await completeSnapshots(repository, tags);
  assert.deepEqual(complete.map((s) => s.id), [id]);
  assert.ok(complete[0]!.pins.includes(CAIRN_PIN));
  assert.deepEqual((await readSnapshot(repository, id)).bytes, whole);
});
