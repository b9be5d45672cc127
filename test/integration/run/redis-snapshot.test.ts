import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { innermostMessage } from '../../../src/diagnostics.ts';
import type { RunActionResult } from '../../../src/run/types.ts';
import { leftoverSnapshotObjects, startPodWriter, type BlueprintHarness } from '../../support/database-blueprint.ts';
import { REDIS_POD as POD, redisHarness, redisIn, seedStringKeys } from '../../support/databases/redis.ts';
import { execInPod } from '../../support/pod-runtime/testing.ts';

// The shipped Redis blueprint's snapshot strategy against a real redis-server 7 (AOF on): 100,000 keys, a
// writer setting w:1, w:2, … all through the backup, CLIENT PAUSE WRITE → BGSAVE → CSI snapshot → CLIENT
// UNPAUSE, the snapshot's files into kopia; then FLUSHALL, a restore into the scaled-down workload, and the
// dataset is exactly the paused one: the seeded keys unchanged and the writer's keys w:1…w:n with n what the
// pause counted.
const PASSWORD = `redis-${randomBytes(9).toString('hex')}`;
const SEEDED = 100_000;

const SEED = `${seedStringKeys(SEEDED)} return redis.call('DBSIZE')`;
/** The seeded keys and values, sorted and hashed inside the server. */
const SEEDED_FINGERPRINT = `local keys = redis.call('KEYS', 'key:*') table.sort(keys) local parts = {}
for _, k in ipairs(keys) do parts[#parts + 1] = k .. '=' .. redis.call('GET', k) end
return #keys .. ' ' .. redis.sha1hex(table.concat(parts, '\\n'))`;
/** How many writer keys there are and whether they are exactly w:1 … w:n with their values. */
const WRITER_KEYS = `local n = #redis.call('KEYS', 'w:*')
for i = 1, n do if redis.call('GET', 'w:' .. i) ~= 'v' .. i then return 'gap at ' .. i end end
return 'w:1..' .. n`;

let harness: BlueprintHarness;

before(async () => {
  harness = await redisHarness('redis-snapshot', PASSWORD);
});

after(async () => {
  await harness?.close();
});

const redis = (...args: string[]) => redisIn(harness, POD, ...args);

const writerKeys = async () => Number(await redis('DBSIZE')) - SEEDED;

let backup: RunActionResult;
let seeded: string;
let before_: number;
let afterBackup: number;

it('backs up 100,000 keys with CLIENT PAUSE WRITE → BGSAVE → CSI snapshot → CLIENT UNPAUSE while a writer keeps setting keys', async () => {
  assert.equal(await redis('EVAL', SEED, '0'), String(SEEDED));
  seeded = await redis('EVAL', SEEDED_FINGERPRINT, '0');
  // One redis-cli reading SET commands from a pipe: each is sent as it is written (blocked while paused).
  const writer = startPodWriter(harness, POD, 'redis', 'i=0; while [ ! -e /tmp/stop-writer ]; do i=$((i + 1)); echo "SET w:$i v$i"; sleep 0.01; done | redis-cli --no-auth-warning -h "$REDIS_HOST" >/dev/null');
  try {
    while ((await writerKeys()) < 30) await new Promise((r) => setTimeout(r, 200));
    before_ = await writerKeys();
    backup = await harness.run('backup', { options: { strategy: 'snapshot' } });
    afterBackup = await writerKeys();
    assert.ok(afterBackup > before_, 'the writer kept writing around the backup');
  } finally {
    await writer.stop();
  }

  const artifact = backup.outputArtifacts.redisSnapshot?.KeyValue;
  assert.ok(artifact, `artifacts: ${JSON.stringify(backup.outputArtifacts)}`);
  assert.equal(backup.outputArtifacts.redisRdb, undefined);
  assert.match(artifact.volumeBackupID ?? '', /^[0-9a-f]{32}$/);
  assert.equal(artifact.pvc, 'data-redis-0');
  assert.equal(artifact.appendonly, 'yes');
  const paused = Number(artifact.pausedKeys) - SEEDED;
  assert.ok(paused >= before_ && paused <= afterBackup, `paused at ${paused} writer keys, the backup ran between ${before_} and ${afterBackup}`);
  const window = Number(backup.phaseOutputs.unquiesce?.quiesceWindowMs);
  assert.ok(window > 0 && String(window) === artifact.quiesceWindowMs, `quiesce window ${window} ms`);
  assert.deepEqual(await leftoverSnapshotObjects(harness), { volumeSnapshots: [], claims: ['data-redis-0'] });
});

it('restores into the scaled-down workload: exactly the paused dataset, the AOF rebuilt from its RDB', async () => {
  await redis('FLUSHALL');
  await redis('SET', 'after-backup', '1');
  const restore = await harness.run('restore', { artifacts: backup.outputArtifacts });
  assert.equal(restore.phaseOutputs.waitLoaded?.keys, backup.outputArtifacts.redisSnapshot?.KeyValue.pausedKeys);
  assert.equal(await redis('EVAL', SEEDED_FINGERPRINT, '0'), seeded);
  assert.equal(await redis('EVAL', WRITER_KEYS, '0'), `w:1..${Number(backup.outputArtifacts.redisSnapshot?.KeyValue.pausedKeys) - SEEDED}`);
  assert.equal(await redis('EXISTS', 'after-backup'), '0');
  assert.equal(await redis('SET', 'after-restore', '1'), 'OK');
  await harness.assertNoSecretInHistories(PASSWORD);
});

it('a backup that fails while writes are paused always unpauses: a write goes through at once', async () => {
  await assert.rejects(harness.run('backup', { label: 'bad-pvc', options: { strategy: 'snapshot', pvc: 'no-such-claim', quiesceTimeout: 600 } }), (error) => {
    assert.match(innermostMessage(error), /no-such-claim/);
    return true;
  });
  // Paused for 600 s, this SET would block: `timeout` ends it after 5.
  const set = await execInPod(harness.clients, harness.namespace, POD, 'redis', ['sh', '-c', 'timeout 5 redis-cli --no-auth-warning -h "$REDIS_HOST" SET after-failure 1']);
  assert.equal(set.stdout.trim(), 'OK', `exit ${set.exitCode}: ${set.stderr}`);
});
