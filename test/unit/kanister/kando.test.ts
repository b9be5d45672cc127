import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { wantsKandoLocation } from '../../../activities/functions/kando-location.ts';
import { parsePhaseOutputs } from '../../../activities/functions/phase-output.ts';

// `kando output` of Cairn's kando (deploy/kando/kando, POSIX sh + awk) prints what Kanister's Go kando prints:
// `###Phase-output###: ` and json.Marshal of {key, value}, HTML-safe escapes included; with dash and with
// both common awks; and the phase-output parser reads every value back exactly. Argument errors say what
// Kanister's say.
const KANDO = join(import.meta.dirname, '../../../deploy/kando/kando');

const VALUES: [string, string][] = [
  ['plain', 'plain'],
  ['quote " and back\\slash', 'quote \\" and back\\\\slash'],
  ['<b>&amp;</b>', '\\u003cb\\u003e\\u0026amp;\\u003c/b\\u003e'],
  ['tab\tnewline\nCR\r', 'tab\\tnewline\\nCR\\r'],
  ['\u0001\u001f\b\f', '\\u0001\\u001f\\b\\f'],
  ['é 日本 😀 \u007f', 'é 日本 😀 \u007f'],
  ['line\u2028para\u2029', 'line\\u2028para\\u2029'],
  ['', ''],
  ['###Phase-output###: {"key":"x","value":"y"}', '###Phase-output###: {\\"key\\":\\"x\\",\\"value\\":\\"y\\"}'],
  ['\n\nspaced\n\n', '\\n\\nspaced\\n\\n'],
  ['{"id":"abc","logicalSize":12,"physicalSize":0}', '{\\"id\\":\\"abc\\",\\"logicalSize\\":12,\\"physicalSize\\":0}'],
];

/** PATH directories whose `awk` is the one named (the script calls plain `awk`). */
function pathWithAwk(awk: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${awk}`]).stdout.toString().trim();
  if (!found) return undefined;
  const dir = mkdtempSync(join(tmpdir(), `kando-${awk}-`));
  symlinkSync(found, join(dir, 'awk'));
  return `${dir}:${process.env.PATH}`;
}

const shells = ['sh', 'dash'].filter((shell) => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0);
const awks = ['gawk', 'mawk'].flatMap((awk) => {
  const path = pathWithAwk(awk);
  return path ? [{ awk, path }] : [];
});

function kando(shell: string, path: string, ...args: string[]) {
  const result = spawnSync(shell, [KANDO, ...args], { env: { PATH: path } });
  return { code: result.status, stdout: result.stdout.toString('utf8'), stderr: result.stderr.toString('utf8') };
}

for (const shell of shells) {
  for (const { awk, path } of awks) {
    describe(`kando output (${shell}, ${awk})`, () => {
      for (const [value, escaped] of VALUES) {
        it(`prints ${JSON.stringify(value)} as Go's encoding/json does, and it parses back`, () => {
          const result = kando(shell, path, 'output', 'key_1', value);
          assert.equal(result.code, 0, result.stderr);
          assert.equal(result.stdout, `###Phase-output###: {"key":"key_1","value":"${escaped}"}\n`);
          assert.deepEqual(parsePhaseOutputs(result.stdout), { key_1: value });
        });
      }
    });
  }
}

/** Go's json.Marshal of each value, through sprig's toJson in the Go renderer of the go-differential test. */
function goEncodings(): string[] | undefined {
  if (spawnSync('go', ['version']).status !== 0) return undefined;
  const binary = join(mkdtempSync(join(tmpdir(), 'cairn-go-render-')), 'go-render');
  const build = spawnSync('go', ['build', '-o', binary, '.'], { cwd: join(import.meta.dirname, '../../fixtures/kanister/go-render'), timeout: 300_000 });
  if (build.status !== 0) return undefined;
  const input = VALUES.map(([value]) => JSON.stringify({ template: '{{ toJson .Options.v }}', params: { Options: { v: value } } })).join('\n');
  const lines = spawnSync(binary, { input: `${input}\n` }).stdout.toString().trim().split('\n');
  return lines.map((line) => (JSON.parse(line) as { out: string }).out);
}

const go = goEncodings();

describe('the expected escapes are Go\'s', { skip: go ? false : 'needs a Go toolchain with sprig' }, () => {
  VALUES.forEach(([value, escaped], index) => {
    it(JSON.stringify(value), () => assert.equal(go![index], `"${escaped}"`));
  });
});

describe('kando arguments', () => {
  const path = process.env.PATH!;
  it("rejects what Kanister's kando rejects, with its messages", () => {
    assert.deepEqual(kando('sh', path, 'output', 'a'), { code: 1, stdout: '', stderr: 'kando: Command accepts 2 arguments, received 1 arguments\n' });
    assert.equal(kando('sh', path, 'output', 'a-b', 'x').stderr, 'kando: Key should contain only alphanumeric characters and underscore\n');
    assert.equal(kando('sh', path, 'output', '', 'x').stderr, 'kando: Key should not be empty\n');
  });

  it('checks location flags before it needs a location', () => {
    const env = (...args: string[]) => kando('sh', path, 'location', ...args);
    assert.match(env('push', '-').stderr, /--path is required/);
    assert.match(env('push', '--path', '/', '-').stderr, /must name an artifact, not the whole location/);
    assert.match(env('push', '--path', 'a/b').stderr, /location push takes exactly one argument \(a file, or - for stdin\), received 0/);
    assert.match(env('delete', '--path', 'a/b', 'extra').stderr, /location delete takes no arguments, received 1/);
    assert.match(env('pull', '--path', 'a', '--backupID', 'not-hex', '-').stderr, /--backupID "not-hex" is not a kopia snapshot ID/);
    assert.match(env('pull', '--path', 'a', '--kopia-snapshot', '{"size":1}', '-').stderr, /--kopia-snapshot has no "id"/);
    assert.match(env('push', '--repository-server', '{}', '--path', 'a', '-').stderr, /Kopia repository servers are not supported/);
    assert.match(env('push', '--path', 'a', '--output-name', 'bad-name', '-').stderr, /--output-name "bad-name" must be letters, digits and underscores/);
    assert.match(env('archive').stderr, /unknown location command "archive"/);
  });

  it('says where the location comes from when the environment has none', () => {
    const result = spawnSync('sh', [KANDO, 'location', 'push', '--path', '/a/b', '-'], { env: { PATH: path } });
    assert.equal(result.status, 1);
    assert.match(result.stderr.toString(), /no location in the environment \(KOPIA_PASSWORD, KANDO_REPOSITORY\): Cairn provides it to KubeTask, MultiContainerRun and PrepareData pods/);
  });

  it('refuses a --profile that names another profile than the one the environment opens', () => {
    const result = spawnSync('sh', [KANDO, 'location', 'delete', '--profile', '{"name":"offsite","location":{"type":"s3"}}', '--path', '/a/b'], {
      env: { PATH: path, KANDO_PROFILE: 'default', KOPIA_PASSWORD: 'x', KANDO_REPOSITORY: 'filesystem --path /nonexistent', KANDO_SOURCE_HOST: 'app' },
    });
    assert.equal(result.status, 1);
    assert.equal(result.stderr.toString(), 'kando: --profile names profile "offsite" but this run\'s location is profile "default"\n');
  });
});

describe('which phases get the location for kando', () => {
  it('those whose command runs kando location, however it is written', () => {
    for (const command of [
      ['sh', '-c', 'mysqldump | kando location push --path x -'],
      ['bash', '-c', 'set -e\nkando  location delete --path x'],
      ['/usr/local/bin/kando', 'location', 'pull', '--path', 'x', '-'],
      ['sh', '-c', 'echo "$(kando location pull --path x -)"'],
    ]) {
      assert.equal(wantsKandoLocation({}, [command]), true, command.join(' '));
    }
    assert.equal(wantsKandoLocation({}, [undefined, ['sh', '-c', 'true'], ['sh', '-c', 'cat /tmp/data | kando location push --path p -']]), true);
  });

  it('not those that only print outputs or mention the word, unless locationCredentials says so', () => {
    assert.equal(wantsKandoLocation({}, [['sh', '-c', 'kando output key value']]), false);
    assert.equal(wantsKandoLocation({}, [['sh', '-c', 'echo nokando location']]), false);
    assert.equal(wantsKandoLocation({ locationCredentials: true }, [['sh', '-c', '/scripts/backup.sh']]), true);
    assert.equal(wantsKandoLocation({ locationCredentials: false }, [['sh', '-c', 'kando location push --path x -']]), false);
  });
});

