import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { main } from '../../../src/cli/main.ts';
import { runningWorker, type RunningWorker, type TemporalFixture } from '../../support/temporal.ts';

const sleepy = join(import.meta.dirname, '../../fixtures/run-blueprints/sleepy.yaml');
let fixture: TemporalFixture;
let serving: RunningWorker;

before(async () => {
  serving = await runningWorker('cli', { blueprintDirs: [join(import.meta.dirname, '../../fixtures/run-blueprints')] });
  fixture = serving.fixture;
});

after(async () => {
  await serving?.stop();
});

async function cairn(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main([...argv, '--address', fixture.address, '--task-queue', fixture.taskQueue], { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

it('cairn run --wait --output json runs a blueprint file and reports outcome, outputs and artifacts', async () => {
  const { code, stdout } = await cairn('run', sleepy, '--action', 'backup', '--target', 'statefulset/shop/db', '--option', 'second=120ms', '--wait', '--output', 'json');
  assert.equal(code, 0);
  const report = JSON.parse(stdout) as { workflowId: string; outcome: string; phaseOutputs: Record<string, { sleptMs: number }>; outputArtifacts: Record<string, { KeyValue: Record<string, string> }> };
  assert.equal(report.outcome, 'succeeded');
  assert.equal(report.phaseOutputs.second?.sleptMs, 120);
  assert.deepEqual(report.outputArtifacts.marker?.KeyValue, { slept: '120' });

  const restore = await cairn('run', 'sleepy', '--action', 'restore', '--target', 'statefulset/shop/db', '--from', report.workflowId, '--wait', '--output', 'json');
  assert.equal(restore.code, 0, restore.stderr);
  assert.equal((JSON.parse(restore.stdout) as { phaseOutputs: Record<string, { sleptMs: number }> }).phaseOutputs.check?.sleptMs, 120);
});

it('cairn status shows running phases with their heartbeat progress, and cairn cancel stops the run', async () => {
  const started = await cairn('run', 'sleepy', '--action', 'backup', '--target', 'statefulset/shop/db', '--option', 'second=5m', '--output', 'json');
  assert.equal(started.code, 0);
  const { workflowId } = JSON.parse(started.stdout) as { workflowId: string };
  let status: { status: string; progress?: { current: string[] }; activeProgress: Record<string, { details?: { sleptMs: number } }> } | undefined;
  for (let i = 0; i < 100; i++) {
    const shown = await cairn('status', workflowId, '--output', 'json');
    assert.equal(shown.code, 0);
    status = JSON.parse(shown.stdout) as typeof status;
    if ((status?.activeProgress.second?.details?.sleptMs ?? 0) >= 1000) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.equal(status?.status, 'RUNNING');
  assert.deepEqual(status?.progress?.current, ['second']);
  assert.ok((status?.activeProgress.second?.details?.sleptMs ?? 0) >= 1000);
  const text = await cairn('status', workflowId);
  assert.match(text.stdout, /second\s+Sleep\s+running\s+attempt 1 \{"sleptMs"/);

  const cancelled = await cairn('cancel', workflowId, '--wait', '--output', 'json');
  assert.equal(cancelled.code, 0);
  assert.deepEqual(JSON.parse(cancelled.stdout), { workflowId, status: 'CANCELLED' });
});

it('cairn run refuses an invalid blueprint file before starting anything, and a missing run is exit 1', async () => {
  const invalid = await cairn('run', join(import.meta.dirname, '../../fixtures/blueprints/many-errors.yaml'), '--action', 'backup', '--target', 'statefulset/shop/db');
  assert.equal(invalid.code, 1);
  assert.match(invalid.stderr, /many-errors\.yaml:10:15: error: .*unknown function "KubeExek"/);
  assert.equal((await cairn('status', 'no-such-run')).code, 1);
  assert.equal((await cairn('run', sleepy, '--target', 'statefulset/shop/db')).code, 2);
});
