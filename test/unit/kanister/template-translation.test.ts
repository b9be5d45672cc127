import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { translateGoTemplate } from '../../../src/kanister/translate-template.ts';
import type { TemplateSite } from '../../../src/kanister/template-params.ts';
import type { TemplateContext } from '../../../src/template/context.ts';
import { renderString } from '../../../src/template/render.ts';
import type { WorkloadKind } from '../../../src/target.ts';

/** A phase `dump` of an action whose defer phase is `cleanup`; every object read lands in `dump`'s objects. */
function site(workloads: WorkloadKind[] = []): TemplateSite {
  return {
    phase: 'dump',
    deferPhase: 'cleanup',
    readObject: (kind, _owner, key) => ({ segments: ['Phases', 'dump', kind === 'Secret' ? 'Secrets' : 'ConfigMaps', key] }),
    useWorkload: (kind) => workloads.push(kind),
  };
}

function translate(template: string): string {
  const { text, problems } = translateGoTemplate(template, site());
  assert.deepEqual(problems, [], `unexpected problems for ${template}`);
  return text;
}

function problemsOf(template: string) {
  return translateGoTemplate(template, site()).problems.map((p) => ({ code: p.code, offset: p.offset, construct: p.construct }));
}

const context: TemplateContext = {
  Target: {
    kind: 'StatefulSet',
    namespace: 'shop',
    name: 'db',
    pods: ['db-0', 'db-1'],
    containers: { 'db-0': ['mysql', 'sidecar'], 'db-1': ['mysql', 'sidecar'] },
    pvcs: { 'db-0': ['data-db-0'], 'db-1': ['data-db-1'] },
    object: {},
  },
  Object: { metadata: { labels: { 'app.kubernetes.io/instance': 'db-release' } } },
  Namespace: 'shop',
  Phases: { dump: { Output: {}, Secrets: { creds: { password: 's3cret', 'tls.crt': 'CERT' } }, ConfigMaps: {} } },
  ArtifactsIn: {},
  Options: { mode: 'full' },
  Time: '2026-03-04T05:06:07Z',
};

const render = (goTemplate: string) => renderString(translate(goTemplate), context);

describe('Kanister template parameters map onto the Cairn context', () => {
  const cases: [string, string][] = [
    ['{{ .StatefulSet.Namespace }}/{{ .StatefulSet.Name }}', '{{Target.namespace}}/{{Target.name}}'],
    ['{{ .Deployment.Namespace }}/{{ .Deployment.Name }}', '{{Target.namespace}}/{{Target.name}}'],
    ['{{ .PVC.Namespace }}/{{ .PVC.Name }}', '{{Target.namespace}}/{{Target.name}}'],
    ['{{ .Namespace.Name }}', '{{Namespace}}'],
    ['{{ index .StatefulSet.Pods 0 }}', '{{index Target.pods 0}}'],
    ['{{ index .Object.metadata.labels "app" }}', '{{index Object.metadata.labels "app"}}'],
    ['{{ .Object.spec.replicas }}', '{{Object.spec.replicas}}'],
    ['{{ .Phases.dump.Output.path }}', '{{Phases.dump.Output.path}}'],
    ['{{ .DeferPhase.Output.done }}', '{{Phases.cleanup.Output.done}}'],
    ['{{ .ArtifactsIn.cloud.KeyValue.path }} {{ .ArtifactsIn.cloud.KopiaSnapshot }}', '{{ArtifactsIn.cloud.KeyValue.path}} {{ArtifactsIn.cloud.KopiaSnapshot}}'],
    ['{{ .Options.bucket }} {{ index .Options "storage-class" }}', '{{Options.bucket}} {{index Options "storage-class"}}'],
    ['{{ .Time }}', '{{Time}}'],
    ['{{ toJson .Profile }}', '{{toJson Profile}}'],
    ['{{ .Profile.Location.Bucket }}/{{ .Profile.Location.Prefix }}', '{{Profile.location.bucket}}/{{Profile.location.prefix}}'],
  ];
  for (const [go, handlebars] of cases) {
    it(`${go} → ${handlebars}`, () => assert.equal(translate(go), handlebars));
  }

  it('reads Secret values decoded, so the | toString Kanister needed for []byte goes away', () => {
    assert.equal(translate('{{ index .Phases.dump.Secrets.creds.Data "password" | toString }}'), '{{Phases.dump.Secrets.creds.password}}');
    assert.equal(translate('{{ .Phases.dump.Secrets.creds.Data.password | toString }}'), '{{Phases.dump.Secrets.creds.password}}');
    assert.equal(translate('{{ index .Phases.dump.Secrets.creds.Data "tls.crt" | toString }}'), '{{index Phases.dump.Secrets.creds "tls.crt"}}');
    assert.equal(render('{{ index .Phases.dump.Secrets.creds.Data "password" | toString }}:{{ index .Phases.dump.Secrets.creds.Data "tls.crt" | toString }}'), 's3cret:CERT');
  });

  it('reads action-level Secrets through the phase that uses them, and their names from the run options', () => {
    assert.equal(translate('{{ .Secrets.creds.Data.password | toString | quote }}'), '{{quote Phases.dump.Secrets.creds.password}}');
    assert.equal(translate('{{ .Secrets.creds.Name }}/{{ .ConfigMaps.cfg.Name }}'), '{{Options.secret-creds}}/{{Options.configmap-cfg}}');
  });

  it('walks fields of a function result with index, which handlebars can', () => {
    const go = '{{ (index .Object.spec.template.spec.volumes 0).persistentVolumeClaim.claimName }}';
    assert.equal(translate(go), '{{index Object.spec.template.spec.volumes 0 "persistentVolumeClaim" "claimName"}}');
  });

  it('indexes containers by pod name, as Cairn keeps them, where Kanister used the pod position', () => {
    assert.equal(translate('{{ index .StatefulSet.Containers 0 1 }}'), '{{index (index Target.containers (index Target.pods 0)) 1}}');
    assert.equal(render('{{ index .StatefulSet.Containers 0 1 }}'), 'sidecar');
  });

  it('records which workload parameters a template reads, for the action kinds', () => {
    const workloads: WorkloadKind[] = [];
    translateGoTemplate('{{ .Deployment.Name }} {{ .PVC.Name }}', site(workloads));
    assert.deepEqual(workloads, ['Deployment', 'PersistentVolumeClaim']);
  });
});

describe('pipelines, literals and helpers', () => {
  it('turns a pipeline into nested calls, the piped value last as Go passes it', () => {
    const go = '{{ toDate "2006-01-02T15:04:05.999999999Z07:00" .Time | date "2006-01-02T15-04-05" }}';
    assert.equal(translate(go), '{{date "2006-01-02T15-04-05" (toDate "2006-01-02T15:04:05.999999999Z07:00" Time)}}');
    assert.equal(render(go), '2026-03-04T05-06-07');
  });

  it('keeps parenthesised calls and sprig argument order', () => {
    assert.equal(translate('{{ default "csi" .Options.class }}'), '{{default "csi" Options.class}}');
    assert.equal(translate('{{ .Options.class | default "csi" }}'), '{{default "csi" Options.class}}');
    assert.equal(translate('{{ replace "-" "_" (upper .StatefulSet.Name) }}'), '{{replace "-" "_" (upper Target.name)}}');
    assert.equal(translate('{{ trimSuffix "/" .Options.path | trimPrefix "/" }}'), '{{trimPrefix "/" (trimSuffix "/" Options.path)}}');
  });

  it('rewrites the sprig and Go functions Cairn spells differently', () => {
    assert.equal(translate('{{ cat .StatefulSet.Name "x" }}'), '{{concat Target.name " " "x"}}');
    assert.equal(translate('{{ .StatefulSet.Name | squote }}'), `{{concat "'" Target.name "'"}}`);
    assert.equal(translate('{{ first .StatefulSet.Pods }}'), '{{index Target.pods 0}}');
    assert.equal(translate('{{ printf "%s-%d" .StatefulSet.Name 3 }}'), '{{concat Target.name "-" 3}}');
    assert.equal(translate('{{ if eq .Options.mode "a" "b" }}x{{ end }}'), '{{#if (or (eq Options.mode "a") (eq Options.mode "b"))}}x{{/if}}');
    assert.equal(translate('{{ now | date "2006" }}'), '{{date "2006" Time}}');
    assert.equal(render('{{ printf "%s/%s" .StatefulSet.Namespace .StatefulSet.Name | squote }}'), "'shop/db'");
  });

  it('prints string and number literals as text', () => {
    assert.equal(translate('a{{ "b" }}{{ 3 }}{{ `c` }}'), 'ab3c');
    assert.equal(translate('{{ "{{" }}'), '{{concat "{{"}}');
  });

  it('applies Go trim markers and drops comments', () => {
    assert.equal(translate('a  {{- .Time -}}  b {{/* note */}}c'), 'a{{Time}}b c');
  });

  it('keeps a backslash before an action literal (handlebars would read it as an escape)', () => {
    assert.equal(render('a\\{{ .StatefulSet.Name }}'), 'a\\db');
  });
});

describe('control flow', () => {
  it('maps if / else if / else onto one handlebars chain', () => {
    const go = '{{ if eq .Options.mode "full" }}F{{ else if .Options.mode }}{{ .Options.mode }}{{ else }}I{{ end }}';
    assert.equal(translate(go), '{{#if (eq Options.mode "full")}}F{{else if Options.mode}}{{Options.mode}}{{else}}I{{/if}}');
    assert.equal(render(go), 'F');
  });

  it('maps range with variables onto each with block parameters, and the root onto @root', () => {
    const go = '{{ range $i, $pod := .StatefulSet.Pods }}{{ $i }}={{ $pod }}@{{ $.StatefulSet.Namespace }};{{ end }}';
    assert.equal(translate(go), '{{#each Target.pods as |pod i|}}{{i}}={{pod}}@{{@root.Target.namespace}};{{/each}}');
    assert.equal(render(go), '0=db-0@shop;1=db-1@shop;');
  });

  it('maps dot inside range and with onto the block parameter', () => {
    assert.equal(render('{{ range .StatefulSet.Pods }}{{ . }},{{ end }}'), 'db-0,db-1,');
    assert.equal(translate('{{ with .Object.metadata }}{{ .name }}{{ else }}none{{ end }}'), '{{#with Object.metadata as |item|}}{{item.name}}{{else}}none{{/with}}');
  });

  it('substitutes declared variables, at the right depth', () => {
    const go = '{{ $ns := .StatefulSet.Namespace }}{{ range .StatefulSet.Pods }}{{ $ns }}/{{ . }} {{ end }}';
    assert.equal(translate(go), '{{#each Target.pods as |item|}}{{@root.Target.namespace}}/{{item}} {{/each}}');
    assert.equal(render(go), 'shop/db-0 shop/db-1 ');
  });

  it('ranges over PVCs per pod; Cairn lists the names, so the PVC name is the element', () => {
    const go = '{{ range $pod, $pvcs := .StatefulSet.PersistentVolumeClaims }}{{ range $pvc, $path := $pvcs }}{{ $pod }}:{{ $pvc }} {{ end }}{{ end }}';
    assert.equal(render(go), 'db-0:data-db-0 db-1:data-db-1 ');
  });

  it('runs a range that ends in {{break}} for the first element only', () => {
    const go = '{{- range $key, $_ := index .StatefulSet.PersistentVolumeClaims (index .StatefulSet.Pods 0) -}}{{ $key }}{{ break }}{{ end }}';
    assert.equal(translate(go), '{{#each (index Target.pvcs (index Target.pods 0)) as |key|}}{{#if @first}}{{key}}{{/if}}{{/each}}');
    assert.equal(render('{{ range .StatefulSet.Pods }}{{ . }}{{ break }}{{ end }}'), 'db-0');
  });

  it("keeps Go's lines around block tags that stand alone on their line", () => {
    const go = 'start\n{{- range .StatefulSet.Pods }}\necho {{ . }}\n{{- end }}\nend\n';
    assert.equal(render(go), 'start\necho db-0\necho db-1\nend\n');
    // An empty comment keeps a tag from standing alone on its line, where handlebars would drop the line.
    assert.equal(translate('{{ if .Options.a }}\nA\n{{ end }}\n'), '{{!}}{{#if Options.a}}\nA\n{{!}}{{/if}}\n');
    assert.equal(renderString(translate('{{ if .Options.mode }}\nA\n{{ end }}\n'), context), '\nA\n\n');
  });
});

describe('what cannot be translated is reported at the construct', () => {
  it('rejects credentials', () => {
    assert.deepEqual(problemsOf('x {{ .Profile.Credential.KeyPair.Secret }}'), [{ code: 'profile-credentials', offset: 5, construct: '{{ .Profile.Credential.KeyPair.Secret }}' }]);
  });

  it('names unknown and unsupported functions differently', () => {
    assert.deepEqual(problemsOf('{{ frobnicate .Time }}{{ title .Time }}').map((p) => p.code), ['unknown-template-function', 'unsupported-template-function']);
    const [suggestion] = translateGoTemplate('{{ toJsn .Profile }}', site()).problems;
    assert.equal(suggestion?.hint, 'did you mean "toJson"?');
  });

  it('rejects what reaches outside the template: env, randomness', () => {
    assert.deepEqual(problemsOf('{{ env "HOME" }}{{ randAlphaNum 5 }}').map((p) => p.code), ['unsupported-template-function', 'unsupported-template-function']);
  });

  it('rejects variable assignment, break and named templates', () => {
    assert.deepEqual(problemsOf('{{ $x := 1 }}{{ $x = 2 }}').map((p) => p.code), ['variable-assignment']);
    assert.deepEqual(problemsOf('{{ range .StatefulSet.Pods }}{{ if eq . "x" }}{{ break }}{{ end }}{{ end }}').map((p) => p.code), ['unsupported-template-construct']);
    assert.deepEqual(problemsOf('{{ define "x" }}y{{ end }}{{ template "x" }}').map((p) => p.code), ['unsupported-template-construct', 'unsupported-template-construct']);
  });

  it('rejects fields Cairn has no counterpart for', () => {
    assert.deepEqual(problemsOf('{{ .RepositoryServer.Address }}{{ .DeploymentConfig.Name }}{{ .Nope }}').map((p) => p.code), ['unsupported-template-field', 'unsupported-template-field', 'unknown-template-field']);
    assert.deepEqual(problemsOf('{{ range $pvc, $path := index .StatefulSet.PersistentVolumeClaims "db-0" }}{{ $path }}{{ end }}').map((p) => p.code), ['unsupported-template-field']);
  });

  it('reports Go syntax errors with their offset', () => {
    assert.deepEqual(problemsOf('ok {{ if .Options.x }}'), [{ code: 'go-template-syntax', offset: 3, construct: '{{ if .Options.x }}' }]);
    assert.deepEqual(problemsOf('{{ .Time '), [{ code: 'go-template-syntax', offset: 0, construct: '{{ .Time ' }]);
    assert.deepEqual(problemsOf('{{ index .Options "a }}').map((p) => p.code), ['go-template-syntax']);
  });

  it('reports every problem of a template, not only the first', () => {
    assert.equal(problemsOf('{{ .Nope }} {{ .Profile.Credential }} {{ nosuch 1 }}').length, 3);
  });
});

describe('sprig helpers Kanister blueprints use map onto Cairn helpers of the same name', () => {
  const cases: [string, string][] = [
    ['{{ if lt (len .StatefulSet.Pods) 3 }}few{{ end }}', '{{#if (lt (len Target.pods) 3)}}few{{/if}}'],
    ['{{ le 1 2 }} {{ gt .Options.mode "a" }} {{ ge 2 2 }}', '{{le 1 2}} {{gt Options.mode "a"}} {{ge 2 2}}'],
    ['{{ keys .Object.metadata.labels | join "," }}', '{{join "," (keys Object.metadata.labels)}}'],
    ['{{ contains "db" .StatefulSet.Name }} {{ .StatefulSet.Name | hasPrefix "d" }} {{ hasSuffix "b" .StatefulSet.Name }}', '{{contains "db" Target.name}} {{hasPrefix "d" Target.name}} {{hasSuffix "b" Target.name}}'],
    ['{{ trimAll "/" .Options.mode }} {{ splitList "," .Options.mode | last }}', '{{trimAll "/" Options.mode}} {{last (splitList "," Options.mode)}}'],
    ['{{ add1 (len .StatefulSet.Pods) }} {{ sub 3 1 }} {{ add 1 2 3 }} {{ mul 2 3 }} {{ div 7 2 }} {{ mod 7 2 }}', '{{add1 (len Target.pods)}} {{sub 3 1}} {{add 1 2 3}} {{mul 2 3}} {{div 7 2}} {{mod 7 2}}'],
    ['{{ eq .Options.mode "full" | ternary "F" "I" }}', '{{ternary "F" "I" (eq Options.mode "full")}}'],
    ['{{ .PodOverride.serviceAccountName }} {{ index .PodLabels "team" }}', '{{Options.podOverride.serviceAccountName}} {{index Options.podLabels "team"}}'],
  ];
  for (const [go, handlebars] of cases) {
    it(`${go} → ${handlebars}`, () => assert.equal(translate(go), handlebars));
  }

  it('renders them: lt/gt over numbers or strings, keys sorted, sprig argument orders', () => {
    assert.equal(render('{{ if gt (len .StatefulSet.Pods) 1 }}many{{ end }}|{{ keys .Object.metadata.labels | join "," }}|{{ contains "d" .StatefulSet.Name }}|{{ trimAll "s" "ssxss" }}'), 'many|app.kubernetes.io/instance|true|x');
    assert.equal(render('{{ splitList "-" "a-b-c" | last }} {{ add1 41 }} {{ div 9 2 }} {{ eq .Options.mode "full" | ternary "F" "I" }}'), 'c 42 4 F');
  });

  it("refuses to compare a number with a string, as Go's lt does", () => {
    assert.throws(() => render('{{ lt 1 "2" }}'), /lt: incompatible types for comparison \(number and string\)/);
  });
});

