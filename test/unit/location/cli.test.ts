import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { kekId } from '../../../activities/location/envelope.ts';
import { openLocation } from '../../../activities/location/location.ts';
import { buildRestorePoint, writeRestorePoint } from '../../../activities/location/restore-points.ts';
import { main } from '../../../src/cli/main.ts';

// The location commands against a fresh state directory: what an operator sees with nothing but a location.
let state: string;

before(async () => {
  state = await mkdtemp(join(tmpdir(), 'cairn-cli-state-'));
  process.env.CAIRN_STATE_DIR = state;
  process.env.CAIRN_PROFILES_DIR = join(state, 'profiles');
  delete process.env.CAIRN_LOCATION;
  delete process.env.CAIRN_KEK;
  delete process.env.CAIRN_KEK_FILE;
});

async function cairn(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

describe('cairn keys', () => {
  it('has --help and is listed by cairn --help', async () => {
    assert.equal((await cairn('keys', '--help')).code, 0);
    assert.match((await cairn('--help')).stdout, /keys\s+rotate or check the key-encryption key/);
    assert.match((await cairn('--help')).stdout, /restore-points\s+list a location's restore points/);
  });

  it('generate writes a new KEK readable by its owner only and prints its id, never the key', async () => {
    const file = join(state, 'new.kek');
    const { code, stdout } = await cairn('keys', 'generate', file, '--output', 'json');
    assert.equal(code, 0);
    const kek = Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
    assert.deepEqual(JSON.parse(stdout), { file, kek: kekId(kek) });
    assert.ok(!stdout.includes(kek.toString('hex')));
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const again = await cairn('keys', 'generate', file);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists; a KEK file is never replaced/);
  });

  it('usage mistakes exit 2 with a pointer to --help', async () => {
    for (const argv of [['keys'], ['keys', 'rotate'], ['keys', 'spin'], ['keys', 'status', '--new-kek-file', 'x'], ['keys', 'rotate', '--output', 'yaml', '--new-kek-file', 'x']]) {
      const { code, stderr } = await cairn(...argv);
      assert.equal(code, 2, argv.join(' '));
      assert.match(stderr, /Run 'cairn keys --help' for usage/);
    }
  });

  it('rotate writes who rotated which KEK to which in the audit log, by key id only', async () => {
    const [from, to, audit] = [join(state, 'from.kek'), join(state, 'to.kek'), join(state, 'audit.jsonl')];
    assert.equal((await cairn('keys', 'generate', from)).code, 0);
    assert.equal((await cairn('keys', 'generate', to)).code, 0);
    process.env.CAIRN_AUDIT_LOG = audit;
    try {
      assert.equal((await cairn('keys', 'rotate', '--kek-file', from, '--new-kek-file', to)).code, 0);
    } finally {
      delete process.env.CAIRN_AUDIT_LOG;
    }
    const text = await readFile(audit, 'utf8');
    const [line] = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const keyOf = async (file: string) => Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
    assert.equal(line!.action, 'key.rotate');
    assert.equal(line!.outcome, 'succeeded');
    assert.deepEqual(line!.what, { fromKek: kekId(await keyOf(from)), toKek: kekId(await keyOf(to)), rotated: '0', failed: '0' });
    assert.match(String((line!.who as { user: string }).user), /^os:/);
    for (const file of [from, to]) assert.ok(!text.includes((await readFile(file, 'utf8')).trim()), 'no KEK in the audit log');
  });

  it('status without a KEK says so instead of inventing one', async () => {
    const { code, stderr } = await cairn('keys', 'status');
    assert.equal(code, 1);
    assert.match(stderr, /no KEK: .*kek does not exist/);
  });
});

describe('cairn restore-points', () => {
  it('lists nothing in an empty location, as text and as JSON', async () => {
    const text = await cairn('restore-points', 'list');
    assert.equal(text.code, 0);
    assert.match(text.stdout, /no restore points in profile "default" \(filesystem .*location\)/);
    const json = await cairn('restore-points', 'list', '--output', 'json');
    assert.deepEqual(JSON.parse(json.stdout).restorePoints, []);
  });

  it('lists manifests oldest first, filters by application, shows one, and skips a broken file with a warning', async () => {
    const location = await openLocation({ name: 'default', location: { type: 'filesystem', path: join(state, 'location') }, source: 'test' });
    const written = [];
    for (const [time, target] of [['2026-11-22T10:00:00Z', 'statefulset/shop/pg'], ['2026-11-21T09:00:00Z', 'statefulset/shop/pg'], ['2026-11-22T08:00:00Z', 'deployment/web/api']] as const) {
      const input = { workflowId: `w-${time}`, runId: randomBytes(4).toString('hex'), runTime: time, target, action: 'backup', blueprint: 'bp', planHash: 'h', phaseOutputs: { dump: { logicalBytes: 2048 } }, outputArtifacts: { marker: { KeyValue: { at: time } } } };
      written.push(await writeRestorePoint(location, await buildRestorePoint(location, input, target.split('/')[1]!)));
    }
    await writeFile(join(state, 'location', 'restore-points', 'shop', '20261122T110000.000Z-00000000.json'), '{"kind": "RestorePoint"');
    const all = await cairn('restore-points', 'list', '--output', 'json');
    assert.equal(all.code, 0);
    const listed = JSON.parse(all.stdout) as { restorePoints: { id: string; application: string; size: { logicalBytes: number } }[]; problems: string[] };
    assert.deepEqual(listed.restorePoints.map((p) => `${p.application}/${p.id.slice(0, 15)}`), ['shop/20261121T090000', 'web/20261122T080000', 'shop/20261122T100000']);
    assert.equal(listed.restorePoints[0]?.size.logicalBytes, 2048);
    assert.equal(listed.problems.length, 1);
    assert.match(all.stderr, /skipped restore-points\/shop\/20261122T110000\.000Z-00000000\.json: not JSON/);

    const shop = await cairn('restore-points', 'list', '--application', 'shop');
    assert.match(shop.stdout, /RESTORE POINT\s+TARGET\s+BLUEPRINT\s+SNAPSHOTS\s+SIZE\s+ENDED/);
    assert.match(shop.stdout, /shop\/20261121T090000\.000Z-[0-9a-f]{8}\s+statefulset\/shop\/pg\s+bp\s+0\s+2\.0 KiB/);
    assert.doesNotMatch(shop.stdout, /web\//);

    const shown = await cairn('restore-points', 'show', `web/${written[2]!.id}`);
    assert.equal(shown.code, 0);
    assert.deepEqual(JSON.parse(shown.stdout).artifacts, { marker: { KeyValue: { at: '2026-11-22T08:00:00Z' } } });
    const missing = await cairn('restore-points', 'show', 'web/20200101T000000.000Z-00000000');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no restore point web\/20200101T000000\.000Z-00000000 in profile "default"/);
  });

  it('usage mistakes exit 2, an unknown profile exits 1 naming it', async () => {
    assert.equal((await cairn('restore-points')).code, 2);
    assert.equal((await cairn('restore-points', 'list', '--application', '../etc')).code, 2);
    assert.equal((await cairn('restore-points', 'show', 'nonsense')).code, 2);
    const unknown = await cairn('restore-points', 'list', '--profile', 'offsite');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no location profile named "offsite"/);
  });
});
