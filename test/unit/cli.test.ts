import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../../src/cli/main.ts';

const root = join(import.meta.dirname, '../..');
const fixtures = join(root, 'test/fixtures/blueprints');

async function cairn(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

describe('cairn validate', () => {
  it('passes every shipped blueprint', async () => {
    const { code, stdout } = await cairn('validate', join(root, 'blueprints'));
    assert.equal(code, 0, stdout);
    assert.match(stdout, /0 errors/);
  });

  it('exits 1 and lists every problem with file:line:column', async () => {
    const { code, stdout } = await cairn('validate', join(fixtures, 'many-errors.yaml'));
    assert.equal(code, 1);
    assert.match(stdout, /many-errors\.yaml:10:15: error: actions\.backup\.phases\[0\]\.func: unknown function "KubeExek" \(did you mean "KubeExec"\?\) \[unknown-function\]/);
    assert.match(stdout, /8 errors/);
  });

  it('offers JSON output for scripts', async () => {
    const { code, stdout } = await cairn('validate', '--output', 'json', join(fixtures, 'scoped-release.yaml'), join(fixtures, 'duplicate-key.yaml'));
    assert.equal(code, 1);
    const report = JSON.parse(stdout) as { valid: boolean; files: { valid: boolean; blueprints: { name: string }[]; diagnostics: { code: string; line: number }[] }[] };
    assert.equal(report.valid, false);
    assert.equal(report.files[0]?.valid, true);
    assert.equal(report.files[0]?.blueprints[0]?.name, 'scoped-release');
    assert.deepEqual(report.files[1]?.diagnostics.map((d) => [d.code, d.line]), [['duplicate-key', 5]]);
  });

  it('exits 2 on usage errors and 0 on --help', async () => {
    assert.equal((await cairn('validate')).code, 2);
    assert.equal((await cairn('validate', '--bogus', 'x')).code, 2);
    assert.equal((await cairn('validate', '-o', 'xml', 'x.yaml')).code, 2);
    const help = await cairn('validate', '--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: cairn validate/);
  });
});

describe('cairn render', () => {
  it('prints the plan with rendered args and run-time placeholders', async () => {
    const { code, stdout } = await cairn('render', join(root, 'blueprints/postgresql.yaml'), '--action', 'backup', '--target', 'statefulset/shop/pg');
    assert.equal(code, 0);
    assert.match(stdout, /target: statefulset\/shop\/pg/);
    assert.match(stdout, /pod: <runtime:Target\.pods\.0>/);
    assert.match(stdout, /--username='<runtime:Phases\.dumpToLocation\.Secrets\.credentials\.POSTGRES_USER>'/);
    assert.match(stdout, /PGPASSWORD='<runtime:Phases\.dumpToLocation\.Secrets\.credentials\.POSTGRES_PASSWORD>'/);
    assert.match(stdout, /path: postgresql\/shop\/pg\/dumpall\.sql/);
  });

  it('gives the plan and rendered args as JSON', async () => {
    const { code, stdout } = await cairn('render', join(fixtures, 'scoped-release.yaml'), '-a', 'backup', '-t', 'statefulset/shop/pg', '-o', 'json');
    assert.equal(code, 0);
    const { plan, rendered } = JSON.parse(stdout) as { plan: { hash: string; planVersion: number }; rendered: Record<string, { args: Record<string, unknown> }> };
    assert.equal(plan.planVersion, 1);
    assert.match(plan.hash, /^[0-9a-f]{64}$/);
    assert.equal(rendered.snapshot?.args.snapshotClass, 'cairn-snapclass');
  });

  it('exits 1 for a target kind the action does not support and 2 for a malformed target', async () => {
    const wrongKind = await cairn('render', join(root, 'blueprints/postgresql.yaml'), '-a', 'backup', '-t', 'deployment/shop/pg');
    assert.equal(wrongKind.code, 1);
    assert.match(wrongKind.stderr, /applies to StatefulSet/);
    assert.equal((await cairn('render', join(root, 'blueprints/postgresql.yaml'), '-a', 'backup', '-t', 'shop/pg')).code, 2);
    assert.equal((await cairn('render', join(root, 'blueprints/postgresql.yaml'), '-t', 'statefulset/shop/pg')).code, 2);
  });
});

describe('the cairn executable', () => {
  it('exits with the documented codes and prints no stack trace', () => {
    const bin = join(root, 'bin/cairn.js');
    const ok = spawnSync(process.execPath, [bin, 'validate', join(root, 'blueprints')], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    const invalid = spawnSync(process.execPath, [bin, 'validate', join(fixtures, 'latin1.yaml')], { encoding: 'utf8' });
    assert.equal(invalid.status, 1);
    assert.doesNotMatch(invalid.stdout + invalid.stderr, /\n\s+at /);
    const unknown = spawnSync(process.execPath, [bin, 'validat'], { encoding: 'utf8' });
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /did you mean "validate"/);
  });
});
