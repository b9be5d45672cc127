import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { innermostMessage } from '../../../src/diagnostics.ts';
import type { BlueprintHarness } from '../../support/database-blueprint.ts';
import { REDIS_POD as POD, redisHarness, redisIn } from '../../support/databases/redis.ts';
import { execInPod, execUntilSuccess } from '../../support/pod-runtime/testing.ts';

// The shipped Redis blueprint's quiesce / unquiesce actions (an Application's consistency group) against a
// real redis-server 7 with AOF on: writes block while the hold lasts and reads do not, the AOF on the volume is
// rewritten under it, unquiesce releases it (twice, as a retry would), and a hold that Redis ended by itself
// (options.quiesceTimeout) makes unquiesce fail.
const PASSWORD = `redis-${randomBytes(9).toString('hex')}`;
const SEEDED = 1_000;
const SEED = `for i = 1, ${SEEDED} do redis.call('SET', 'key:' .. i, 'value-' .. i) end return redis.call('DBSIZE')`;

let harness: BlueprintHarness;

before(async () => {
  harness = await redisHarness('redis-quiesce', PASSWORD);
  assert.equal(await redis('EVAL', SEED, '0'), String(SEEDED));
});

after(async () => {
  await harness?.close();
});

const redis = (...args: string[]) => redisIn(harness, POD, ...args);

/** A SET that gives up after `seconds`: true when it went through. */
async function trySet(key: string, seconds: number): Promise<boolean> {
  const result = await execInPod(harness.clients, harness.namespace, POD, 'redis', ['sh', '-c', `timeout ${seconds} redis-cli --no-auth-warning -h "$REDIS_HOST" SET ${key} 1`]);
  if (result.exitCode !== 0 && result.exitCode !== 124) throw new Error(`SET ${key}: exit ${result.exitCode}: ${result.stderr}`);
  return result.exitCode === 0 && result.stdout.trim() === 'OK';
}

/** Size of the AOF increment the manifest names last (Redis 7 multi-part AOF in /data/appendonlydir). */
async function lastIncrementBytes(): Promise<number> {
  const script = 'cd /data/appendonlydir && f=$(awk \'$6 == "i" { f = $2 } END { print f }\' appendonly.aof.manifest) && stat -c %s "$f"';
  return Number((await execUntilSuccess(harness.clients, harness.namespace, POD, 'redis', ['sh', '-c', script])).stdout.trim());
}

it('quiesce holds writes (reads go on) with the AOF rewritten; unquiesce releases them and reports the window, twice', async () => {
  const quiesce = await harness.run('quiesce', { options: { quiesceTimeout: 120 } });
  const quiesced = quiesce.outputArtifacts.quiesced?.KeyValue;
  assert.ok(quiesced, `artifacts: ${JSON.stringify(quiesce.outputArtifacts)}`);
  try {
    assert.equal(quiesced.pvc, 'data-redis-0');
    assert.match(quiesced.session ?? '', /^cairn-redis-[0-9a-z]+$/);
    assert.equal(quiesced.pausedKeys, String(SEEDED));
    assert.equal(quiesced.appendonly, 'yes');
    assert.equal(quiesced.aofRewritten, 'true');
    assert.equal(Number(quiesced.pauseDeadlineMs) - Number(quiesced.pausedAtMs), 120_000);
    assert.match(quiesced.runId ?? '', /^[0-9a-f]{40}$/);
    // The whole paused dataset is in the rewritten base: the increment Redis appends to is empty.
    assert.equal(await lastIncrementBytes(), 0);
    assert.equal(await redis('GET', 'key:7'), 'value-7');
    assert.equal(await trySet('while-held', 2), false, 'a write went through while held');
  } finally {
    const unquiesce = await harness.run('unquiesce', { artifacts: quiesce.outputArtifacts });
    const window = unquiesce.outputArtifacts.unquiesced?.KeyValue.quiesceWindowMs;
    assert.ok(Number(window) > 2000, `window ${window} ms`);
    assert.equal(await trySet('after-release', 5), true);
    // A retry after the release succeeds and reports the same window.
    const again = await harness.run('unquiesce', { label: 'unquiesce-again', artifacts: quiesce.outputArtifacts });
    assert.equal(again.outputArtifacts.unquiesced?.KeyValue.quiesceWindowMs, window);
  }
  assert.ok((await lastIncrementBytes()) > 0, 'the write after the release is in the AOF');
  await harness.assertNoSecretInHistories(PASSWORD);
});

it('a hold Redis ended by itself (options.quiesceTimeout) makes unquiesce fail; the server is writable', async () => {
  const quiesce = await harness.run('quiesce', { label: 'quiesce-short', options: { quiesceTimeout: 2 } });
  await new Promise((resolve) => setTimeout(resolve, 4_000));
  assert.equal(await trySet('after-expiry', 5), true);
  for (const label of ['unquiesce-late', 'unquiesce-late-again']) {
    await assert.rejects(harness.run('unquiesce', { label, artifacts: quiesce.outputArtifacts }), (error) => {
      assert.match(innermostMessage(error), /ended the pause \(options\.quiesceTimeout, 2 s\) before unquiesce/);
      return true;
    });
  }
  assert.equal(await trySet('after-failed-unquiesce', 5), true);
});

it('refuses a bad quiesceTimeout, or a PVC the pod does not mount, before pausing anything', async () => {
  await assert.rejects(harness.run('quiesce', { label: 'quiesce-bad', options: { quiesceTimeout: 'soon' } }), (error) => {
    assert.match(innermostMessage(error), /options\.quiesceTimeout is whole seconds above 0, not "soon"/);
    return true;
  });
  await assert.rejects(harness.run('quiesce', { label: 'quiesce-no-pvc', options: { pvc: 'no-such-claim', quiesceTimeout: 600 } }), (error) => {
    assert.match(innermostMessage(error), /options\.pvc: pod redis-0 does not mount PVC "no-such-claim" \(it mounts: data-redis-0\)/);
    return true;
  });
  assert.equal(await trySet('after-refusal', 5), true);
});
