import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { compileBlueprintText } from '../../src/blueprint/compile.ts';
import type { JsonObject, JsonValue } from '../../src/json.ts';
import { planSteps, type PlanStep } from '../../src/plan/types.ts';
import type { TemplateContext } from '../../src/template/context.ts';
import { renderValue } from '../../src/template/render.ts';

// The snapshot strategy of the shipped PostgreSQL and MySQL blueprints, rendered as a run would render it
// (a password full of shell metacharacters, every output a phase reads), without a cluster: which phases the
// strategy and the input artifacts choose, and that every shell script parses.
const ROOT = join(import.meta.dirname, '../..');
const PASSWORD = `p'a"s$(touch /tmp/x)\`s w\\rd`;
const target = { kind: 'StatefulSet', namespace: 'shop', name: 'db' } as const;
const BLUEPRINTS = {
  postgresql: { artifact: 'pgSnapshot', secretKeys: ['POSTGRES_USER', 'POSTGRES_PASSWORD'] },
  mysql: { artifact: 'mysqlSnapshot', secretKeys: ['MYSQL_ROOT_PASSWORD'] },
} as const;

function context(step: PlanStep, options: JsonObject, secretKeys: readonly string[], artifact: string): TemplateContext {
  const phases: TemplateContext['Phases'] = {};
  for (const match of JSON.stringify(step.args).matchAll(/Phases\.(\w+)\.Output\.(\w+)/g)) {
    (phases[match[1]!] ??= { Output: {}, Secrets: {}, ConfigMaps: {} }).Output[match[2]!] = match[2] === 'snapshots' ? { 'data-db-0': 'snap-1' } : match[2] === 'pvc' ? 'data-db-0' : `value of ${match[2]} with 'quotes'`;
  }
  const own = (phases[step.id] ??= { Output: {}, Secrets: {}, ConfigMaps: {} });
  for (const name of Object.keys(step.objects)) own.Secrets[name] = Object.fromEntries(secretKeys.map((key) => [key, PASSWORD]));
  const object: JsonObject = { spec: { replicas: 1 } };
  return {
    Target: { ...target, pods: ['db-0'], containers: { 'db-0': ['db'] }, pvcs: { 'db-0': ['data-db-0'] }, object },
    Object: object,
    Namespace: 'shop',
    Phases: phases,
    ArtifactsIn: { [artifact]: { KeyValue: { session: 'cairn-db-20261122t000000000z', pvc: 'data-db-0', exportPvc: 'cairn-db-20261122t000000000z-export', dataSubPath: 'pg data', volumeBackupID: 'a'.repeat(32), volumePrefix: 'p', walBackupID: 'b'.repeat(32), walPrefix: 'w' } } },
    Options: options,
    Time: '2026-11-22T00:00:00.000Z',
  };
}

function scriptsParse(plan: ReturnType<typeof compileBlueprintText>, options: JsonObject, secretKeys: readonly string[], artifact: string): void {
  for (const step of planSteps(plan)) {
    const rendered = renderValue(step.args, context(step, options, secretKeys, artifact)) as { command?: JsonValue };
    const command = Array.isArray(rendered.command) ? rendered.command.map(String) : undefined;
    if (command?.[0] !== 'sh' || command[1] !== '-c') continue;
    const parsed = spawnSync('sh', ['-n', '-c', command[2]!], { encoding: 'utf8' });
    assert.equal(parsed.status, 0, `${step.id}: ${parsed.stderr}\n${command[2]}`);
    if (Object.keys(step.objects).length > 0) assert.ok(command[2]!.includes(`'p'\\''a"s$(touch /tmp/x)\`s w\\rd'`), `${step.id} quotes the password`);
  }
}

for (const [name, { artifact, secretKeys }] of Object.entries(BLUEPRINTS)) {
  const file = join(ROOT, 'blueprints', `${name}.yaml`);
  const text = readFileSync(file, 'utf8');
  describe(`blueprints/${name}.yaml, snapshot strategy`, () => {
    it('backup: quiesce, snapshot and unquiesce in one group that ends before the export; every script parses', () => {
      const options = { strategy: 'snapshot', quiesceTimeout: '5', keepLocalSnapshot: 'true' };
      const plan = compileBlueprintText(text, file, { action: 'backup', target, options });
      const ids = planSteps(plan).map((s) => s.id);
      assert.ok(!ids.includes('dumpToLocation'));
      const cut = ids.indexOf('unquiesce');
      assert.deepEqual(ids.slice(cut - 2, cut + 1), ['quiesce', 'snapshot', 'unquiesce']);
      assert.ok(ids.indexOf('copyVolume') > cut, 'the export comes after the unquiesce');
      assert.ok(!ids.includes('dropSnapshot'), 'keepLocalSnapshot keeps the snapshot');
      assert.ok(compileBlueprintText(text, file, { action: 'backup', target, options: { strategy: 'snapshot' } }).stepCount > plan.stepCount);
      assert.deepEqual(Object.keys(plan.outputArtifacts), [artifact]);
      scriptsParse(plan, options, secretKeys, artifact);
    });

    it('restore and delete take the snapshot path when given its artifact, and every script parses', () => {
      const artifacts = { [artifact]: { KeyValue: { session: 's' } } };
      for (const action of ['restore', 'delete']) {
        const plan = compileBlueprintText(text, file, { action, target, artifacts });
        const ids = planSteps(plan).map((s) => s.id);
        assert.ok(!ids.includes('restoreFromLocation') && !ids.includes('deleteDump'), ids.join());
        if (action === 'restore') assert.deepEqual([ids[0], ids.at(-2)], ['scaleDown', 'scaleUp']);
        scriptsParse(plan, {}, secretKeys, artifact);
      }
    });

    it('refuses an unknown strategy before anything runs', () => {
      assert.throws(() => compileBlueprintText(text, file, { action: 'backup', target, options: { strategy: 'snapshots' } }), /options\.strategy must be "logical" or "snapshot"/);
    });
  });
}
