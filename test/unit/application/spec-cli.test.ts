import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../../src/cli/main.ts';

const ROOT = join(import.meta.dirname, '../../..');
let dir: string;

async function cairn(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-app-cli-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('cairn validate with Applications', () => {
  it('accepts the example Applications next to the shipped blueprints', async () => {
    const { code, stdout } = await cairn('validate', join(ROOT, 'examples/applications'), join(ROOT, 'blueprints'));
    assert.equal(code, 0, stdout);
    assert.match(stdout, /ok {3}\S*shop\.yaml: shop \(Application: postgres, api, worker\)/);
    assert.match(stdout, /\d+ files, \d+ valid blueprints, 3 valid applications, 0 errors, 0 warnings/);
  });

  it('exits 1 listing every problem of an Application with file:line:column', async () => {
    const file = join(dir, 'bad-shop.yaml');
    const shop = await readFile(join(ROOT, 'examples/applications/shop.yaml'), 'utf8');
    await writeFile(file, shop.replace('blueprint: postgresql', 'blueprint: postgres').replace('concurrency: 9', 'concurrency: 0'));
    const { code, stdout } = await cairn('validate', file);
    assert.equal(code, 1);
    assert.match(stdout, /bad-shop\.yaml:14:18: error: spec\.components\[0\]\.blueprint: no blueprint named "postgres" among the known blueprints \(did you mean "postgresql"\?\) \[unknown-blueprint\]/);
    assert.match(stdout, /bad-shop\.yaml:\d+:16: error: spec\.concurrency: must be >= 1 \[schema\]/);
    assert.match(stdout, /2 errors/);
  });

  it('finds blueprints among the files given, and only in --blueprints directories when named', async () => {
    const app = join(dir, 'custom.yaml');
    await writeFile(app, 'apiVersion: cairn.io/v1alpha1\nkind: Application\nmetadata: { name: custom }\nspec:\n  namespace: custom\n  components:\n    - { name: db, workload: { kind: StatefulSet, name: db }, blueprint: scoped-release }\n');
    const unknown = await cairn('validate', '--output', 'json', app);
    assert.equal(unknown.code, 1);
    const report = JSON.parse(unknown.stdout) as { files: { diagnostics: { code: string; line: number }[] }[] };
    assert.deepEqual(report.files[0]?.diagnostics.map((d) => [d.code, d.line]), [['unknown-blueprint', 7]]);

    const known = await cairn('validate', '--output', 'json', app, join(ROOT, 'test/fixtures/blueprints/scoped-release.yaml'));
    assert.equal(known.code, 0, known.stdout);
    const files = (JSON.parse(known.stdout) as { files: { applications?: { name: string; namespace: string; components: string[] }[] }[] }).files;
    assert.deepEqual(files[0]?.applications, [{ name: 'custom', namespace: 'custom', components: ['db'] }]);

    const elsewhere = await cairn('validate', '--blueprints', dir, join(ROOT, 'examples/applications/shop.yaml'));
    assert.equal(elsewhere.code, 1);
    assert.match(elsewhere.stdout, /no blueprint named "postgresql"/);
  });
});

describe('cairn discover: usage', () => {
  it('prints its help, and exits 2 on usage errors', async () => {
    const help = await cairn('discover', '--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: cairn discover <namespace>/);
    assert.match(help.stdout, /postgres, postgresql, postgis, timescaledb → postgresql/);
    for (const argv of [[], ['a', 'b'], ['Not_A_Namespace'], ['shop', '--output', 'xml'], ['shop', '--name', 'Bad Name'], ['shop', '--bogus']]) {
      const result = await cairn('discover', ...argv);
      assert.equal(result.code, 2, `${argv.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /Run 'cairn discover --help' for usage/);
    }
  });

  it('is listed among the commands', async () => {
    const { stdout } = await cairn('--help');
    assert.match(stdout, /discover\s+propose an Application from a namespace's workloads/);
  });
});
