import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileBlueprintText } from '../../src/blueprint/compile.ts';
import { validateText } from '../../src/blueprint/validate.ts';
import { CairnError, errorsOf } from '../../src/diagnostics.ts';
import { planSteps, type PlanGroup, type PlanStep } from '../../src/plan/types.ts';
import type { TargetRef } from '../../src/target.ts';

const target: TargetRef = { kind: 'StatefulSet', namespace: 'shop', name: 'db' };
const SNAPSHOT = `'{{eq (default "logical" Options.strategy) "snapshot"}}'`;
const LOGICAL = `'{{eq (default "logical" Options.strategy) "logical"}}'`;
const STRATEGY_CHECK = `'{{#if (or (eq (default "logical" Options.strategy) "logical") (eq (default "logical" Options.strategy) "snapshot"))}}true{{else}}options.strategy must be logical or snapshot{{/if}}'`;
const KEEP = `'{{not (eq "true" (toString (default false Options.keep)))}}'`;

/** A phase line: `- {name: x, func: KubeExec, …, when: …, dependsOn: […]}` (what follows the name is optional). */
function phase(name: string, when?: string, dependsOn?: string[]): string {
  return `{name: ${name}, func: KubeExec, args: {namespace: ns, pod: p, command: [echo, ${name}]}${when ? `, when: ${when}` : ''}${dependsOn ? `, dependsOn: [${dependsOn.join(', ')}]` : ''}}`;
}

function blueprint(conditions: { check?: string; dump?: string; cut?: string; copy?: string; extras?: string; cleanup?: string; dumpArtifact?: string; volumeArtifact?: string }): string {
  const when = (value: string | undefined) => (value ? `, when: ${value}` : '');
  return `
apiVersion: cairn.io/v1alpha1
kind: Blueprint
metadata: {name: two-ways}
actions:
  backup:
    kinds: [StatefulSet]
    outputArtifacts:
      dump: {keyValue: {id: "{{Phases.dump.Output.id}}"}${when(conditions.dumpArtifact)}}
      volume: {keyValue: {id: "{{Phases.copy.Output.id}}"}${when(conditions.volumeArtifact)}}
    phases:
      - ${phase('check', conditions.check)}
      - ${phase('dump', conditions.dump)}
      - name: cut
        phases:
          - ${phase('quiesce')}
          - ${phase('snap')}
        deferPhase: ${phase('unquiesce')}${conditions.cut ? `\n        when: ${conditions.cut}` : ''}
      - ${phase('copy', conditions.copy)}
      - ${phase('extras', conditions.extras, ['cut'])}
      - ${phase('report', undefined, ['copy', 'extras', 'dump'])}
      - ${phase('last')}
    deferPhase: ${phase('cleanup', conditions.cleanup)}
`;
}

const BLUEPRINT = blueprint({ check: STRATEGY_CHECK, dump: LOGICAL, cut: SNAPSHOT, copy: SNAPSHOT, extras: SNAPSHOT, cleanup: KEEP, dumpArtifact: LOGICAL, volumeArtifact: SNAPSHOT });

function plan(options: Record<string, string | boolean> = {}) {
  return compileBlueprintText(BLUEPRINT, 'two-ways.yaml', { action: 'backup', target, options });
}

describe('when: entries decided by the options when the plan is compiled', () => {
  it('validates', () => {
    const { diagnostics } = validateText(BLUEPRINT, 'two-ways.yaml');
    assert.deepEqual(errorsOf(diagnostics), []);
  });

  it('keeps the default path and drops the other, with its artifact', () => {
    const logical = plan();
    assert.deepEqual(planSteps(logical).map((s) => s.id), ['check', 'dump', 'report', 'last', 'cleanup']);
    assert.deepEqual(Object.keys(logical.outputArtifacts), ['dump']);
    assert.equal((logical.outputArtifacts.dump as { when?: string }).when, undefined, 'the when itself is not in the plan');
    assert.equal(logical.stepCount, 5);
  });

  it('passes dependencies on dropped phases on to what those depended on', () => {
    const logical = plan();
    const byId = new Map(logical.nodes.map((n) => [n.id, n]));
    assert.deepEqual(byId.get('dump')?.dependsOn, ['check']);
    // report depended on copy (→ cut → dump), extras (→ cut) and dump: all of it comes down to dump.
    assert.deepEqual(byId.get('report')?.dependsOn, ['dump']);
    assert.deepEqual(byId.get('last')?.dependsOn, ['report']);

    const snapshot = plan({ strategy: 'snapshot' });
    const nodes = new Map(snapshot.nodes.map((n) => [n.id, n]));
    assert.deepEqual([...nodes.keys()], ['check', 'cut', 'copy', 'extras', 'report', 'last']);
    assert.deepEqual(nodes.get('cut')?.dependsOn, ['check'], 'the dropped dump passed its own dependency on');
    assert.deepEqual(nodes.get('copy')?.dependsOn, ['cut']);
    // report's dump came down to dump's own dependency, check: redundant with copy's, and harmless.
    assert.deepEqual(nodes.get('report')?.dependsOn, ['copy', 'extras', 'check']);
    const cut = nodes.get('cut') as PlanGroup;
    assert.deepEqual(cut.nodes.map((n) => n.id), ['quiesce', 'snap']);
    assert.equal(cut.defer?.id, 'unquiesce');
    assert.deepEqual(Object.keys(snapshot.outputArtifacts), ['volume']);
  });

  it('decides defer phases too', () => {
    assert.equal(plan({ keep: true }).defer, undefined);
    assert.equal(plan({ keep: 'true' }).defer, undefined);
    assert.equal((plan({ keep: false }).defer as PlanStep).id, 'cleanup');
  });

  it('refuses options a when does not accept, with the text it rendered', () => {
    assert.throws(() => plan({ strategy: 'snapshots' }), (error: unknown) => {
      assert.ok(error instanceof CairnError);
      assert.equal(error.diagnostics[0]?.code, 'when-value');
      assert.equal(error.diagnostics[0]?.path, 'actions.backup.phases[0].when');
      assert.match(error.message, /options\.strategy must be logical or snapshot/);
      return true;
    });
  });

  it('leaves a plan without any when exactly as before', () => {
    const plain = blueprint({});
    assert.doesNotMatch(plain, /when/);
    const compiled = compileBlueprintText(plain, 'plain.yaml', { action: 'backup', target, options: { strategy: 'snapshot' } });
    assert.equal(planSteps(compiled).length, 10);
    assert.deepEqual(compiled.nodes.find((n) => n.id === 'report')?.dependsOn, ['copy', 'extras', 'dump']);
  });

  it('can choose by the input artifacts a run was given', () => {
    const restore = `
apiVersion: cairn.io/v1alpha1
kind: Blueprint
metadata: {name: by-artifact}
actions:
  restore:
    kinds: [StatefulSet]
    inputArtifactNames: [dump, volume]
    phases:
      - ${phase('fromDump', `'{{#if (default "" ArtifactsIn.dump)}}true{{else}}false{{/if}}'`)}
      - ${phase('fromVolume', `'{{#if (default "" ArtifactsIn.volume)}}true{{else}}false{{/if}}'`)}
`;
    assert.deepEqual(errorsOf(validateText(restore, 'r.yaml').diagnostics), []);
    const steps = (artifacts: Record<string, { KeyValue: Record<string, string> }>) =>
      planSteps(compileBlueprintText(restore, 'r.yaml', { action: 'restore', target, artifacts })).map((s) => s.id);
    assert.deepEqual(steps({ volume: { KeyValue: { id: 'x' } } }), ['fromVolume']);
    assert.deepEqual(steps({ dump: { KeyValue: { id: 'y' } } }), ['fromDump']);
    assert.throws(() => steps({}), /every phase is left out by its when/);
  });

  it('reports a when that reads anything but the options, and bad syntax, at validation', () => {
    const bad = blueprint({ dump: `'{{eq Phases.check.Output.x "y"}}'`, extras: `'{{eq Options.x'` });
    const { diagnostics } = validateText(bad, 'bad.yaml');
    const codes = diagnostics.map((d) => `${d.code} ${d.path}`);
    assert.ok(codes.includes('when-reference actions.backup.phases[1].when'), codes.join('\n'));
    assert.ok(codes.some((c) => c.startsWith('template-syntax actions.backup.phases[4].when')), codes.join('\n'));
  });
});
