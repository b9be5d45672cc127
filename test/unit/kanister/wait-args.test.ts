import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PhaseSpec } from '../../../src/blueprint/types.ts';
import { importKanisterText } from '../../../src/kanister/import.ts';

const kanister = (phases: string[]) =>
  ['apiVersion: cr.kanister.io/v1alpha1', 'kind: Blueprint', 'metadata: {name: wait}', 'actions:', '  backup:', '    kind: Deployment', '    phases:', ...phases].join('\n');

const errors = (text: string) => importKanisterText(text, 'wait.yaml').diagnostics.filter((d) => d.severity === 'error');

describe("Kanister's Wait and WaitV2 conditions become Cairn conditions", () => {
  it("translates WaitV2's Go template over the object, and renders its object reference and timeout as other args", () => {
    const result = importKanisterText(
      kanister([
        '    - func: WaitV2',
        '      name: waitReady',
        '      args:',
        '        timeout: "{{ .Options.waitFor }}"',
        '        conditions:',
        '          anyOf:',
        `          - condition: '{{ if (eq .status.phase "Running") }}true{{ else }}false{{ end }}'`,
        '            objectReference: {apiVersion: v1, resource: pods, name: "{{ index .Deployment.Pods 0 }}", namespace: "{{ .Deployment.Namespace }}"}',
      ]),
      'wait.yaml',
    );
    assert.deepEqual(result.diagnostics.filter((d) => d.severity === 'error'), []);
    const phase = result.blueprints[0]!.actions.backup!.phases[0] as PhaseSpec;
    assert.deepEqual(phase.args, {
      timeout: '{{Options.waitFor}}',
      conditions: {
        anyOf: [{ condition: '$.status.phase == "Running"', objectReference: { apiVersion: 'v1', resource: 'pods', name: '{{index Target.pods 0}}', namespace: '{{Target.namespace}}' } }],
      },
    });
  });

  it("imports the deprecated Wait as Cairn's Wait (WaitV2's implementation), its JSONPath pieces (quoted, with filters) translated", () => {
    const result = importKanisterText(
      kanister([
        '    - func: Wait',
        '      name: waitDeployment',
        '      args:',
        '        timeout: 5m',
        '        conditions:',
        '          allOf:',
        '          - condition: |',
        '              {{ if and (eq {$.spec.replicas} {$.status.availableReplicas} )',
        '                (eq "{ $.status.conditions[?(@.type == "Available")].status }" "True") }}',
        '              true',
        '              {{ else }}false{{ end }}',
        '            objectReference: {apiVersion: v1, group: apps, resource: deployments, name: "{{ .Deployment.Name }}", namespace: "{{ .Deployment.Namespace }}"}',
      ]),
      'wait.yaml',
    );
    assert.deepEqual(result.diagnostics.filter((d) => d.severity === 'error'), []);
    const phase = result.blueprints[0]!.actions.backup!.phases[0] as PhaseSpec;
    assert.equal(phase.func, 'Wait');
    const [entry] = (phase.args!.conditions as { allOf: { condition: string }[] }).allOf;
    assert.equal(entry!.condition, '$.spec.replicas == $.status.availableReplicas && $.status.conditions[?(@.type == "Available")].status == "True"');
    assert.match(result.yaml ?? '', /func: Wait\n/);
  });

  it('refuses a condition the language cannot express, at the action and with the reason', () => {
    const diagnostics = errors(
      kanister([
        '    - func: WaitV2',
        '      name: waitReady',
        '      args:',
        '        timeout: 5m',
        '        conditions:',
        '          anyOf:',
        `          - condition: '{{ if hasPrefix .status.phase "Run" }}true{{ end }}'`,
        '            objectReference: {apiVersion: v1, resource: pods, name: x}',
        `          - condition: 'Running'`,
        '            objectReference: {apiVersion: v1, resource: pods, name: x}',
      ]),
    );
    assert.deepEqual(diagnostics.map((d) => [d.code, d.line, d.column]), [
      ['unsupported-wait-condition', 14, 31],
      ['unsupported-wait-condition', 16, 24],
    ]);
    assert.match(diagnostics[0]!.message, /"hasPrefix" has no equivalent in Cairn's condition language/);
    assert.match(diagnostics[1]!.message, /has no \{\{ … \}\} action/);
  });
});
