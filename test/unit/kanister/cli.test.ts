import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { importKanisterCommand } from '../../../src/cli/import-kanister.ts';

const fixtures = join(import.meta.dirname, '../../fixtures/kanister');

async function importKanister(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await importKanisterCommand(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

describe('cairn import-kanister', () => {
  it('prints the Cairn blueprint on stdout and warnings on stderr', async () => {
    const { code, stdout, stderr } = await importKanister(join(fixtures, 'mysql.yaml'));
    assert.equal(code, 0);
    assert.equal(stdout, readFileSync(join(fixtures, 'expected/mysql.cairn.yaml'), 'utf8'));
    assert.match(stderr, /mysql\.yaml:64:5: warning: actions\.delete: action "delete" names no kind/);
  });

  it('writes -o and says what it wrote', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cairn-import-')), 'etcd.yaml');
    const { code, stdout, stderr } = await importKanister(join(fixtures, 'etcd-csi.yaml'), '-o', out);
    assert.equal(code, 0);
    assert.equal(stdout, '');
    assert.equal(readFileSync(out, 'utf8'), readFileSync(join(fixtures, 'expected/etcd-csi.cairn.yaml'), 'utf8'));
    assert.match(stderr, /wrote .*etcd\.yaml \(etcd-csi-snapshot: backup, restore, delete\)/);
  });

  it('exits 1, lists every problem and writes nothing when something cannot be converted', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cairn-import-')), 'never.yaml');
    const { code, stdout, stderr } = await importKanister(join(fixtures, 'bad/many-problems.yaml'), '-o', out);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.equal(existsSync(out), false);
    assert.equal(stderr.split('\n').filter((line) => line.includes(': error: ')).length, 6);
    assert.match(stderr, /many-problems\.yaml:22:19: error: actions\.backup\.phases\[0\]\.args\.command\[2\]: \{\{ env "HOME" \}\}: function "env" has no Cairn equivalent: templates cannot read the environment \[unsupported-template-function\]/);
    assert.match(stderr, /not converted \(6 problems\); nothing written/);
    assert.doesNotMatch(stderr, /at .*\.ts:\d+/, 'no stack trace');
  });

  it('exits 1 when the converted blueprint fails Cairn validation', async () => {
    const { code, stderr } = await importKanister(join(fixtures, 'bad/invalid-args.yaml'));
    assert.equal(code, 1);
    assert.match(stderr, /invalid-args\.yaml:17:27: error: .*backupIdentifier.*\[schema\]/);
  });

  it('offers a JSON report', async () => {
    const { code, stdout } = await importKanister(join(fixtures, 'bad/rds.yaml'), '--output', 'json');
    assert.equal(code, 1);
    const report = JSON.parse(stdout) as { converted: boolean; diagnostics: { code: string; line: number }[] };
    assert.equal(report.converted, false);
    assert.deepEqual(report.diagnostics.map((d) => [d.code, d.line]), [['unsupported-function', 10]]);
    const ok = JSON.parse((await importKanister(join(fixtures, 'control-flow.yaml'), '--output', 'json')).stdout) as { converted: boolean; blueprint: string };
    assert.equal(ok.converted, true);
    assert.match(ok.blueprint, /^# Imported from control-flow\.yaml/);
  });

  it('exits 2 on usage errors and 0 on --help', async () => {
    assert.equal((await importKanister()).code, 2);
    assert.equal((await importKanister('a.yaml', 'b.yaml')).code, 2);
    assert.equal((await importKanister('--bogus', 'a.yaml')).code, 2);
    assert.equal((await importKanister('a.yaml', '--output', 'xml')).code, 2);
    const help = await importKanister('--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: cairn import-kanister <file>/);
  });

  it('rejects files that are not UTF-8 or larger than 1 MiB, without a stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-import-'));
    writeFileSync(join(dir, 'latin1.yaml'), Buffer.from('apiVersion: cr.kanister.io/v1alpha1\nkind: Blueprint\nmetadata: {name: caf\xe9}\n', 'latin1'));
    writeFileSync(join(dir, 'huge.yaml'), `# ${'x'.repeat(1024 * 1024)}\n`);
    const latin1 = await importKanister(join(dir, 'latin1.yaml'));
    assert.equal(latin1.code, 1);
    assert.match(latin1.stderr, /latin1\.yaml: error: file is not valid UTF-8 \(first bad byte at offset 73\) \(save the file as UTF-8\) \[not-utf8\]/);
    const huge = await importKanister(join(dir, 'huge.yaml'));
    assert.equal(huge.code, 1);
    assert.match(huge.stderr, /huge\.yaml: error: file is \d+ bytes; the limit is 1048576 bytes \(1 MiB\) \[file-too-large\]/);
  });

  it('reports a missing file as a problem, not a crash', async () => {
    const { code, stderr } = await importKanister(join(fixtures, 'missing.yaml'));
    assert.equal(code, 1);
    assert.match(stderr, /missing\.yaml: error: no such file \[unreadable\]/);
  });
});
