/**
 * Records workflow histories for the determinism test (test/integration/run/replay.test.ts). Run it when a
 * deliberate, versioned change to workflow code makes old histories obsolete:
 *   node_modules/.bin/node --import tsx test/support/record-histories.ts
 * Each history is one run of the current workflow code against the local dev server.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ensureTemporalBinary, inProcessWorker, temporalFixture } from './temporal.ts';

const DIR = join(import.meta.dirname, '../fixtures/histories');
const blueprintDirs = [join(import.meta.dirname, '../fixtures/run-blueprints')];

const fixture = await temporalFixture('record');
const worker = await inProcessWorker(fixture, { blueprintDirs });
await worker.runUntil(async () => {
  const start = (name: string, input: Record<string, unknown>) =>
    fixture.client.workflow.start('runAction', { taskQueue: fixture.taskQueue, workflowId: `${fixture.taskQueue}-${name}`, args: [input] });
  const scoped = await import('node:fs/promises').then((fs) => fs.readFile(join(import.meta.dirname, '../fixtures/run-blueprints/scoped-sleep.yaml'), 'utf8'));
  const runs = {
    'backup-succeeded': await start('ok', { blueprint: { name: 'sleepy' }, action: 'backup', target: 'statefulset/shop/db' }),
    'backup-scoped-parallel': await start('scoped', { blueprint: { inline: scoped, file: 'scoped-sleep.yaml' }, action: 'backup', target: 'statefulset/shop/db' }),
    'backup-failed-defers': await start('failed', { blueprint: { inline: scoped, file: 'scoped-sleep.yaml' }, action: 'backup', target: 'statefulset/shop/db', options: { exportDuration: 'never' } }),
    'restore-with-artifacts': await start('restore', { blueprint: { name: 'sleepy' }, action: 'restore', target: 'statefulset/shop/db', artifacts: { marker: { KeyValue: { slept: '20' } } } }),
  };
  const cancelled = await start('cancelled', { blueprint: { inline: scoped, file: 'scoped-sleep.yaml' }, action: 'backup', target: 'statefulset/shop/db', options: { exportDuration: '1m' } });
  await new Promise((r) => setTimeout(r, 3000));
  await cancelled.cancel();
  for (const [name, handle] of [...Object.entries(runs), ['backup-cancelled', cancelled] as const]) {
    await handle.result().catch(() => undefined);
    // The CLI writes the JSON form that historyFromJSON (and the Web UI's download) reads.
    const json = execFileSync(await ensureTemporalBinary(), ['workflow', 'show', '--address', fixture.address, '--namespace', fixture.namespace, '--workflow-id', handle.workflowId, '--output', 'json'], { encoding: 'utf8' });
    await writeFile(join(DIR, `${name}.json`), json);
    console.log(`recorded ${name}`);
  }
});
await fixture.close();
