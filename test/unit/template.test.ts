import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeTemplate } from '../../src/template/references.ts';
import { renderString, renderValue, TemplateRenderError } from '../../src/template/render.ts';
import { previewContext } from '../../src/template/preview.ts';
import { formatGoLayout } from '../../src/template/go-time.ts';
import type { TemplateContext } from '../../src/template/context.ts';

const context: TemplateContext = {
  Target: {
    kind: 'StatefulSet',
    namespace: 'shop',
    name: 'postgres',
    pods: ['postgres-0', 'postgres-1'],
    containers: { 'postgres-0': ['postgres'] },
    pvcs: { 'postgres-0': ['data-postgres-0'] },
    object: { metadata: { labels: { app: 'db' } } },
  },
  Object: { metadata: { labels: { app: 'db' } } },
  Namespace: 'shop',
  Phases: {
    dump: { Output: { snapshotID: 'k1234', bytes: 42 }, Secrets: {}, ConfigMaps: {} },
    self: { Output: {}, Secrets: { creds: { password: "p'a{{ss}}" } }, ConfigMaps: {} },
  },
  ArtifactsIn: { pgDump: { KeyValue: { snapshotID: 'k9' } } },
  Options: { user: 'admin' },
  Time: '2026-11-21T23:50:07.250Z',
};

describe('rendering templates', () => {
  it('reads the documented context', () => {
    assert.equal(renderString('{{Target.namespace}}/{{index Target.pods 1}}/{{Phases.dump.Output.snapshotID}}', context), 'shop/postgres-1/k1234');
    assert.equal(renderString('{{ArtifactsIn.pgDump.KeyValue.snapshotID}} {{Options.user}} {{Namespace}}', context), 'k9 admin shop');
    assert.equal(renderString('{{index Object.metadata.labels "app"}}', context), 'db');
  });

  it('does not HTML-escape', () => {
    assert.equal(renderString('{{Options.user}} && echo "<ok>"', { ...context, Options: { user: 'a&b<c>' } }), 'a&b<c> && echo "<ok>"');
  });

  it('fails on a missing key instead of rendering an empty string', () => {
    assert.throws(() => renderString('{{Phases.dump.Output.missing}}', context), TemplateRenderError);
    assert.throws(() => renderString('{{Options.nope}}', context), /nope/);
  });

  it('lets default supply a value for a missing key', () => {
    assert.equal(renderString('{{default "postgres" Options.dbUser}}', context), 'postgres');
    assert.equal(renderString('{{default "postgres" Options.user}}', context), 'admin');
  });

  it('never evaluates a rendered value again (no template injection through data)', () => {
    assert.equal(renderString('{{Phases.self.Secrets.creds.password}}', context), "p'a{{ss}}");
  });

  it('quotes for shells and JSON', () => {
    assert.equal(renderString('{{shellQuote Phases.self.Secrets.creds.password}}', context), `'p'\\''a{{ss}}'`);
    assert.equal(renderString('{{quote Options.user}}', context), '"admin"');
    assert.equal(renderString('{{toJson Target.pods}}', context), '["postgres-0","postgres-1"]');
    assert.equal(renderString('{{b64dec (b64enc "s3cr3t")}}', context), 's3cr3t');
  });

  it('formats dates with Go layouts, as imported Kanister templates do', () => {
    assert.equal(renderString('{{date "2006-01-02T15-04-05" (toDate "2006-01-02T15:04:05.999999999Z07:00" Time)}}', context), '2026-11-21T23-50-07');
    assert.equal(formatGoLayout(new Date('2026-03-04T05:06:07.250Z'), 'Jan _2 3:04PM .000 MST'), 'Mar  4 5:06AM .250 UTC');
    assert.equal(formatGoLayout(new Date('2026-03-04T05:06:07Z'), 'RFC3339'), '2026-03-04T05:06:07Z');
  });

  it('cannot reach prototypes, the environment or unknown helpers', () => {
    assert.throws(() => renderString('{{constructor.name}}', context));
    assert.throws(() => renderString('{{Target.constructor}}', context));
    assert.throws(() => renderString('{{__proto__}}', context));
    assert.throws(() => renderString('{{process.env.HOME}}', context));
    assert.throws(() => renderString('{{log "x"}}', context), /log/);
    assert.throws(() => renderString('{{> partial}}', context));
  });

  it('renders every string inside args, leaving other values alone', () => {
    assert.deepEqual(renderValue({ command: ['sh', '-c', 'echo {{Options.user}}'], replicas: 2, wait: true, nested: { ns: '{{Namespace}}' } }, context), {
      command: ['sh', '-c', 'echo admin'],
      replicas: 2,
      wait: true,
      nested: { ns: 'shop' },
    });
  });
});

describe('reading templates without rendering them', () => {
  it('lists the context paths a template reads', () => {
    const { references, problems } = analyzeTemplate('{{Target.name}}-{{default "x" Phases.a.Output.b}} {{#if Options.x}}{{upper Options.y}}{{/if}}');
    assert.deepEqual(problems, []);
    assert.deepEqual(references.map((r) => r.parts.join('.')), ['Target.name', 'Phases.a.Output.b', 'Options.x', 'Options.y']);
  });

  it('does not treat paths inside each/with blocks as context roots', () => {
    const { references } = analyzeTemplate('{{#each Target.pods}}{{this}} {{name}} {{@root.Namespace}}{{/each}}');
    assert.deepEqual(references.map((r) => r.parts.join('.')), ['Target.pods', 'Namespace']);
  });

  it('reports unknown helpers and syntax errors with their template line', () => {
    assert.deepEqual(analyzeTemplate('a\n{{frobnicate Target.name}}').problems.map((p) => [p.kind, p.helper, p.line]), [['unknown-helper', 'frobnicate', 2]]);
    assert.equal(analyzeTemplate('{{#if x}}').problems[0]?.kind, 'syntax');
  });
});

describe('previews', () => {
  it('render what is known and mark what only the run will know', () => {
    const preview = previewContext({ target: { kind: 'StatefulSet', namespace: 'shop', name: 'pg' }, options: { user: 'u' } });
    assert.equal(
      renderString('{{Target.namespace}} {{index Target.pods 0}} {{Phases.dump.Output.id}} {{shellQuote Options.user}} {{default "d" Phases.x.Output.y}}', preview),
      "shop <runtime:Target.pods.0> <runtime:Phases.dump.Output.id> 'u' <runtime:Phases.x.Output.y>",
    );
    assert.equal(renderString('{{date "2006" Time}}', preview), '<runtime:Time as 2006>');
  });

  it('use values given with --context', () => {
    const preview = previewContext({ target: { kind: 'StatefulSet', namespace: 'shop', name: 'pg' }, options: {}, known: { Target: { pods: ['pg-0'] }, Options: { n: 3 } } });
    assert.equal(renderString('{{index Target.pods 0}} {{Options.n}}', preview), 'pg-0 3');
  });
});
