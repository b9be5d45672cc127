import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { after, before, it } from 'node:test';
import { innermostMessage } from '../../../src/diagnostics.ts';
import { waitForReadyPod, type BlueprintHarness } from '../../support/database-blueprint.ts';
import { postgresHarness, psqlIn } from '../../support/databases/postgresql.ts';
import { claimVolumeDir } from '../../support/pod-runtime/testing.ts';
import { ensureStack } from '../../support/stack.ts';

// The shipped PostgreSQL blueprint's quiesce / unquiesce actions (an Application's consistency group) against
// real servers: quiesce checkpoints and reports the data PVC without holding anything (writes go on), unquiesce
// has nothing to release; a server whose pg_wal lies on a second PVC (initdb --waldir) is refused, since a
// group snapshots one volume per component.
let harness: BlueprintHarness;

before(async () => {
  harness = await postgresHarness('pg-quiesce');
});

after(async () => {
  await harness?.close();
});

const psql = (sql: string, pod?: string) => psqlIn(harness, sql, pod);

it('quiesce checkpoints and reports the data PVC, holding nothing; unquiesce succeeds with an empty window, again on a retry', async () => {
  await psql('CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)');
  const before = await psql('SELECT checkpoint_lsn FROM pg_control_checkpoint()');
  const quiesce = await harness.run('quiesce');
  assert.deepEqual(Object.keys(quiesce.outputArtifacts), ['quiesced']);
  const quiesced = quiesce.outputArtifacts.quiesced!.KeyValue;
  assert.equal(quiesced.pvc, 'data-postgres-0');
  assert.match(quiesced.session ?? '', /^cairn-postgres-[0-9a-z]+$/);
  assert.equal(quiesced.dataSubPath, 'pgdata');
  assert.notEqual(quiesced.checkpointLsn, before, 'a new checkpoint');
  assert.equal(await psql('SELECT checkpoint_lsn FROM pg_control_checkpoint()'), quiesced.checkpointLsn);

  // No hold: a write goes through at once.
  await psql("SET lock_timeout = '1s'; INSERT INTO t VALUES (2)");

  for (const label of ['unquiesce', 'unquiesce-retry']) {
    const unquiesce = await harness.run('unquiesce', { label, artifacts: quiesce.outputArtifacts });
    assert.deepEqual(unquiesce.outputArtifacts, { unquiesced: { KeyValue: { quiesceWindowMs: '' } } });
  }
  assert.equal(await psql('SELECT count(*) FROM t'), '2');
});

it('refuses a server whose pg_wal lies on a second PVC (and, with two PVCs, to guess without options.pvc)', async () => {
  const { clients, namespace } = harness;
  const stack = await ensureStack();
  // The WAL volume first, so that initdb --waldir can put pg_wal into it (the server runs on the host's paths).
  await clients.core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: { metadata: { name: 'wal-pgwal-0' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'cairn-csi', resources: { requests: { storage: '1Gi' } } } },
  });
  const walDir = await claimVolumeDir(clients, stack.state, namespace, 'wal-pgwal-0');
  chmodSync(walDir, 0o777);
  await clients.core.createNamespacedSecret({ namespace, body: { metadata: { name: 'pgwal-credentials' }, stringData: { POSTGRES_USER: 'shop', POSTGRES_PASSWORD: 'wal-secret-1' } } });
  const claim = (name: string) => ({ metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'cairn-csi', resources: { requests: { storage: '1Gi' } } } });
  await clients.apps.createNamespacedStatefulSet({
    namespace,
    body: {
      metadata: { name: 'pgwal' },
      spec: {
        serviceName: 'pgwal',
        replicas: 1,
        selector: { matchLabels: { app: 'pgwal' } },
        template: {
          metadata: { labels: { app: 'pgwal' } },
          spec: {
            containers: [{
              name: 'postgres',
              image: 'postgres:16',
              envFrom: [{ secretRef: { name: 'pgwal-credentials' } }],
              env: [
                { name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata' },
                { name: 'POSTGRES_INITDB_ARGS', value: `--waldir=${walDir}/pg_wal` },
              ],
              volumeMounts: [{ name: 'data', mountPath: '/var/lib/postgresql/data' }, { name: 'wal', mountPath: '/var/lib/postgresql/wal' }],
            }],
          },
        },
        volumeClaimTemplates: [claim('data'), claim('wal')],
      },
    },
  });
  await waitForReadyPod(harness, 'pgwal-0');
  assert.equal(await psql('SELECT 1', 'pgwal-0'), '1');
  const target = `statefulset/${namespace}/pgwal`;

  await assert.rejects(harness.run('quiesce', { label: 'quiesce-two-pvcs', target }), (error) => {
    // The StatefulSet controller lists a pod's claims in no fixed order.
    assert.match(innermostMessage(error), /pod pgwal-0 mounts 2 \((data-pgwal-0 wal-pgwal-0|wal-pgwal-0 data-pgwal-0)\): name the data directory's PVC with options\.pvc/);
    return true;
  });
  await assert.rejects(harness.run('quiesce', { label: 'quiesce-wal-elsewhere', target, options: { pvc: 'data-pgwal-0' } }), (error) => {
    assert.match(innermostMessage(error), /pg_wal is .*\/pg_wal, on another volume .* a consistency group snapshots one volume per component/);
    return true;
  });
  // The refusals held nothing: the server takes writes as before.
  await psql('CREATE TABLE w (id int); INSERT INTO w VALUES (1)', 'pgwal-0');
});
