import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { innermostMessage } from '../../../src/diagnostics.ts';
import type { BlueprintHarness } from '../../support/database-blueprint.ts';
import { MYSQL_POD as POD, mysqlHarness, mysqlIn } from '../../support/databases/mysql.ts';
import { execInPod, execUntilSuccess } from '../../support/pod-runtime/testing.ts';

// The shipped MySQL blueprint's quiesce / unquiesce actions (an Application's consistency group) against a
// real server (MariaDB playing the example's mysql:8.0 pod): the lock is held between the two runs, writes
// wait and reads do not, the release reports its window (again on a retry), the watchdog's early release
// fails unquiesce, and a quiesce that fails or is refused leaves nothing held.
const ROOT_PASSWORD = `root-${randomBytes(9).toString('hex')}`;

let harness: BlueprintHarness;

before(async () => {
  harness = await mysqlHarness('mysql-quiesce', ROOT_PASSWORD);
  await sql('CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY) ENGINE=InnoDB; INSERT INTO shop.t VALUES (1);');
});

after(async () => {
  await harness?.close();
});

const sql = (statements: string) => mysqlIn(harness, statements);

/** An INSERT that gives up after a second of waiting for a lock: its exit code and error. */
async function tryInsert(id: number): Promise<{ exitCode: number; stderr: string }> {
  return execInPod(harness.clients, harness.namespace, POD, 'mysql', ['mysql', '-e', `SET SESSION lock_wait_timeout = 1; INSERT INTO shop.t VALUES (${id})`]);
}

/** The session directories quiesce left in the pod (and the result files unquiesce keeps). */
async function sessionFiles(): Promise<string[]> {
  const listing = await execInPod(harness.clients, harness.namespace, POD, 'mysql', ['sh', '-c', 'ls /tmp/cairn-quiesce 2>/dev/null || true']);
  return listing.stdout.split('\n').filter(Boolean).sort();
}

it('quiesce holds FLUSH TABLES WITH READ LOCK across runs: reads go through, writes wait; unquiesce releases it and reports the window, again on a retry', async () => {
  const quiesce = await harness.run('quiesce');
  assert.deepEqual(Object.keys(quiesce.outputArtifacts), ['quiesced']);
  const quiesced = quiesce.outputArtifacts.quiesced!.KeyValue;
  assert.equal(quiesced.pvc, 'data-mysql-0');
  assert.match(quiesced.session ?? '', /^cairn-mysql-[0-9a-z]+$/);
  assert.ok(Number(quiesced.lockedAtMs) > 1_700_000_000_000, `lockedAtMs ${quiesced.lockedAtMs}`);

  assert.equal(await sql('SELECT COUNT(*) FROM shop.t'), '1');
  const blocked = await tryInsert(2);
  assert.notEqual(blocked.exitCode, 0);
  assert.match(blocked.stderr, /Lock wait timeout/);
  assert.deepEqual(await sessionFiles(), [quiesced.session]);

  const unquiesce = await harness.run('unquiesce', { artifacts: quiesce.outputArtifacts });
  const window = unquiesce.outputArtifacts.unquiesced?.KeyValue.quiesceWindowMs;
  assert.ok(Number(window) > 1000, `quiesce window ${window} ms (the blocked INSERT alone waited a second)`);
  assert.equal((await tryInsert(2)).exitCode, 0);
  assert.deepEqual(await sessionFiles(), [`${quiesced.session}.result`], 'the session directory is gone');

  const retry = await harness.run('unquiesce', { label: 'unquiesce-retry', artifacts: quiesce.outputArtifacts });
  assert.equal(retry.outputArtifacts.unquiesced?.KeyValue.quiesceWindowMs, window);
  await harness.assertNoSecretInHistories(ROOT_PASSWORD);
});

it('the watchdog unlocks after options.quiesceTimeout; unquiesce then fails naming it, also on a retry', async () => {
  const quiesce = await harness.run('quiesce', { label: 'quiesce-watchdog', options: { quiesceTimeout: 2 } });
  await new Promise((resolve) => setTimeout(resolve, 4000));
  assert.equal((await tryInsert(3)).exitCode, 0, 'writable once the watchdog unlocked');
  for (const label of ['unquiesce-late', 'unquiesce-late-retry']) {
    await assert.rejects(harness.run('unquiesce', { label, options: { quiesceTimeout: 2 }, artifacts: quiesce.outputArtifacts }), (error) => {
      assert.match(innermostMessage(error), /watchdog unlocked the tables 2 s after FLUSH TABLES WITH READ LOCK.*options\.quiesceTimeout/);
      return true;
    });
  }
  assert.equal(await sql('SELECT COUNT(*) FROM shop.t'), '3');
});

it('a lock lost before unquiesce (its session killed) fails unquiesce: the snapshot is not known to be inside it', async () => {
  const quiesce = await harness.run('quiesce', { label: 'quiesce-lost' });
  const session = quiesce.outputArtifacts.quiesced!.KeyValue.session!;
  // The holder's client ends: the server drops the lock with its session.
  const killed = await execInPod(harness.clients, harness.namespace, POD, 'mysql', ['sh', '-c', `pkill -P "$(cat /tmp/cairn-quiesce/${session}/holder.pid)" -x mariadb || pkill -P "$(cat /tmp/cairn-quiesce/${session}/holder.pid)" -x mysql`]);
  assert.equal(killed.exitCode, 0, killed.stderr);
  await execUntilSuccess(harness.clients, harness.namespace, POD, 'mysql', ['mysql', '-e', 'SET SESSION lock_wait_timeout = 1; INSERT INTO shop.t VALUES (10)']);
  await assert.rejects(harness.run('unquiesce', { label: 'unquiesce-lost', artifacts: quiesce.outputArtifacts }), (error) => {
    assert.match(innermostMessage(error), /the locking session failed, the lock was lost: the session ended while it held the lock/);
    return true;
  });
});

it('a quiesce whose lock times out leaves nothing held; options.pvc that pod 0 does not mount is refused before any lock', async () => {
  const before = await sessionFiles();
  // A session holding a table's write lock makes FLUSH TABLES WITH READ LOCK wait past options.lockWaitTimeout.
  const holder = execInPod(harness.clients, harness.namespace, POD, 'mysql', ['mysql', '-e', 'LOCK TABLES shop.t WRITE; SELECT SLEEP(8); UNLOCK TABLES']);
  await execUntilSuccess(harness.clients, harness.namespace, POD, 'mysql', ['sh', '-c', `mysql -N -e "SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP(8)%'" | grep -qx 1`]);
  await assert.rejects(harness.run('quiesce', { label: 'quiesce-lockwait', options: { lockWaitTimeout: 1 } }), (error) => {
    assert.match(innermostMessage(error), /FLUSH TABLES WITH READ LOCK/);
    return true;
  });
  assert.deepEqual(await sessionFiles(), before, 'the failed quiesce removed its session');
  await holder;
  assert.equal((await tryInsert(4)).exitCode, 0);
  assert.equal(await sql("SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'FLUSH TABLES%'"), '0');

  await assert.rejects(harness.run('quiesce', { label: 'quiesce-bad-pvc', options: { pvc: 'no-such-claim' } }), (error) => {
    assert.match(innermostMessage(error), /options\.pvc: pod mysql-0 does not mount PVC "no-such-claim" \(it mounts: data-mysql-0\)/);
    return true;
  });
  assert.deepEqual(await sessionFiles(), before);
  assert.equal((await tryInsert(5)).exitCode, 0);
});
