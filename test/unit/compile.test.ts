import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { compileBlueprintText, compilePlan } from '../../src/blueprint/compile.ts';
import { validateText } from '../../src/blueprint/validate.ts';
import { CairnError } from '../../src/diagnostics.ts';
import { planSteps, type PlanGroup, type PlanStep } from '../../src/plan/types.ts';
import type { TargetRef } from '../../src/target.ts';

const root = join(import.meta.dirname, '../..');
const scopedFile = join(root, 'test/fixtures/blueprints/scoped-release.yaml');
const scopedText = readFileSync(scopedFile, 'utf8');
const target: TargetRef = { kind: 'StatefulSet', namespace: 'shop', name: 'postgres' };

function scopedPlan(options = {}) {
  return compileBlueprintText(scopedText, scopedFile, { action: 'backup', target, options });
}

describe('compiling an action into an execution plan', () => {
  it('makes each phase depend on the one before it unless dependsOn says otherwise', () => {
    const plan = scopedPlan();
    const [group, exportStep, checksum, cleanup] = plan.nodes;
    assert.equal(group?.type, 'group');
    assert.deepEqual(group?.dependsOn, []);
    assert.deepEqual(exportStep?.dependsOn, ['consistentCut']);
    assert.deepEqual(checksum?.dependsOn, ['consistentCut']);
    assert.deepEqual(cleanup?.dependsOn, ['export', 'checksum']);
    const inner = (group as PlanGroup).nodes;
    assert.deepEqual(inner.map((n) => [n.id, n.dependsOn]), [['quiesce', []], ['snapshot', ['quiesce']]]);
  });

  it("keeps a group's defer phase inside the group, so it runs when the group ends", () => {
    const plan = scopedPlan();
    const group = plan.nodes[0] as PlanGroup;
    assert.equal(group.defer?.id, 'unquiesce');
    assert.equal(plan.defer?.id, 'report');
    assert.deepEqual(planSteps(plan).map((s) => s.id), ['quiesce', 'snapshot', 'unquiesce', 'export', 'checksum', 'cleanup', 'report']);
    assert.equal(plan.stepCount, 7);
  });

  it('turns timeouts and retry policies into milliseconds and fills in defaults', () => {
    const plan = scopedPlan();
    const quiesce = (plan.nodes[0] as PlanGroup).nodes[0] as PlanStep;
    assert.equal(quiesce.timeoutMs, 30_000);
    assert.deepEqual(quiesce.retry, { maximumAttempts: 3, initialIntervalMs: 1000, backoffCoefficient: 2, maximumIntervalMs: 60_000 });
    const pg = compileBlueprintText(readFileSync(join(root, 'blueprints/postgresql.yaml'), 'utf8'), 'postgresql.yaml', { action: 'backup', target });
    const dump = pg.nodes[1] as PlanStep;
    assert.equal(dump.timeoutMs, 2 * 3600 * 1000);
    assert.deepEqual(dump.retry, { maximumAttempts: 3, initialIntervalMs: 10_000, backoffCoefficient: 2, maximumIntervalMs: 60_000 });
  });

  it('keeps templates unrendered and records which phase outputs a step reads', () => {
    const plan = scopedPlan();
    const cleanup = plan.nodes[3] as PlanStep;
    assert.equal(cleanup.args.name, '{{Phases.snapshot.Output.name}}');
    assert.deepEqual(cleanup.reads, ['snapshot']);
  });

  it('gives objects the target namespace by default', () => {
    const pg = compileBlueprintText(readFileSync(join(root, 'blueprints/postgresql.yaml'), 'utf8'), 'postgresql.yaml', { action: 'backup', target });
    assert.deepEqual((pg.nodes[1] as PlanStep).objects.credentials, { kind: 'Secret', name: '{{Target.name}}-credentials', namespace: '{{Namespace}}' });
  });
});

describe('plan hashes', () => {
  it('are the same for the same input, byte for byte', () => {
    assert.equal(JSON.stringify(scopedPlan({ a: '1' })), JSON.stringify(scopedPlan({ a: '1' })));
  });

  it('do not depend on key order, comments or formatting of the source', () => {
    const reordered = scopedText
      .replace('# A snapshot backup', '# reworded comment\n# A snapshot backup')
      .replace('kind: Blueprint\nmetadata:\n  name: scoped-release', 'metadata:\n  name: scoped-release\nkind: Blueprint');
    assert.notEqual(reordered, scopedText);
    const plan = compileBlueprintText(reordered, 'other.yaml', { action: 'backup', target });
    assert.equal(plan.hash, scopedPlan().hash);
  });

  it('change when options, target or blueprint change', () => {
    const base = scopedPlan().hash;
    assert.notEqual(scopedPlan({ strategy: 'snapshot' }).hash, base);
    assert.notEqual(compileBlueprintText(scopedText, scopedFile, { action: 'backup', target: { ...target, name: 'other' } }).hash, base);
    assert.notEqual(compileBlueprintText(scopedText.replace('timeout: 30s', 'timeout: 31s'), scopedFile, { action: 'backup', target }).hash, base);
  });

  it('are stable across processes', () => {
    const script = `import { compileBlueprintText } from './src/blueprint/compile.ts';
import { readFileSync } from 'node:fs';
const f = 'test/fixtures/blueprints/scoped-release.yaml';
process.stdout.write(compileBlueprintText(readFileSync(f, 'utf8'), f, { action: 'backup', target: { kind: 'StatefulSet', namespace: 'shop', name: 'postgres' } }).hash);`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, scopedPlan().hash);
  });
});

describe('compile errors', () => {
  const blueprint = validateText(scopedText, scopedFile).blueprints[0]!.blueprint;

  it('names the actions when the action does not exist', () => {
    assert.throws(() => compilePlan({ blueprint, action: 'bakup', target }), (error: CairnError) => {
      assert.equal(error.diagnostics[0]?.code, 'unknown-action');
      assert.equal(error.diagnostics[0]?.hint, 'did you mean "backup"?');
      return true;
    });
  });

  it('refuses a target kind the action does not apply to', () => {
    assert.throws(() => compilePlan({ blueprint, action: 'backup', target: { kind: 'Deployment', namespace: 'shop', name: 'api' } }), /applies to StatefulSet, not to Deployment/);
  });

  it('refuses to compile an invalid blueprint and lists its errors', () => {
    assert.throws(() => compileBlueprintText(scopedText.replace('func: CopyVolumeData', 'func: CopyVolumeDta'), 'bad.yaml', { action: 'backup', target }), (error: CairnError) => {
      assert.equal(error.diagnostics[0]?.code, 'unknown-function');
      assert.equal(error.diagnostics[0]?.file, 'bad.yaml');
      return true;
    });
  });
});
