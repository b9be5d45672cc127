import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateFile, validateText } from '../../src/blueprint/validate.ts';
import type { Diagnostic } from '../../src/diagnostics.ts';

const fixture = (name: string) => join(import.meta.dirname, '../fixtures/blueprints', name);

function find(diagnostics: Diagnostic[], code: string, line?: number): Diagnostic {
  const match = diagnostics.find((d) => d.code === code && (line === undefined || d.line === line));
  assert.ok(match, `expected a ${code} diagnostic${line ? ` on line ${line}` : ''}, got:\n${diagnostics.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`).join('\n')}`);
  return match;
}

describe('bad input gets a clear error with its place', () => {
  it('reports a duplicate key with its line and name', async () => {
    const { diagnostics, blueprints } = await validateFile(fixture('duplicate-key.yaml'));
    const d = find(diagnostics, 'duplicate-key', 5);
    assert.match(d.message, /"name"/);
    assert.equal(blueprints.length, 0);
  });

  it('reports malformed YAML with a line number', async () => {
    const { diagnostics } = await validateFile(fixture('malformed.yaml'));
    assert.ok(diagnostics.some((d) => d.code === 'yaml-syntax' && typeof d.line === 'number'));
  });

  it('reports an empty file', async () => {
    find((await validateFile(fixture('empty.yaml'))).diagnostics, 'empty-file');
  });

  it('reports a file that is not UTF-8 with the offset of the first bad byte', async () => {
    const d = find((await validateFile(fixture('latin1.yaml'))).diagnostics, 'not-utf8');
    assert.match(d.message, /offset 68/);
  });

  it('refuses files over 1 MiB before parsing them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cairn-'));
    const file = join(dir, 'huge.yaml');
    await writeFile(file, `description: "${'x'.repeat(1024 * 1024)}"\n`);
    const d = find((await validateFile(file)).diagnostics, 'file-too-large');
    assert.match(d.message, /1 MiB/);
  });

  it('stops an alias bomb instead of expanding it', async () => {
    find((await validateFile(fixture('alias-bomb.yaml'))).diagnostics, 'yaml-alias-limit');
  });

  it('names a missing file', async () => {
    const d = find((await validateFile(fixture('does-not-exist.yaml'))).diagnostics, 'unreadable');
    assert.match(d.message, /no such file/);
  });

  it('points Kanister blueprints at the importer', () => {
    const { diagnostics } = validateText('apiVersion: cr.kanister.io/v1alpha1\nkind: Blueprint\nmetadata: {name: x}\nactions: {}\n', 'k.yaml');
    const d = find(diagnostics, 'kanister-blueprint', 1);
    assert.match(d.hint ?? '', /import-kanister/);
  });
});

describe('schema errors name the field, its line and a fix', () => {
  it('reports every schema problem in one run', async () => {
    const { diagnostics } = await validateFile(fixture('schema-errors.yaml'));
    assert.match(find(diagnostics, 'schema', 1).message, /cairn\.io\/v1alpha1/);
    assert.match(find(diagnostics, 'schema', 4).message, /DNS name/);
    assert.match(find(diagnostics, 'schema', 7).message, /"Pod"/);
    const typo = find(diagnostics, 'schema', 11);
    assert.equal(typo.path, 'actions.backup.phases[0].timout');
    assert.equal(typo.hint, 'did you mean "timeout"?');
    assert.match(find(diagnostics, 'schema', 17).message, />= 1/);
    assert.match(find(diagnostics, 'schema', 20).message, /duration/);
  });

  it('checks function args against the function schema, accepting templates for typed args', () => {
    const text = `apiVersion: cairn.io/v1alpha1
kind: Blueprint
metadata: {name: args}
actions:
  scale:
    kinds: [Deployment]
    phases:
      - name: down
        func: ScaleWorkload
        args:
          replicas: "{{Options.replicas}}"
      - name: wrong
        func: ScaleWorkload
        args:
          replicas: many
`;
    const { diagnostics } = validateText(text, 'args.yaml');
    assert.equal(diagnostics.filter((d) => d.severity === 'error').length, 1);
    const d = find(diagnostics, 'schema', 15);
    assert.equal(d.path, 'actions.scale.phases[1].args.replicas');
  });
});

describe('semantic checks', () => {
  it('reports all problems of a blueprint at once, each at its line', async () => {
    const { diagnostics } = await validateFile(fixture('many-errors.yaml'));
    assert.equal(find(diagnostics, 'unknown-function', 10).hint, 'did you mean "KubeExec"?');
    find(diagnostics, 'output-not-available', 17);
    assert.equal(find(diagnostics, 'unknown-helper', 18).hint, 'did you mean "shellQuote"?');
    find(diagnostics, 'template-syntax', 24);
    find(diagnostics, 'duplicate-phase', 25);
    assert.match(find(diagnostics, 'unsupported-function', 26).message, /RDS/);
    assert.match(find(diagnostics, 'dependency-cycle', 29).message, /fourth → fifth → fourth/);
    find(diagnostics, 'schema', 37);
    assert.equal(diagnostics.filter((d) => d.severity === 'error').length, 8);
  });

  it('checks what templates reference, line by line inside block scalars', async () => {
    const { diagnostics } = await validateFile(fixture('references.yaml'));
    assert.equal(find(diagnostics, 'unknown-output', 29).hint, 'did you mean "originalReplicaCount"?');
    find(diagnostics, 'foreign-objects', 31);
    assert.match(find(diagnostics, 'unknown-reference', 32).hint ?? '', /credentials never reach templates/);
    find(diagnostics, 'unknown-artifact', 32);
    find(diagnostics, 'unknown-object', 33);
    assert.match(find(diagnostics, 'output-not-available', 33).message, /its own outputs/);
    find(diagnostics, 'output-not-available', 38);
    find(diagnostics, 'defer-depends-on', 42);
    // The defer reads scaleDown's output with a default: allowed, as scaleDown may have failed.
    assert.ok(!diagnostics.some((d) => d.line === 48));
    // A phase may read its own declared Secret.
    assert.ok(!diagnostics.some((d) => d.line === 30));
  });

  it('accepts groups, parallel phases and outputs read across a group boundary', async () => {
    const { diagnostics, blueprints } = await validateFile(fixture('scoped-release.yaml'));
    assert.deepEqual(diagnostics, []);
    assert.equal(blueprints[0]?.blueprint.metadata.name, 'scoped-release');
  });

  it('explains that dependsOn names siblings when it names a phase inside a group', () => {
    const text = `apiVersion: cairn.io/v1alpha1
kind: Blueprint
metadata: {name: scope}
actions:
  backup:
    kinds: [StatefulSet]
    phases:
      - name: group
        phases:
          - {name: inner, func: Sleep, args: {duration: 1s}}
      - {name: after, func: Sleep, dependsOn: [inner], args: {duration: 1s}}
      - {name: typo, func: Sleep, dependsOn: [grop], args: {duration: 1s}}
  restore:
    kinds: [StatefulSet]
    phases: [{name: r, func: Sleep, args: {duration: 1s}}]
`;
    const { diagnostics } = validateText(text, 'scope.yaml');
    assert.match(find(diagnostics, 'dependency-scope', 11).hint ?? '', /depend on the group/);
    assert.equal(find(diagnostics, 'unknown-dependency', 12).hint, 'did you mean "group"?');
  });

  it('warns when a blueprint can back up but not restore', () => {
    const text = 'apiVersion: cairn.io/v1alpha1\nkind: Blueprint\nmetadata: {name: w}\nactions:\n  backup:\n    kinds: [StatefulSet]\n    phases: [{name: s, func: Sleep, args: {duration: 1s}}]\n';
    const { diagnostics, blueprints } = validateText(text, 'w.yaml');
    assert.equal(find(diagnostics, 'no-restore-action').severity, 'warning');
    assert.equal(blueprints.length, 1);
  });
});
