import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, it } from 'node:test';
import type { AuditLine } from '../../../src/audit/audit-log.ts';
import type { RunActionInput, RunActionResult } from '../../../src/run/types.ts';
import { execUntilSuccess, waitForPod } from '../../support/pod-runtime/testing.ts';
import { findSecret } from '../../support/secret-scan.ts';
import { ensureStack, kubeClients, testNamespace, type TestNamespace } from '../../support/stack.ts';
import { killSpawnedWorkers, spawnWorker, temporalFixture, type TemporalFixture, type WorkerProcess } from '../../support/temporal.ts';
import { parseSamples, sampleValue, type Sample } from './prometheus-text.ts';
import { seriesOf, shippedExpressions } from './promql-series.ts';

// A real worker process with its metrics endpoint; real runs (a kopia stream out of a pod, a quiesce group, a
// failing phase that prints a Secret, a restore); then one scrape, checked series by series against what the
// runs did. The worker's audit log is checked beside it, and scanned for the Secret.
const ROOT = resolve(import.meta.dirname, '../../..');
const canary = `canary-${randomBytes(8).toString('hex')}`;
const STREAM_BYTES = 300_000;
let fixture: TemporalFixture;
let namespace: TestNamespace;
let worker: WorkerProcess;
let metricsUrl: string;
let auditFile: string;

const blueprint = `apiVersion: cairn.io/v1alpha1
kind: Blueprint
metadata: {name: metrics-probe}
actions:
  backup:
    kinds: [Namespace]
    phases:
      - name: consistent
        phases:
          - {name: freeze, func: Sleep, args: {duration: 300ms}}
          - name: dump
            func: BackupStream
            args:
              namespace: "{{Namespace}}"
              pod: app
              command: [head, -c, "${STREAM_BYTES}", /dev/zero]
        deferPhase: {name: thaw, func: Sleep, args: {duration: 10ms}}
  restore:
    kinds: [Namespace]
    phases: [{name: check, func: Sleep, args: {duration: 200ms}}]
  slow:
    kinds: [Namespace]
    phases: [{name: wait, func: Sleep, args: {duration: 10m}}]
  leak:
    kinds: [Namespace]
    phases:
      - name: leaky
        func: KubeExec
        objects: {creds: {kind: Secret, name: creds}}
        retry: {maxAttempts: 1}
        args:
          namespace: "{{Namespace}}"
          pod: app
          command: [sh, -c, "echo the password is {{Phases.leaky.Secrets.creds.password}} >&2; exit 3"]
`;

before(async () => {
  const stack = await ensureStack();
  fixture = await temporalFixture('metrics');
  namespace = await testNamespace('metrics');
  const clients = kubeClients(stack);
  await clients.core.createNamespacedSecret({ namespace: namespace.name, body: { metadata: { name: 'creds' }, stringData: { password: canary } } });
  await clients.core.createNamespacedPod({ namespace: namespace.name, body: { metadata: { name: 'app' }, spec: { containers: [{ name: 'main', image: 'busybox' }] } } });
  await waitForPod(clients, namespace.name, 'app', 'Running', (pod) => pod.status?.phase === 'Running');
  await execUntilSuccess(clients, namespace.name, 'app', 'main', ['true']);
  const state = mkdtempSync(join(tmpdir(), 'cairn-metrics-'));
  auditFile = join(state, 'audit.jsonl');
  worker = await spawnWorker(fixture, {
    args: ['--metrics-port', '0', '--metrics-address', '127.0.0.1', '--audit-log', auditFile],
    // Its own location and KEK (under its own state directory); the cluster through the stack's kubeconfig.
    env: { CAIRN_STATE_DIR: state, KUBECONFIG: stack.kube.kubeconfig },
  });
  await worker.ready;
  const port = /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(await worker.log())?.[1];
  assert.ok(port, 'the worker printed its metrics address');
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
});

after(async () => {
  await killSpawnedWorkers();
  await fixture?.close();
  await namespace?.cleanup();
});

async function runAction(action: string, id: string, extra: Partial<RunActionInput> = {}): Promise<RunActionResult | Error> {
  return (fixture.client.workflow.execute('runAction', {
    taskQueue: fixture.taskQueue,
    workflowId: id,
    args: [{ blueprint: { inline: blueprint, file: 'metrics-probe.yaml' }, action, target: `namespace/${namespace.name}`, ...extra } satisfies RunActionInput],
  }) as Promise<RunActionResult>).catch((error: Error) => error);
}

async function scrape(): Promise<{ text: string; samples: Sample[] }> {
  const response = await fetch(metricsUrl);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
  const text = await response.text();
  return { text, samples: parseSamples(text) };
}

it('after real runs, the endpoint reports runs, phases, bytes moved, the quiesce window, RTO and the last backup time', async () => {
  const id = namespace.name;
  const before = Date.now() / 1000;
  const backup = await runAction('backup', `backup-${id}`);
  assert.ok(!(backup instanceof Error), String(backup));
  const after = Date.now() / 1000;
  const logicalBytes = Number(backup.phaseOutputs.dump?.logicalBytes);
  assert.equal(logicalBytes, STREAM_BYTES);
  const restore = await runAction('restore', `restore-${id}`);
  assert.ok(!(restore instanceof Error), String(restore));
  const leak = await runAction('leak', `leak-${id}`);
  assert.ok(leak instanceof Error, 'the leak action fails');
  const slow = runAction('slow', `slow-${id}`);
  const handle = fixture.client.workflow.getHandle(`slow-${id}`);
  for (let i = 0; i < 100 && !(await handle.query<{ current: string[] }>('progress').catch(() => undefined))?.current.length; i++) await new Promise((r) => setTimeout(r, 200));
  await handle.cancel();
  assert.ok((await slow) instanceof Error, 'the slow run ends cancelled');

  const { samples, text } = await scrape();
  const run = (action: string, blueprint = 'metrics-probe') => ({ blueprint, action, namespace: namespace.name });
  assert.equal(sampleValue(samples, 'cairn_runs_started_total', run('backup')), 1);
  assert.equal(sampleValue(samples, 'cairn_runs_succeeded_total', run('backup')), 1);
  assert.equal(sampleValue(samples, 'cairn_runs_succeeded_total', run('restore')), 1);
  assert.equal(sampleValue(samples, 'cairn_runs_failed_total', run('leak')), 1);
  assert.equal(sampleValue(samples, 'cairn_runs_cancelled_total', run('slow')), 1);
  assert.equal(sampleValue(samples, 'cairn_runs_failed_total', run('backup')), undefined, 'no failed backup');
  assert.equal(sampleValue(samples, 'cairn_workflows_completed_total', { workflow_type: 'runAction', outcome: 'succeeded' }), 2);
  assert.equal(sampleValue(samples, 'cairn_workflows_completed_total', { workflow_type: 'runAction', outcome: 'failed' }), 1);

  assert.equal(sampleValue(samples, 'cairn_bytes_moved_total', { func: 'BackupStream', direction: 'backup', namespace: namespace.name }), STREAM_BYTES);
  assert.equal(sampleValue(samples, 'cairn_phase_duration_seconds_count', { func: 'BackupStream', outcome: 'succeeded' }), 1);
  assert.equal(sampleValue(samples, 'cairn_phase_duration_seconds_count', { func: 'Sleep', outcome: 'succeeded' }), 3);
  assert.equal(sampleValue(samples, 'cairn_phase_duration_seconds_count', { func: 'KubeExec', outcome: 'failed' }), 1);
  const sleepSeconds = sampleValue(samples, 'cairn_phase_duration_seconds_sum', { func: 'Sleep', outcome: 'succeeded' })!;
  assert.ok(sleepSeconds >= 0.5, `three Sleep phases of 300, 10 and 200 ms took ${sleepSeconds} s`);

  // freeze (300 ms) and dump ran inside the group; thaw ended it: the window covers at least the freeze.
  assert.equal(sampleValue(samples, 'cairn_quiesce_window_seconds_count', run('backup')), 1);
  const window = sampleValue(samples, 'cairn_quiesce_window_seconds_sum', run('backup'))!;
  assert.ok(window >= 0.3 && window < after - before, `quiesce window ${window} s`);

  const lastBackup = sampleValue(samples, 'cairn_last_successful_backup_timestamp_seconds', { namespace: namespace.name, target: `namespace/${namespace.name}` })!;
  assert.ok(lastBackup >= before && lastBackup <= after + 1, `last backup at ${lastBackup}, run between ${before} and ${after}`);
  assert.equal(sampleValue(samples, 'cairn_restore_duration_seconds_count', { blueprint: 'metrics-probe', namespace: namespace.name }), 1);
  const rto = sampleValue(samples, 'cairn_last_restore_duration_seconds', { namespace: namespace.name, target: `namespace/${namespace.name}` })!;
  assert.ok(rto >= 0.2, `restore took ${rto} s (its one phase sleeps 200 ms)`);

  // The Temporal SDK's own series come through the same endpoint.
  assert.ok(samples.some((sample) => sample.name.startsWith('temporal_') && sample.labels.task_queue === fixture.taskQueue), 'Temporal SDK series for this task queue');
  assert.ok(!text.includes(canary), 'no Secret value in the metrics');
});

it("the worker's audit log has one line per start and end, with outcome and reason, and no Secret value", async () => {
  const lines = readFileSync(auditFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as AuditLine);
  const mine = lines.filter((line) => line.where.namespace === namespace.name);
  assert.deepEqual(
    mine.map((line) => [line.action, line.what.action, line.outcome]),
    [
      ['run.start', 'backup', 'allowed'],
      ['run.end', 'backup', 'succeeded'],
      ['restore', 'restore', 'allowed'],
      ['run.end', 'restore', 'succeeded'],
      ['run.start', 'leak', 'allowed'],
      ['run.end', 'leak', 'failed'],
      ['run.start', 'slow', 'allowed'],
      ['run.end', 'slow', 'cancelled'],
    ],
  );
  for (const line of mine) {
    assert.equal(line.kind, 'cairn.audit');
    assert.equal(line.source, 'worker');
    assert.ok(!Number.isNaN(Date.parse(line.time)));
    assert.equal(line.where.target, `namespace/${namespace.name}`);
    assert.equal(line.what.blueprint, 'metrics-probe');
  }
  const failed = mine.find((line) => line.outcome === 'failed')!;
  assert.match(failed.reason ?? '', /phase leaky \(KubeExec\): command exited 3/);
  assert.match(failed.reason ?? '', /the password is \[redacted\]/, 'the reason shows the redacted stderr');
  assert.deepEqual(findSecret(JSON.stringify(lines), canary), [], 'the canary appears nowhere in the audit log');
});

it('every series the shipped alerts and dashboard query is exposed by the worker after those runs', async () => {
  const { samples } = await scrape();
  const exposed = new Set(samples.map((sample) => sample.name));
  const missing: string[] = [];
  const expressions = shippedExpressions(ROOT);
  assert.ok(expressions.length >= 15, `${expressions.length} expressions`);
  for (const { source, expr } of expressions) {
    // `up` is Prometheus' own series for its scrape targets.
    for (const series of seriesOf(expr)) if (series !== 'up' && !exposed.has(series)) missing.push(`${source}: ${series}`);
  }
  assert.deepEqual(missing, []);
});

it('the endpoint answers /healthz and refuses other paths', async () => {
  const base = metricsUrl.replace(/\/metrics$/, '');
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  assert.equal((await fetch(`${base}/other`)).status, 404);
});
