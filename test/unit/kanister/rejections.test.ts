import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { PhaseSpec } from '../../../src/blueprint/types.ts';
import type { Diagnostic } from '../../../src/diagnostics.ts';
import { importKanisterFile, importKanisterText } from '../../../src/kanister/import.ts';

const bad = join(import.meta.dirname, '../../fixtures/kanister/bad');

/** [code, line, column] of each error, in file order. */
const places = (diagnostics: Diagnostic[]) => diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, d.line, d.column]);

async function rejected(name: string) {
  const result = await importKanisterFile(join(bad, `${name}.yaml`));
  assert.equal(result.yaml, undefined, `${name} must not produce a blueprint`);
  return result.diagnostics;
}

describe('what cannot be converted is reported with file:line:column, and nothing is produced', () => {
  it('rejects the AWS RDS functions with the reason, at the func', async () => {
    const diagnostics = await rejected('rds');
    assert.deepEqual(places(diagnostics), [['unsupported-function', 10, 13]]);
    assert.match(diagnostics[0]!.message, /CreateRDSSnapshot.*cloud-specific/);
    assert.equal(diagnostics[0]!.file, join(bad, 'rds.yaml'));
    assert.equal(diagnostics[0]!.path, 'actions.backup.phases[0].func');
  });

  it('rejects .Profile.Credential at each use inside the script', async () => {
    const diagnostics = await rejected('profile-credential');
    assert.deepEqual(places(diagnostics), [['profile-credentials', 19, 39], ['profile-credentials', 20, 43]]);
    assert.match(diagnostics[0]!.message, /^\{\{ \.Profile\.Credential\.KeyPair\.ID \}\}: Cairn never hands credentials to templates/);
  });

  it('tells an unknown Go function from a sprig function Cairn lacks', async () => {
    const diagnostics = await rejected('unknown-function');
    assert.deepEqual(places(diagnostics), [['unknown-template-function', 14, 45], ['unsupported-template-function', 15, 48]]);
    assert.match(diagnostics[0]!.message, /"frobnicate" is not a Go template or sprig function/);
  });

  it('reports a template syntax error at the action that does not parse', async () => {
    const diagnostics = await rejected('syntax-error');
    assert.deepEqual(places(diagnostics), [['go-template-syntax', 20, 11]]);
    assert.match(diagnostics[0]!.message, /\{\{if\}\} has no \{\{end\}\}/);
  });

  it('reports every problem of a file in one run', async () => {
    const diagnostics = await rejected('many-problems');
    assert.deepEqual(places(diagnostics), [
      ['unsupported-template-field', 15, 33],
      ['variable-assignment', 21, 44],
      ['unsupported-template-construct', 21, 77],
      ['unsupported-template-function', 22, 19],
      ['unsupported-function', 23, 13],
      ['unknown-function', 27, 13],
    ]);
    assert.equal(diagnostics.find((d) => d.code === 'unknown-function')?.hint, 'did you mean "KubeExec"?');
  });

  it("points Cairn's validation of the converted blueprint back at the Kanister line", async () => {
    const diagnostics = await rejected('invalid-args');
    assert.deepEqual(places(diagnostics), [['schema', 17, 27]]);
    assert.equal(diagnostics[0]!.path, 'actions.delete.phases[0].args.backupIdentifier');
    assert.match(diagnostics[0]!.message, /unknown field "backupIdentifier" in the args of DeleteData/);
  });
});

describe('problems inside templates point at the construct, whatever the YAML string style', () => {
  it('finds the construct in folded, multi-line quoted and escaped strings', () => {
    const text = [
      'apiVersion: cr.kanister.io/v1alpha1',
      'kind: Blueprint',
      'metadata: {name: styles}',
      'actions:',
      '  backup:',
      '    kind: StatefulSet',
      '    phases:',
      '    - func: KubeExec',
      '      name: p',
      '      args:',
      '        namespace: "{{ .StatefulSet.Namespace }}"',
      '        pod: >-',
      '          {{ index .StatefulSet.Pods 0 }}',
      '          {{ .Nope }}',
      '        container: "a {{ .Nope }}',
      '          b {{ .Nope }}"',
      '        command:',
      '        - "x \\" {{ .Quoted }}"',
      '        - |',
      '            echo {{ .Nope }} {{ .Nope }}',
    ].join('\n');
    assert.deepEqual(places(importKanisterText(text, 'styles.yaml').diagnostics), [
      ['unknown-template-field', 14, 14],
      ['unknown-template-field', 15, 26],
      ['unknown-template-field', 16, 16],
      ['unknown-template-field', 18, 20],
      ['unknown-template-field', 20, 21],
      ['unknown-template-field', 20, 33],
    ]);
  });
});

describe('bad input files', () => {
  const codes = (text: string) => places(importKanisterText(text, 'in.yaml').diagnostics).map(([code]) => code);

  it('rejects files that are not Kanister blueprints', () => {
    assert.deepEqual(codes('apiVersion: cairn.io/v1alpha1\nkind: Blueprint\nmetadata: {name: x}\nactions: {}\n'), ['already-cairn']);
    assert.deepEqual(codes('apiVersion: v1\nkind: ConfigMap\n'), ['not-kanister']);
    assert.deepEqual(codes('- a\n- b\n'), ['not-a-blueprint']);
  });

  it('rejects malformed YAML, duplicate keys, empty files and alias bombs through the one YAML loader', () => {
    assert.deepEqual(codes('apiVersion: [\n'), ['yaml-syntax']);
    assert.deepEqual(codes('apiVersion: a\napiVersion: b\n'), ['duplicate-key']);
    assert.deepEqual(codes(''), ['empty-file']);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 6 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`)].join('\n');
    assert.deepEqual(codes(`${bomb}\n`), ['yaml-alias-limit']);
  });

  it('rejects wrong types with their place', () => {
    const text = [
      'apiVersion: cr.kanister.io/v1alpha1',
      'kind: Blueprint',
      'metadata: {name: types}',
      'actions:',
      '  backup:',
      '    kind: StatefulSet',
      '    secretNames: creds',
      '    phases:',
      '    - func: KubeExec',
      '      name: p',
      '      args: [namespace]',
      '  restore: just-a-string',
    ].join('\n');
    assert.deepEqual(places(importKanisterText(text, 'types.yaml').diagnostics), [
      ['invalid-field', 7, 18],
      ['invalid-field', 11, 13],
      ['not-an-action', 12, 12],
    ]);
  });

  it('rejects names Cairn cannot use and object kinds it cannot resolve', () => {
    const text = [
      'apiVersion: cr.kanister.io/v1alpha1',
      'kind: Blueprint',
      'metadata: {name: odd}',
      'actions:',
      '  backup:',
      '    kind: DeploymentConfig',
      '    phases:',
      '    - func: KubeExec',
      '      name: "take snapshot"',
      '    - func: KubeExec',
      '      name: ok',
      '      objects:',
      '        pod: {kind: Pod, name: x}',
      '      args: {namespace: x, pod: y, command: [z], "{{ .Time }}": 1}',
    ].join('\n');
    assert.deepEqual(places(importKanisterText(text, 'odd.yaml').diagnostics), [
      ['unsupported-kind', 6, 11],
      ['invalid-name', 9, 13],
      ['unsupported-object-kind', 13, 21],
      ['template-in-key', 14, 65],
    ]);
  });

  it("rejects a WaitV2 condition that Cairn's condition language cannot express, and translates the rest", () => {
    const text = [
      'apiVersion: cr.kanister.io/v1alpha1',
      'kind: Blueprint',
      'metadata: {name: wait}',
      'actions:',
      '  backup:',
      '    kind: Deployment',
      '    phases:',
      '    - func: WaitV2',
      '      name: waitReady',
      '      args:',
      '        timeout: 5m',
      '        conditions:',
      '          anyOf:',
      '          - condition: \'{{ if (eq (len .status.containerStatuses) 2) }}true{{ else }}false{{ end }}\'',
      '            objectReference: {apiVersion: v1, resource: pods, name: "{{ index .Deployment.Pods 0 }}", namespace: "{{ .Deployment.Namespace }}"}',
    ].join('\n');
    const result = importKanisterText(text, 'wait.yaml');
    assert.deepEqual(places(result.diagnostics), [['unsupported-wait-condition', 14, 36]]);
    assert.match(result.diagnostics[0]!.message, /"len" has no equivalent/);
  });

  it('keeps keys such as __proto__ as data', () => {
    const text = 'apiVersion: cr.kanister.io/v1alpha1\nkind: Blueprint\nmetadata: {name: x}\nactions:\n  backup:\n    kind: StatefulSet\n    phases:\n    - func: KubeTask\n      name: p\n      args: {namespace: x, image: y, command: [z], podOverride: {__proto__: {polluted: "{{ .StatefulSet.Name }}"}}}\n';
    const result = importKanisterText(text, 'x.yaml');
    const podOverride = (result.blueprints[0]!.actions.backup!.phases[0] as PhaseSpec).args!.podOverride as object;
    assert.deepEqual(Object.getOwnPropertyNames(podOverride), ['__proto__']);
    assert.equal(Object.getPrototypeOf(podOverride), Object.prototype);
  });

  it('does not evaluate templates: a template in a Secret value stays data', () => {
    const text = 'apiVersion: cr.kanister.io/v1alpha1\nkind: Blueprint\nmetadata: {name: x}\nactions:\n  backup:\n    kind: StatefulSet\n    phases:\n    - func: KubeExec\n      name: p\n      args: {namespace: "{{ .StatefulSet.Namespace }}", pod: "{{ index .StatefulSet.Pods 0 }}", command: [echo, "{{ `{{ .Profile.Credential }}` }}"]}\n';
    const result = importKanisterText(text, 'x.yaml');
    // The Go string literal prints text that looks like a template; handlebars must print it, not run it.
    assert.match(result.yaml ?? '', /concat "\{\{ \.Profile\.Credential \}\}"/);
  });
});
