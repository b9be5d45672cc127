import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateText } from '../../src/blueprint/validate.ts';
import type { JsonObject, JsonValue } from '../../src/json.ts';
import { conditionProblems, describeConditionError, evaluateCondition, formatExpression, parseCondition } from '../../src/functions/wait-condition.ts';

const deployment: JsonObject = {
  metadata: { name: 'web', annotations: { 'cairn.io/phase': 'ready' }, labels: { app: 'web' } },
  spec: { replicas: 3, paused: false },
  status: {
    phase: 'Running',
    replicas: 3,
    readyReplicas: 2,
    conditions: [
      { type: 'Available', status: 'True' },
      { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' },
    ],
    volumes: [],
  },
};
const status = deployment.status as JsonObject;

function holds(condition: string, object: JsonValue | undefined = deployment): boolean {
  const parsed = parseCondition(condition);
  assert.ok(parsed.ok, parsed.ok ? '' : describeConditionError(condition, parsed.error));
  return evaluateCondition(parsed.expression, object).holds;
}

function canonical(condition: string): string {
  const parsed = parseCondition(condition);
  assert.ok(parsed.ok, parsed.ok ? '' : describeConditionError(condition, parsed.error));
  return formatExpression(parsed.expression);
}

function error(condition: string): string {
  const parsed = parseCondition(condition);
  assert.ok(!parsed.ok, `${condition} should not parse`);
  return describeConditionError(condition, parsed.error);
}

describe('the condition language: paths', () => {
  it('reads fields in the $, leading-dot and kubectl {…} forms alike', () => {
    assert.ok(holds('$.status.phase == "Running"'));
    assert.ok(holds('.status.phase == "Running"'));
    assert.ok(holds('{.status.phase} == "Running"'));
    assert.ok(holds('{ $.status.phase } == "Running"'));
    assert.equal(canonical('{.status.readyReplicas} >= 2'), '$.status.readyReplicas >= 2');
  });

  it('indexes arrays from the start and from the end, and quotes keys with dots or slashes', () => {
    assert.ok(holds('$.status.conditions[0].type == "Available"'));
    assert.ok(holds('$.status.conditions[-1].type == "Progressing"'));
    assert.ok(holds(`$.metadata.annotations['cairn.io/phase'] == "ready"`));
    assert.equal(canonical(`$.metadata.annotations['cairn.io/phase'] == 'ready'`), '$.metadata.annotations["cairn.io/phase"] == "ready"');
    assert.ok(!holds('$.status.conditions[5].type == "Available"'));
  });

  it('selects the first element a filter accepts, with @ naming the element', () => {
    assert.ok(holds('$.status.conditions[?(@.type == "Available")].status == "True"'));
    assert.ok(holds('$.status.conditions[?(@.status == "False" && @.type != "Available")].reason == "ProgressDeadlineExceeded"'));
    assert.ok(!holds('exists($.status.conditions[?(@.type == "Ready")])'));
  });

  it('treats a missing field as null: equal to null, unequal to anything else, never ordered', () => {
    assert.ok(holds('$.status.nothing == null'));
    assert.ok(holds('$.status.nothing != "Running"'));
    assert.ok(!holds('$.status.nothing < 5'));
    assert.ok(!holds('$.status.nothing >= 5'));
    assert.ok(!holds('$.status.phase.deeper == "x"'));
  });

  it('evaluates against a missing object with every path missing', () => {
    const absent = (text: string) => {
      const parsed = parseCondition(text);
      assert.ok(parsed.ok);
      return evaluateCondition(parsed.expression, undefined);
    };
    assert.deepEqual(absent('$.status.phase == "Running"'), { holds: false, observed: [{ path: '$.status.phase', value: undefined }] });
    assert.equal(absent('!exists($.metadata)').holds, true);
  });
});

describe('the condition language: operators and functions', () => {
  it('compares numbers numerically and strings by code point', () => {
    assert.ok(holds('$.status.readyReplicas < $.spec.replicas'));
    assert.ok(holds('$.spec.replicas <= 3 && $.spec.replicas >= 3 && $.spec.replicas > 2.5'));
    assert.ok(holds('$.status.phase > "Pending"'));
    assert.ok(holds('"2026-01-02T00:00:00Z" > "2026-01-01T23:59:59Z"'));
  });

  it('compares a string with a number or boolean by their text, as kubectl prints them', () => {
    assert.ok(holds('$.spec.replicas == "3"'));
    assert.ok(holds('$.spec.paused == "false"'));
    assert.ok(holds('"10" > 9'));
    assert.ok(!holds('$.spec.replicas == true'));
  });

  it('compares objects and arrays by content, whatever the key order', () => {
    assert.ok(holds('$.status.volumes == $.status.volumes'));
    const parsed = parseCondition('$.a == $.b');
    assert.ok(parsed.ok);
    assert.ok(evaluateCondition(parsed.expression, { a: { x: 1, y: [1, 2] }, b: { y: [1, 2], x: 1 } }).holds);
    assert.ok(!evaluateCondition(parsed.expression, { a: { x: 1 }, b: { x: 2 } }).holds);
  });

  it('combines with && || ! and parentheses, && binding tighter than ||', () => {
    assert.ok(holds('$.status.phase == "Failed" || $.status.phase == "Running" && $.spec.replicas == 3'));
    assert.ok(!holds('($.status.phase == "Failed" || $.status.phase == "Running") && $.spec.replicas == 4'));
    assert.ok(holds('!($.status.phase == "Failed")'));
    assert.ok(holds('!$.status.phase == "Failed"'), '! takes the whole comparison');
    assert.ok(holds('!$.spec.paused'));
  });

  it('uses Go truthiness for a bare value: empty, zero, false and missing do not hold', () => {
    assert.ok(holds('$.status.conditions'));
    assert.ok(!holds('$.status.volumes'));
    assert.ok(!holds('$.spec.paused'));
    assert.ok(!holds('$.status.missing'));
    assert.ok(holds('$.status.phase'));
  });

  it('has exists() and len() for arrays, strings and objects', () => {
    assert.ok(holds('exists($.spec.paused)'), 'a false field exists');
    assert.ok(!holds('exists($.spec.nothing)'));
    assert.ok(holds('len($.status.conditions) == 2 && len($.status.phase) == 7 && len($.metadata.labels) == 1'));
    assert.ok(holds('len($.status.missing) == 0'));
  });

  it('reports every path it read with the value it found', () => {
    const parsed = parseCondition('$.status.readyReplicas == $.spec.replicas || exists($.status.gone)');
    assert.ok(parsed.ok);
    const evaluation = evaluateCondition(parsed.expression, deployment);
    assert.equal(evaluation.holds, false);
    assert.deepEqual(evaluation.observed, [
      { path: '$.status.readyReplicas', value: 2 },
      { path: '$.spec.replicas', value: 3 },
      { path: '$.status.gone', value: undefined },
    ]);
  });

  it('writes a parsed condition back in a canonical form that parses to the same thing', () => {
    for (const text of ['!(  $.a==1 )||$.b', '($.a || $.b) && $.c', "len(.spec['x.y']) >= -1.5e2", '$.x[?(@.k == null)][0] != false']) {
      const once = canonical(text);
      assert.equal(canonical(once), once);
    }
    assert.equal(canonical('($.a || $.b) && $.c'), '($.a || $.b) && $.c');
  });
});

describe('the condition language: errors carry their position', () => {
  it('names the problem and the column', () => {
    assert.equal(error('$.status.phase = "Running"'), '"=" is not an operator; compare with == at column 16');
    assert.equal(error('$.status.phase == Running'), 'unknown name "Running": quote a string ("Running"), or start a path with $. at column 19');
    assert.equal(error('$.a == 1 == 2'), 'comparisons cannot be chained; combine them with && at column 10');
    assert.equal(error('$.a == "open'), 'string is not closed at column 8');
    assert.equal(error('($.a == 1'), 'expected ")", found end of condition at column 10');
    assert.equal(error('$.a == 1 $.b'), 'unexpected "$" at column 10');
    assert.equal(error('$.items[*].name == "x"'), 'wildcards [*] are not supported; select one element with [index] or a filter [?(…)] at column 9');
    assert.equal(error('@.type == "x"'), '@ names the element inside a filter [?(…)] only at column 1');
    assert.equal(error('size($.a) > 1'), 'unknown name "size": quote a string ("size"), or start a path with $. at column 1');
    assert.equal(error(''), 'expected a value, found end of condition at column 1');
  });

  it('gives the line as well in a condition of several lines', () => {
    assert.equal(error('$.a == 1 &&\n  $.b =! 2'), '"=" is not an operator; compare with == at line 2, column 7');
  });
});

describe("Kanister's Go-template conditions translate where they map 1:1", () => {
  it("translates WaitV2's form over the object", () => {
    assert.equal(canonical('{{ if (eq .status.phase "Running") }}true{{ else }}false{{ end }}'), '$.status.phase == "Running"');
    assert.equal(canonical('{{ if eq .status.phase "Running" }}true{{ end }}'), '$.status.phase == "Running"');
    assert.equal(canonical('{{- if (eq .status.phase "Running") -}}\n  true\n{{- else -}}\n  false\n{{- end -}}'), '$.status.phase == "Running"');
  });

  it('translates JSONPath pieces, quoted or not, as Kanister Wait writes them', () => {
    assert.equal(canonical('{{ if (eq {.status.phase} "Running") }}true{{ else }}false{{ end }}'), '$.status.phase == "Running"');
    assert.equal(canonical('{{ if (eq {$.spec.replicas} { $.status.replicas } )}}true{{ else }}false{{ end }}'), '$.spec.replicas == $.status.replicas');
    const kanisterExample = `{{ if and (eq {$.spec.replicas} {$.status.availableReplicas} )
      (and (eq "{ $.status.conditions[?(@.type == "Available")].type }" "Available")
      (eq "{ $.status.conditions[?(@.type == "Available")].status }" "True"))}}
      true
      {{ else }}
      false
      {{ end }}`;
    assert.equal(
      canonical(kanisterExample),
      '$.spec.replicas == $.status.availableReplicas && ($.status.conditions[?(@.type == "Available")].type == "Available" && $.status.conditions[?(@.type == "Available")].status == "True")',
    );
    assert.ok(holds(kanisterExample, { ...deployment, status: { ...status, availableReplicas: 3 } }));
    assert.ok(!holds(kanisterExample));
  });

  it('maps ne lt le gt ge and or not, eq with several values, literals and the inverted form', () => {
    assert.equal(canonical('{{ if or (ne .a 1) (lt .b 2.5) (le .c -1) }}true{{ end }}'), '$.a != 1 || $.b < 2.5 || $.c <= -1');
    assert.equal(canonical('{{ if and (gt .a 0) (ge .b 1) (not .c) }}true{{ else }}false{{ end }}'), '$.a > 0 && $.b >= 1 && !$.c');
    assert.equal(canonical('{{ eq .status.phase "Running" "Succeeded" }}'), '$.status.phase == "Running" || $.status.phase == "Succeeded"');
    assert.equal(canonical('{{ if (eq .spec.paused true) }}true{{ end }}'), '$.spec.paused == true');
    assert.equal(canonical('{{ if eq .status.phase nil }}true{{ end }}'), '$.status.phase == null');
    assert.equal(canonical('{{ if (eq .status.phase "Failed") }}false{{ else }}true{{ end }}'), '!($.status.phase == "Failed")');
    assert.equal(canonical('{{ if .status.ready }}true{{ end }}'), '$.status.ready');
    assert.equal(canonical('{{ .status.ready }}'), '$.status.ready == true');
    assert.equal(canonical('{{ if eq $.metadata.name `web` }}true{{ end }}'), '$.metadata.name == "web"');
  });

  it('refuses what it cannot translate, saying what and where', () => {
    const refused = (text: string) => error(text);
    assert.equal(refused('{{ if hasPrefix .status.phase "Run" }}true{{ end }}'), '"hasPrefix" has no equivalent in Cairn\'s condition language (the translation knows eq, ne, lt, le, gt, ge, and, or, not) at column 7');
    assert.equal(refused('{{ if eq .a 1 }}yes{{ else }}no{{ end }}'), 'the template renders "yes" and "no"; a condition renders true when it holds and false (or nothing) otherwise at column 1');
    assert.equal(refused('{{ if eq .a 1 }}true{{ else if eq .a 2 }}true{{ end }}'), '{{ else if … }} is not supported: combine the conditions with or at column 21');
    assert.equal(refused('{{ .status.phase | lower }}'), 'pipelines (|) are not supported in conditions; call the function with its arguments at column 18');
    assert.equal(refused('{{ $x := .a }}{{ if $x }}true{{ end }}'), 'template variables are not supported in conditions at column 4');
    assert.equal(refused('{{ if eq .a 1 }}true'), '{{ if }} is not closed with {{ end }} at column 1');
    assert.equal(refused('ok {{ eq .a 1 }}'), 'text "ok" outside the action: the template would not render just "true" at column 1');
    assert.equal(refused('{{ if (eq .a 1 }}true{{ end }}'), '"(" is not closed at column 7');
    assert.equal(refused('{{ if ne .a }}true{{ end }}'), 'ne takes 2 arguments, got 1 at column 7');
  });
});

describe('static checks for cairn validate and the importer', () => {
  const args = (condition: string) => ({ timeout: '1m', conditions: { anyOf: [{ condition, objectReference: { apiVersion: 'v1', resource: 'pods', name: 'p' } }] } });

  it('reports a condition that does not parse, at its arg path', () => {
    assert.deepEqual(conditionProblems(args('$.status.phase = "Running"')), [
      { code: 'invalid-wait-condition', path: ['conditions', 'anyOf', 0, 'condition'], message: 'condition does not parse: "=" is not an operator; compare with == at column 16', hint: 'see docs/wait-conditions.md for the condition language', line: 1 },
    ]);
  });

  it('reports an unescaped Go template with its translation as the fix, and accepts an escaped one', () => {
    const [problem] = conditionProblems(args('{{ if (eq .status.phase "Running") }}true{{ else }}false{{ end }}'));
    assert.equal(problem?.code, 'go-template-condition');
    assert.equal(problem?.hint, 'write it as: $.status.phase == "Running"');
    assert.deepEqual(conditionProblems(args('\\{{ if (eq .status.phase "Running") }}true\\{{ else }}false\\{{ end }}')), []);
  });

  it('leaves a condition with template parameters to the run, and passes good conditions', () => {
    assert.deepEqual(conditionProblems(args('$.metadata.labels.app == "{{Target.name}}"')), []);
    assert.deepEqual(conditionProblems(args('$.status.phase == "Running"')), []);
  });
});

describe('cairn validate reports bad conditions at file:line', () => {
  const blueprint = (conditions: string[]) => [
    'apiVersion: cairn.io/v1alpha1',
    'kind: Blueprint',
    'metadata: {name: waiter}',
    'actions:',
    '  backup:',
    '    kinds: [Deployment]',
    '    phases:',
    '      - name: waitReady',
    '        func: WaitV2',
    '        args:',
    '          timeout: 1m',
    '          conditions:',
    '            anyOf:',
    ...conditions.flatMap((condition) => [`              - condition: ${condition}`, '                objectReference: {apiVersion: apps/v1, resource: deployments, name: "{{Target.name}}"}']),
    '  restore:',
    '    kinds: [Deployment]',
    '    phases: [{name: r, func: Sleep, args: {duration: 1ms}}]',
  ].join('\n');

  it('places each problem on its line, inside block scalars too, and accepts good and escaped conditions', () => {
    const text = blueprint([
      `'$.status.readyReplicas = 2'`,
      `'{{ if (eq .status.phase "Running") }}true{{ else }}false{{ end }}'`,
      '|\n                  $.status.readyReplicas >= 1 &&\n                    len($.spec.template) >> 1',
      `'$.status.readyReplicas >= 1'`,
      `'\\{{ if (eq .status.phase "Running") }}true\\{{ end }}'`,
    ]);
    const { diagnostics } = validateText(text, 'waiter.yaml');
    assert.deepEqual(
      diagnostics.map((d) => [d.code, d.line, d.path]),
      [
        ['invalid-wait-condition', 14, 'actions.backup.phases[0].args.conditions.anyOf[0].condition'],
        ['go-template-condition', 16, 'actions.backup.phases[0].args.conditions.anyOf[1].condition'],
        ['invalid-wait-condition', 20, 'actions.backup.phases[0].args.conditions.anyOf[2].condition'],
      ],
    );
    assert.match(diagnostics[0]!.message, /"=" is not an operator; compare with == at column 24/);
    assert.equal(diagnostics[1]!.hint, 'write it as: $.status.phase == "Running"');
    assert.match(diagnostics[2]!.message, /at line 2, column 25/);
  });
});
