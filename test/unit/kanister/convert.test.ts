import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { PhaseSpec } from '../../../src/blueprint/types.ts';
import { validateText } from '../../../src/blueprint/validate.ts';
import { errorsOf } from '../../../src/diagnostics.ts';
import { importKanisterFile, importKanisterText } from '../../../src/kanister/import.ts';
import type { TemplateContext } from '../../../src/template/context.ts';
import { renderString } from '../../../src/template/render.ts';

const fixtures = join(import.meta.dirname, '../../fixtures/kanister');

async function imported(name: string) {
  const result = await importKanisterFile(join(fixtures, `${name}.yaml`));
  assert.deepEqual(errorsOf(result.diagnostics), [], `${name} should convert`);
  assert.ok(result.yaml);
  return { ...result, yaml: result.yaml, blueprint: result.blueprints[0]! };
}

function phase(blueprint: { actions: Record<string, { phases: unknown[]; deferPhase?: PhaseSpec }> }, action: string, name: string): PhaseSpec {
  const entries = [...blueprint.actions[action]!.phases, blueprint.actions[action]!.deferPhase] as PhaseSpec[];
  return entries.find((p) => p?.name === name)!;
}

describe('Kanister blueprints convert into Cairn blueprints', () => {
  for (const name of ['mysql', 'postgresql', 'etcd-csi', 'control-flow', 'functions', 'mysql-kando']) {
    it(`${name}.yaml converts to the expected Cairn YAML, which passes Cairn's validation`, async () => {
      const { yaml } = await imported(name);
      assert.equal(yaml, readFileSync(join(fixtures, 'expected', `${name}.cairn.yaml`), 'utf8'));
      assert.deepEqual(errorsOf(validateText(yaml, `${name}.cairn.yaml`).diagnostics), []);
    });
  }

  it('keeps actions, kinds, phases, functions, artifacts and defer phases', async () => {
    const { blueprint } = await imported('etcd-csi');
    assert.equal(blueprint.apiVersion, 'cairn.io/v1alpha1');
    assert.equal(blueprint.kind, 'Blueprint');
    assert.deepEqual(Object.keys(blueprint.actions), ['backup', 'restore', 'delete']);
    const backup = blueprint.actions.backup!;
    assert.deepEqual(backup.kinds, ['StatefulSet']);
    assert.deepEqual(backup.phases.map((p) => [p.name, (p as PhaseSpec).func]), [['defragment', 'KubeExec'], ['stopWrites', 'ScaleWorkload'], ['snapshotData', 'CreateCSISnapshot']]);
    assert.deepEqual(backup.deferPhase, {
      name: 'resumeWrites',
      func: 'ScaleWorkload',
      args: { namespace: '{{Target.namespace}}', name: '{{Target.name}}', kind: 'StatefulSet', replicas: '{{Phases.stopWrites.Output.originalReplicaCount}}' },
    });
    assert.deepEqual(backup.outputArtifacts?.etcdSnapshot?.keyValue?.name, '{{Phases.snapshotData.Output.name}}');
    assert.deepEqual(blueprint.actions.restore!.inputArtifactNames, ['etcdSnapshot']);
  });

  it('translates the time-stamped snapshot name (toDate … | date …)', async () => {
    const { blueprint } = await imported('etcd-csi');
    assert.equal(phase(blueprint, 'backup', 'snapshotData').args!.name, '{{Target.name}}-{{date "20060102-150405" (toDate "2006-01-02T15:04:05.999999999Z07:00" Time)}}');
  });

  it("translates KubeTask's kando script line by line, Secrets read decoded", async () => {
    const { blueprint } = await imported('mysql');
    const dump = phase(blueprint, 'backup', 'dumpToObjectStore');
    assert.deepEqual(dump.objects, {
      mysqlSecret: { kind: 'Secret', name: '{{index Object.metadata.labels "app.kubernetes.io/instance"}}', namespace: '{{Target.namespace}}' },
    });
    const script = (dump.args!.command as string[])[6]!.split('\n');
    assert.equal(script[1], 'root_password="{{Phases.dumpToObjectStore.Secrets.mysqlSecret.mysql-root-password}}"');
    assert.match(script[2]!, /kando location push --profile '\{\{toJson Profile\}\}' --path \$\{s3_path\} -$/);
  });

  it("declares in a phase the objects it reads from another phase or from the action's secretNames", async () => {
    const { blueprint } = await imported('postgresql');
    assert.deepEqual(phase(blueprint, 'restore', 'pgRestore').objects, {
      pgSecret: { kind: 'Secret', name: '{{Target.name}}-postgresql', namespace: '{{Target.namespace}}' },
    });
    assert.deepEqual(phase(blueprint, 'validate', 'countDatabases').objects, { adminCreds: { kind: 'Secret', name: '{{Options.secret-adminCreds}}' } });
  });

  it("tells how to name the ActionSet's Secrets, as a warning", async () => {
    const { diagnostics } = await imported('postgresql');
    const [warning] = diagnostics.filter((d) => d.code === 'action-object');
    assert.equal(warning?.severity, 'warning');
    assert.equal(warning?.line, 86);
    assert.match(warning?.hint ?? '', /--option secret-adminCreds=<name>/);
  });

  it('maps .DeferPhase.Output onto the defer phase by name', async () => {
    const { blueprint } = await imported('postgresql');
    assert.equal(blueprint.actions.backup!.outputArtifacts!.pgBackup!.keyValue!.checkedAt, '{{Phases.checkStillServing.Output.checkedAt}}');
  });

  it('infers kinds from the templates when the Kanister action names none, and says so', async () => {
    const { blueprint, diagnostics } = await imported('mysql');
    assert.deepEqual(blueprint.actions.delete!.kinds, ['Namespace']);
    assert.ok(diagnostics.some((d) => d.code === 'inferred-kinds' && d.severity === 'warning' && d.line === 64));
  });

  it('names a phase Kanister left unnamed, and reads Secrets the ActionSet gives without secretNames', () => {
    const text = [
      'apiVersion: cr.kanister.io/v1alpha1',
      'kind: Blueprint',
      'metadata: {name: unnamed}',
      'actions:',
      '  backup:',
      '    kind: StatefulSet',
      '    phases:',
      '    - func: KubeExec',
      '      name: dump',
      '      args: {namespace: "{{ .StatefulSet.Namespace }}", pod: "{{ index .StatefulSet.Pods 0 }}", command: [sh, -c, "echo {{ .Secrets.aws.Data.key | toString }}"]}',
      '    deferPhase:',
      '      func: KubeExec',
      '      args: {namespace: "{{ .StatefulSet.Namespace }}", pod: "{{ index .StatefulSet.Pods 0 }}", command: [echo, done]}',
      '  restore:',
      '    kind: StatefulSet',
      '    phases:',
      '    - {func: KubeExec, name: noop, args: {namespace: x, pod: y, command: [echo]}}',
    ].join('\n');
    const result = importKanisterText(text, 'unnamed.yaml');
    assert.deepEqual(errorsOf(result.diagnostics), []);
    const backup = result.blueprints[0]!.actions.backup!;
    assert.equal(backup.deferPhase?.name, 'kubeExec');
    assert.deepEqual((backup.phases[0] as PhaseSpec).objects, { aws: { kind: 'Secret', name: '{{Options.secret-aws}}' } });
    assert.deepEqual(result.diagnostics.map((d) => [d.code, d.line]), [['action-object', 6], ['generated-name', 12]]);
  });

  it('warns about what it leaves out and about templates that read another kind than the action names', () => {
    const text = [
      'apiVersion: cr.kanister.io/v1alpha1',
      'kind: Blueprint',
      'metadata: {name: warnings}',
      'actions:',
      '  backup:',
      '    kind: StatefulSet',
      '    phases:',
      '    - func: KubeExec',
      '      name: p',
      '      progressWeight: 10',
      '      args: {namespace: "{{ .Deployment.Namespace }}", pod: "{{ index .Deployment.Pods 0 }}", command: [echo]}',
      '  restore:',
      '    kind: StatefulSet',
      '    phases:',
      '    - {func: KubeExec, name: noop, args: {namespace: x, pod: y, command: [echo]}}',
    ].join('\n');
    const result = importKanisterText(text, 'warnings.yaml');
    assert.ok(result.yaml, 'warnings do not stop the import');
    assert.deepEqual(result.diagnostics.map((d) => [d.severity, d.code, d.line]), [['warning', 'kind-mismatch', 6], ['warning', 'ignored-field', 10]]);
  });

  it('converts every document of a multi-document file', () => {
    const one = (name: string) => `apiVersion: cr.kanister.io/v1alpha1\nkind: Blueprint\nmetadata: {name: ${name}}\nactions:\n  backup:\n    kind: Deployment\n    phases:\n    - {func: KubeExec, name: hello, args: {namespace: "{{ .Deployment.Namespace }}", pod: "{{ index .Deployment.Pods 0 }}", command: [echo]}}\n  restore:\n    kind: Deployment\n    phases:\n    - {func: KubeExec, name: hello, args: {namespace: "{{ .Deployment.Namespace }}", pod: "{{ index .Deployment.Pods 0 }}", command: [echo]}}\n`;
    const result = importKanisterText(`${one('first')}---\n${one('second')}`, 'two.yaml');
    assert.deepEqual(errorsOf(result.diagnostics), []);
    assert.deepEqual(result.blueprints.map((b) => b.metadata.name), ['first', 'second']);
    assert.equal(validateText(result.yaml!, 'two.cairn.yaml').blueprints.length, 2);
  });
});

describe("the rest of Kanister's function library imports under its own names", () => {
  it('keeps every function and its args; Wait stays Wait, KubeTask may omit its namespace', async () => {
    const { blueprint } = await imported('functions');
    const funcs = (action: string) => [...blueprint.actions[action]!.phases, blueprint.actions[action]!.deferPhase].filter(Boolean).map((p) => (p as PhaseSpec).func);
    assert.deepEqual(funcs('backup'), ['CheckRepository', 'KubeExecAll', 'BackupDataAll', 'BackupDataStats', 'MultiContainerRun', 'CreateCSISnapshotStatic', 'KubeTask']);
    assert.deepEqual(funcs('restore'), ['ScaleWorkload', 'RestoreDataAll', 'PrepareData', 'Wait', 'ScaleWorkload']);
    assert.deepEqual(funcs('delete'), ['DeleteDataAll', 'DeleteCSISnapshotContent']);
    assert.equal(phase(blueprint, 'backup', 'report').args!.namespace, undefined);
    assert.equal(phase(blueprint, 'restore', 'waitForPods').args!.conditions && (phase(blueprint, 'restore', 'waitForPods').args!.conditions as { anyOf: { condition: string }[] }).anyOf[0]!.condition, '$.status.readyReplicas == $.spec.replicas');
  });

  it("takes an action's inputArtifactNames from what its templates read when Kanister's names none, and says so", async () => {
    const { blueprint, diagnostics } = await imported('functions');
    assert.deepEqual(blueprint.actions.delete!.inputArtifactNames, ['backupInfo']);
    assert.ok(diagnostics.some((d) => d.code === 'inferred-input-artifacts' && d.line === 142));
  });

  it(".PodOverride is the run option podOverride, with a warning", async () => {
    const { blueprint, diagnostics } = await imported('functions');
    assert.match((phase(blueprint, 'backup', 'report').args!.command as string[])[2]!, /\{\{default "default" Options\.podOverride\.serviceAccountName\}\}/);
    assert.ok(diagnostics.some((d) => d.code === 'run-option' && /\.PodOverride .* run option podOverride/.test(d.message)));
  });

  it('renders the ordering, keys, contains, prefix, trim, split, arithmetic and ternary helpers as Go would', async () => {
    const { blueprint } = await imported('functions');
    const context = {
      Target: { kind: 'StatefulSet', namespace: 'shop', name: 'db', pods: ['db-0', 'db-1'], containers: {}, pvcs: {}, object: {} },
      Object: { metadata: { labels: { tier: 'data', app: 'db' } } },
      Namespace: 'shop',
      Phases: {},
      ArtifactsIn: {},
      Options: { version: 'v1.2.3', podOverride: { serviceAccountName: 'backup-sa' } },
      Time: '2026-03-04T05:06:07Z',
    } as unknown as TemplateContext;
    const report = renderString((phase(blueprint, 'backup', 'report').args!.command as string[])[2]!, context);
    // As Go renders it: the first body line follows the range tag's newline.
    assert.equal(report, ['', 'echo "label app=db"', 'echo "label tier=data"', 'echo "a database: DB"', 'echo "version 1.2.3 of 3"', 'echo "replicas: 3 many"', 'echo "service account: backup-sa"', ''].join('\n'));
    const background = renderString((phase(blueprint, 'backup', 'dumpAll').args!.backgroundCommand as string[])[2]!, context);
    assert.equal(background, '\nhost="db-1"\ndump --host "${host}" > /tmp/data\n');
  });
});
