import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { innermostMessage } from '../../../src/diagnostics.ts';
import type { RunActionResult } from '../../../src/run/types.ts';
import { backupGarbage, waitForReadyPod, type BlueprintHarness } from '../../support/database-blueprint.ts';
import { REDIS_POD, redisHarness, redisIn as redisCli, seedStringKeys } from '../../support/databases/redis.ts';

// The shipped Redis blueprint against a real redis-server 7 playing the example's pod (AOF on): 101,202 keys of
// every type; BGSAVE streamed into kopia; writes after it and a FLUSHALL; a restore that stops the server,
// swaps its files and starts it again; the dataset is exactly the backup's.
const ROOT = join(import.meta.dirname, '../../..');
const PASSWORD = `redis-${randomBytes(9).toString('hex')}`;

const SEED = `
${seedStringKeys(100_000)}
for i = 1, 1000 do redis.call('HSET', 'user:' .. i, 'name', 'user ' .. i, 'visits', tostring(i * 3)) end
for i = 1, 100 do for j = 1, 50 do redis.call('RPUSH', 'queue:' .. i, 'job-' .. j) end end
for i = 1, 100 do redis.call('SADD', 'tags:' .. i, 'a' .. i, 'b' .. i, 'common') end
for i = 1, 1000 do redis.call('ZADD', 'leaderboard', i * 7 % 1009, 'player-' .. i) end
redis.call('SET', 'session:kept', 'token', 'EX', 86400)
return redis.call('DBSIZE')`;
const SEEDED_KEYS = 100_000 + 1000 + 100 + 100 + 1 + 1;

/** Every key, its type and its value, sorted, hashed inside the server: equal fingerprints, equal datasets. */
const FINGERPRINT = `
local keys = redis.call('KEYS', '*')
table.sort(keys)
local parts = {}
for _, k in ipairs(keys) do
  local t = redis.call('TYPE', k)['ok']
  local v
  if t == 'string' then v = redis.call('GET', k)
  elseif t == 'hash' then
    local h, p = redis.call('HGETALL', k), {}
    for i = 1, #h, 2 do p[#p + 1] = h[i] .. '=' .. h[i + 1] end
    table.sort(p)
    v = table.concat(p, ',')
  elseif t == 'list' then v = table.concat(redis.call('LRANGE', k, 0, -1), ',')
  elseif t == 'set' then
    local m = redis.call('SMEMBERS', k)
    table.sort(m)
    v = table.concat(m, ',')
  elseif t == 'zset' then v = table.concat(redis.call('ZRANGE', k, 0, -1, 'WITHSCORES'), ',')
  else v = '?' end
  parts[#parts + 1] = k .. '|' .. t .. '|' .. v
end
return #keys .. ' ' .. redis.sha1hex(table.concat(parts, '\\n'))`;

let harness: BlueprintHarness;

before(async () => {
  harness = await redisHarness('redis-blueprint', PASSWORD);
});

after(async () => {
  await harness?.close();
});

const redisIn = (pod: string, ...args: string[]) => redisCli(harness, pod, ...args);
const redis = (...args: string[]) => redisIn(REDIS_POD, ...args);
const fingerprint = (pod = 'redis-0') => redisIn(pod, 'EVAL', FINGERPRINT, '0');

let backup: RunActionResult;
let backupPoint: string;

it('seeds 101,202 keys of every type and backs up a fresh BGSAVE snapshot into kopia', async () => {
  assert.equal(await redis('EVAL', SEED, '0'), String(SEEDED_KEYS));
  backupPoint = await fingerprint();
  assert.match(backupPoint, new RegExp(`^${SEEDED_KEYS} [0-9a-f]{40}$`));
  const lastSaveBefore = Number(await redis('LASTSAVE'));

  backup = await harness.run('backup');
  const rdb = backup.outputArtifacts.redisRdb?.KeyValue;
  assert.match(rdb?.snapshotID ?? '', /^[0-9a-f]{32}$/);
  assert.ok(Number(rdb?.logicalBytes) > 1_000_000, `RDB of ${rdb?.logicalBytes} bytes`);
  assert.ok(Number(await redis('LASTSAVE')) > lastSaveBefore, 'the backup took a new snapshot');
});

it('restores to the backup point after later writes and a FLUSHALL, with AOF on', async () => {
  await redis('EVAL', "for i = 1, 500 do redis.call('SET', 'late:' .. i, i) end redis.call('SET', 'key:1', 'changed') redis.call('DEL', 'key:2') return 1", '0');
  assert.notEqual(await fingerprint(), backupPoint);
  await redis('FLUSHALL');
  assert.equal(await redis('DBSIZE'), '0');
  assert.equal(await redis('CONFIG', 'GET', 'appendonly'), 'appendonly\nyes');

  const restore = await harness.run('restore', { artifacts: backup.outputArtifacts });
  assert.equal(restore.phaseOutputs.waitLoaded?.keys, String(SEEDED_KEYS));
  assert.equal(restore.phaseOutputs.inspect?.appendonly, 'yes');
  assert.equal(await fingerprint(), backupPoint);
  assert.ok(Number(await redis('TTL', 'session:kept')) > 80_000, 'the key keeps its expiry');
  // Loaded through the rebuilt AOF, which the server keeps appending to: a write survives the next restart.
  assert.match(await redis('INFO', 'persistence'), /aof_enabled:1/);
});

it('validate reports the keys and a sample, and fails when the count is not the expected one', async () => {
  const validation = await harness.run('validate', { options: { expectedKeys: String(SEEDED_KEYS), samplePattern: 'user:*', expectedSampleKeys: '1000' } });
  const outputs = validation.phaseOutputs.inspect ?? {};
  assert.equal(outputs.keys, String(SEEDED_KEYS));
  assert.equal(outputs.sampleKeys, '1000');
  assert.equal(outputs.role, 'master');
  assert.match(String(outputs.serverVersion), /^7\./);

  await assert.rejects(harness.run('validate', { label: 'validate-mismatch', options: { expectedKeys: '5' } }), (error) => {
    assert.match(innermostMessage(error), new RegExp(`redis holds ${SEEDED_KEYS} keys, expected 5`));
    return true;
  });
});

it('a backup that is not an RDB is refused before the server is stopped', async () => {
  const garbage = await backupGarbage(harness, 'redisRdb', 'not-an-rdb');
  const podBefore = await harness.clients.core.readNamespacedPod({ namespace: harness.namespace, name: 'redis-0' });
  await assert.rejects(harness.run('restore', { label: 'restore-garbage', artifacts: garbage.outputArtifacts }), (error) => {
    assert.match(innermostMessage(error), /phase stageRdb/);
    return true;
  });
  assert.equal(await fingerprint(), backupPoint);
  const podAfter = await harness.clients.core.readNamespacedPod({ namespace: harness.namespace, name: 'redis-0' });
  assert.equal(podAfter.metadata?.uid, podBefore.metadata?.uid, 'the server was never stopped');
});

it('restores a server without AOF (RDB only) as well, with the Secret named by an option', async () => {
  const [, statefulSet] = k8s.loadAllYaml(readFileSync(join(ROOT, 'examples/redis-app/10-redis.yaml'), 'utf8')) as k8s.V1StatefulSet[];
  const labels = { 'app.kubernetes.io/name': 'cache' };
  statefulSet!.metadata = { name: 'cache', namespace: harness.namespace, labels };
  statefulSet!.spec!.serviceName = 'cache';
  statefulSet!.spec!.selector = { matchLabels: labels };
  statefulSet!.spec!.template.metadata = { labels };
  statefulSet!.spec!.template.spec!.containers[0]!.args = ['redis-server', '--requirepass', '$(REDIS_PASSWORD)'];
  await harness.clients.apps.createNamespacedStatefulSet({ namespace: harness.namespace, body: statefulSet! });
  await waitForReadyPod(harness, 'cache-0');
  assert.equal(await redisIn('cache-0', 'CONFIG', 'GET', 'appendonly'), 'appendonly\nno');
  assert.equal(await redisIn('cache-0', 'EVAL', SEED, '0'), String(SEEDED_KEYS));
  const cachePoint = await fingerprint('cache-0');

  const target = `statefulset/${harness.namespace}/cache`;
  const options = { credentialsSecret: 'redis-credentials' };
  const cacheBackup = await harness.run('backup', { label: 'cache-backup', target, options });
  await redisIn('cache-0', 'FLUSHALL');
  await redisIn('cache-0', 'SET', 'late', '1');
  const restore = await harness.run('restore', { label: 'cache-restore', target, options, artifacts: cacheBackup.outputArtifacts });
  assert.equal(restore.phaseOutputs.inspect?.appendonly, 'no');
  assert.equal(await fingerprint('cache-0'), cachePoint);
});

it('fails on a wrong password without leaking it, and no run leaks the real one', async () => {
  await harness.clients.core.createNamespacedSecret({ namespace: harness.namespace, body: { metadata: { name: 'stale-credentials' }, stringData: { REDIS_PASSWORD: 'not-the-password' } } });
  await assert.rejects(harness.run('validate', { label: 'wrong-password', options: { credentialsSecret: 'stale-credentials' } }), (error) => {
    assert.match(innermostMessage(error), /WRONGPASS|NOAUTH|does not answer PING/);
    assert.doesNotMatch(innermostMessage(error), /not-the-password/);
    return true;
  });
  await harness.assertNoSecretInHistories(PASSWORD);
  await harness.assertNoSecretInHistories('not-the-password');
});

it('delete removes the RDB from the location', async () => {
  const deletion = await harness.run('delete', { artifacts: backup.outputArtifacts });
  assert.deepEqual(deletion.phaseOutputs.deleteRdb?.deletedSnapshots, [backup.outputArtifacts.redisRdb?.KeyValue.snapshotID]);
});
