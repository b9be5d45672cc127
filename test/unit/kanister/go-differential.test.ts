/**
 * Translated templates render what Kanister renders: each Go template is rendered by Go's text/template with
 * sprig (test/fixtures/kanister/go-render, as Kanister's param.RenderArgs does) against Kanister's parameters,
 * and its translation by Cairn's renderer against the equivalent Cairn context; the outputs must be equal.
 * Needs a Go toolchain (and sprig in the module cache or reachable); skipped without one.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { TemplateSite } from '../../../src/kanister/template-params.ts';
import { translateGoTemplate } from '../../../src/kanister/translate-template.ts';
import type { TemplateContext } from '../../../src/template/context.ts';
import { renderString } from '../../../src/template/render.ts';

const object = { metadata: { name: 'db', labels: { app: 'db-release' } }, spec: { replicas: 2, volumes: [{ persistentVolumeClaim: { claimName: 'data' } }] } };
const secret = { password: 's3cret', 'tls.crt': 'CERT' };

/** Kanister's param.TemplateParams for phase `dump` of a StatefulSet `shop/db` (Secret data base64, as []byte). */
const kanisterParams = {
  StatefulSet: {
    Name: 'db',
    Namespace: 'shop',
    Pods: ['db-0', 'db-1'],
    Containers: [['mysql', 'sidecar'], ['mysql', 'sidecar']],
    PersistentVolumeClaims: { 'db-0': { 'data-db-0': '/var/lib/mysql' }, 'db-1': { 'data-db-1': '/var/lib/mysql' } },
  },
  ArtifactsIn: { dump: { KeyValue: { path: 'backups/db.gz' }, KopiaSnapshot: 'k123' } },
  Secrets: { admin: { Data: { user: Buffer.from('root').toString('base64') } } },
  Options: { mode: 'full', empty: '' },
  Time: '2026-03-04T05:06:07Z',
  Object: object,
  Phases: {
    dump: { Secrets: { creds: { Data: Object.fromEntries(Object.entries(secret).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) } }, Output: {} },
    quiesce: { Output: { replicas: '2' } },
  },
};

/** The same state as Cairn's context for that phase (action Secrets hoisted into it). */
const cairnContext: TemplateContext = {
  Target: {
    kind: 'StatefulSet',
    namespace: 'shop',
    name: 'db',
    pods: ['db-0', 'db-1'],
    containers: { 'db-0': ['mysql', 'sidecar'], 'db-1': ['mysql', 'sidecar'] },
    pvcs: { 'db-0': ['data-db-0'], 'db-1': ['data-db-1'] },
    object,
  },
  Object: object,
  Namespace: 'shop',
  Phases: { dump: { Output: {}, Secrets: { creds: secret, admin: { user: 'root' } }, ConfigMaps: {} }, quiesce: { Output: { replicas: '2' }, Secrets: {}, ConfigMaps: {} } },
  ArtifactsIn: { dump: { KeyValue: { path: 'backups/db.gz' }, KopiaSnapshot: 'k123' } },
  Options: { mode: 'full', empty: '' },
  Time: '2026-03-04T05:06:07Z',
};

const site: TemplateSite = {
  phase: 'dump',
  readObject: (kind, _owner, key) => ({ segments: ['Phases', 'dump', kind === 'Secret' ? 'Secrets' : 'ConfigMaps', key] }),
  useWorkload: () => {},
};

const TEMPLATES = [
  '{{ .StatefulSet.Namespace }}/{{ .StatefulSet.Name }}/{{ index .StatefulSet.Pods 1 }}',
  '{{ index .Object.metadata.labels "app" }} {{ .Object.spec.replicas }}',
  '{{ (index .Object.spec.volumes 0).persistentVolumeClaim.claimName }}',
  '{{ index .Phases.dump.Secrets.creds.Data "password" | toString }} {{ index .Phases.dump.Secrets.creds.Data "tls.crt" | toString | lower }}',
  '{{ .Secrets.admin.Data.user | toString | quote }}',
  '{{ .Phases.quiesce.Output.replicas }} {{ .ArtifactsIn.dump.KeyValue.path }} {{ .ArtifactsIn.dump.KopiaSnapshot }}',
  '{{ toDate "2006-01-02T15:04:05.999999999Z07:00" .Time | date "2006-01-02T15-04-05" }}',
  '{{ toDate "2006-01-02T15:04:05Z07:00" .Time | date "Mon Jan _2 15:04:05 2006" }}',
  '{{ if eq .Options.mode "full" }}F{{ else if .Options.mode }}M{{ else }}I{{ end }}',
  '{{ if .Options.empty }}Y{{ else }}N{{ end }}{{ if not .Options.empty }}!{{ end }}',
  '{{ range $i, $pod := .StatefulSet.Pods }}{{ $i }}={{ $pod }}@{{ $.StatefulSet.Namespace }};{{ end }}',
  '{{ range .StatefulSet.Pods }}{{ . }},{{ else }}none{{ end }}',
  '{{ range $i, $e := .StatefulSet.Pods }}{{ if $i }},{{ end }}{{ $e }}{{ end }}',
  '{{ $ns := .StatefulSet.Namespace }}{{ range .StatefulSet.Pods }}{{ $ns }}/{{ . }} {{ end }}',
  '{{ range $pod, $pvcs := .StatefulSet.PersistentVolumeClaims }}{{ range $pvc, $path := $pvcs }}{{ $pod }}:{{ $pvc }} {{ end }}{{ end }}',
  '{{- range $key, $_ := index .StatefulSet.PersistentVolumeClaims (index .StatefulSet.Pods 0) -}}{{ $key }}{{ break }}{{ end }}',
  '{{ index .StatefulSet.Containers 1 1 }}',
  '{{ with .Object.metadata }}{{ .name }}{{ end }}{{ with $m := .Options.mode }}={{ $m }}{{ end }}',
  '{{ printf "%s-%d-%v-%q" .StatefulSet.Name 3 .Options.mode "x" }}',
  '{{ cat .StatefulSet.Name "a" 3 }}|{{ .StatefulSet.Name | squote }}|{{ .StatefulSet.Name | quote }}',
  '{{ default "d" .Options.empty }} {{ .Options.mode | default "d" }} {{ coalesce .Options.empty "z" }} {{ empty .Options.empty }}',
  '{{ len .StatefulSet.Pods }} {{ first .StatefulSet.Pods }} {{ join "," .StatefulSet.Pods }}',
  '{{ "db" | b64enc }} {{ "ZGI=" | b64dec }} {{ trimPrefix "d" .StatefulSet.Name }} {{ trimSuffix "b" "dbb" }} {{ replace "b" "x" "abba" }} {{ trim "  a  " }} {{ upper "a" }}',
  '{{ or .Options.empty "x" }} {{ eq 1 1 }} {{ ne "a" "b" }} {{ eq .Options.mode "a" "full" }}',
  '{{ toJson .StatefulSet.Pods }} {{ toJson .Object.metadata.labels }}',
  'start\n{{- range .StatefulSet.Pods }}\necho {{ . }}\n{{- end }}\nend\n',
  '{{ if .Options.mode }}\nA\n{{ end }}\n{{ range .StatefulSet.Pods }}\n  - {{ . }}\n{{ end }}\n',
  '  {{- /* comment */ -}}  x {{ `raw "q" \'s\'` }} a\\{{ .StatefulSet.Name }}',
  '{{ if gt (len .StatefulSet.Pods) 1 }}many{{ end }} {{ lt 1 2 }} {{ le "a" "b" }} {{ ge 2 2 }} {{ gt "b" "a" }} {{ lt "é" "z" }}',
  '{{ keys .Object.metadata.labels | join "," }} {{ contains "db" .StatefulSet.Name }} {{ hasPrefix "d" "db" }} {{ hasSuffix "x" "db" }}',
  '{{ trimAll "-" "--a-b--" }} {{ splitList "," "a,b,c" | last }} {{ ternary "y" "n" (eq .Options.mode "full") }} {{ add 1 2 3 }} {{ add1 4 }} {{ sub 5 7 }} {{ mul 2 3 }} {{ div 7 2 }} {{ mod 7 3 }}',
  '{{ range $k := keys .Object.metadata.labels }}{{ $k }}={{ index $.Object.metadata.labels $k }};{{ end }}',
];

function buildGoRenderer(): string | undefined {
  if (spawnSync('go', ['version']).status !== 0) return undefined;
  const binary = join(mkdtempSync(join(tmpdir(), 'cairn-go-render-')), 'go-render');
  const build = spawnSync('go', ['build', '-o', binary, '.'], { cwd: join(import.meta.dirname, '../../fixtures/kanister/go-render'), timeout: 300_000 });
  return build.status === 0 ? binary : undefined;
}

const goRenderer = buildGoRenderer();

describe('translated templates render what Kanister renders', { skip: goRenderer ? false : 'needs a Go toolchain with sprig' }, () => {
  const outputs = goRenderer
    ? (spawnSync(goRenderer, { input: TEMPLATES.map((template) => JSON.stringify({ template, params: kanisterParams })).join('\n') + '\n' })
        .stdout.toString()
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { out?: string; error?: string }))
    : [];
  TEMPLATES.forEach((template, index) => {
    it(JSON.stringify(template), () => {
      const go = outputs[index]!;
      assert.equal(go.error, undefined, `Go could not render the test template: ${go.error}`);
      const { text, problems } = translateGoTemplate(template, site);
      assert.deepEqual(problems, []);
      assert.equal(renderString(text, cairnContext), go.out);
    });
  });
});
