import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { compileBlueprintText } from '../../src/blueprint/compile.ts';
import type { TemplateContext } from '../../src/template/context.ts';

const root = join(import.meta.dirname, '../..');
const ajv = new Ajv2020({ allErrors: true, strict: false });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
const schema = (name: string) => JSON.parse(readFileSync(join(root, 'schemas', name), 'utf8')) as object;

it('compiled plans match schemas/plan.schema.json', () => {
  const validate = ajv.compile(schema('plan.schema.json'));
  for (const [file, action] of [['test/fixtures/blueprints/scoped-release.yaml', 'backup'], ['blueprints/postgresql.yaml', 'restore']] as const) {
    const plan = compileBlueprintText(readFileSync(join(root, file), 'utf8'), file, { action, target: { kind: 'StatefulSet', namespace: 'shop', name: 'pg' }, options: { a: 'b' } });
    assert.ok(validate(plan), JSON.stringify(validate.errors));
  }
});

it('the documented template context matches schemas/template-context.schema.json', () => {
  const validate = ajv.compile(schema('template-context.schema.json'));
  const context: TemplateContext = {
    Target: { kind: 'StatefulSet', namespace: 'shop', name: 'pg', pods: ['pg-0'], containers: { 'pg-0': ['postgres'] }, pvcs: { 'pg-0': ['data-pg-0'] }, object: {} },
    Object: {},
    Namespace: 'shop',
    Phases: { dump: { Output: { snapshotID: 'k1' }, Secrets: {}, ConfigMaps: {} } },
    ArtifactsIn: { pgDump: { KeyValue: { snapshotID: 'k1' } } },
    Profile: { name: 'default', location: { type: 'filesystem', path: '/var/backups' } },
    Options: {},
    Time: '2026-11-21T23:50:00Z',
  };
  assert.ok(validate(context), JSON.stringify(validate.errors));
  assert.equal(validate({ ...context, Profile: { ...context.Profile, credentials: { secret: 'x' } } }), false, 'credentials have no place in the context');
});
