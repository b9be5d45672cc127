import assert from 'node:assert/strict';
import { it } from 'node:test';
import { formatTarget, parseTarget } from '../../src/target.ts';

it('parses <kind>/<namespace>/<name> and namespace/<name>', () => {
  assert.deepEqual(parseTarget('statefulset/shop/postgres'), { ok: true, target: { kind: 'StatefulSet', namespace: 'shop', name: 'postgres' } });
  assert.deepEqual(parseTarget('Deployment/shop/api'), { ok: true, target: { kind: 'Deployment', namespace: 'shop', name: 'api' } });
  assert.deepEqual(parseTarget('pvc/shop/data-0'), { ok: true, target: { kind: 'PersistentVolumeClaim', namespace: 'shop', name: 'data-0' } });
  assert.deepEqual(parseTarget('namespace/shop'), { ok: true, target: { kind: 'Namespace', namespace: 'shop', name: 'shop' } });
});

it('formats targets back to the same canonical text', () => {
  for (const text of ['statefulset/shop/postgres', 'deployment/a/b', 'pvc/a/data', 'namespace/shop']) {
    const parsed = parseTarget(text);
    assert.ok(parsed.ok);
    assert.equal(formatTarget(parsed.target), text);
  }
});

it('explains what is wrong with a bad target', () => {
  const cases: [string, RegExp][] = [
    ['pod/shop/x', /unknown target kind "pod"/],
    ['statefulset/shop', /not a target/],
    ['statefulset/Shop/x', /not a valid namespace/],
    ['statefulset/shop/x/y', /not a target/],
    ['namespace/a/b', /not a namespace target/],
  ];
  for (const [text, message] of cases) {
    const parsed = parseTarget(text);
    assert.equal(parsed.ok, false);
    if (!parsed.ok) assert.match(parsed.message, message);
  }
});
