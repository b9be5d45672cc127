import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { main } from '../../../src/cli/main.ts';

async function cairn(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { code, stdout, stderr };
}

// Argument checking happens before anything is contacted: these need no location, Temporal or cluster.
describe('cairn retention / verify / restore-points: usage errors', () => {
  const cases: [string[], RegExp][] = [
    [['retention'], /name a subcommand: apply/],
    [['retention', 'prune', 'shop'], /unknown subcommand "prune"/],
    [['retention', 'apply'], /name exactly one application/],
    [['retention', 'apply', 'Shop!', '--keep-last', '1'], /not an application name/],
    [['retention', 'apply', 'shop', '--daily', 'seven'], /--daily takes a whole number, got "seven"/],
    [['retention', 'apply', 'shop', '--keep-last', '0', '--daily', '0'], /keeps nothing/],
    [['retention', 'apply', 'shop', '--keep-last', '1', '--orphan-grace', 'a day'], /--orphan-grace takes a duration/],
    [['retention', 'apply', 'shop', '--keep-last', '1', '--maintenance-safety', 'some'], /--maintenance-safety is full or none/],
    [['retention', 'apply', 'shop', '--keep-last', '1', '--maintenance-safety', 'none', '--no-maintenance'], /exclude each other/],
    [['verify'], /name exactly one application/],
    [['verify', 'shop', '--sample', '0'], /--sample takes a whole number ≥ 1/],
    [['verify', 'shop', '--files-percent', '101'], /--files-percent takes a number from 0 to 100/],
    [['restore-points', 'purge'], /unknown subcommand "purge"/],
    [['restore-points', 'describe', 'shop'], /name one restore point as <application>\/<id>/],
    [['restore-points', 'delete', 'shop'], /at least one restore point id/],
    [['restore-points', 'delete', 'shop', 'yesterday', '--yes'], /"yesterday" is not a restore point id/],
    [['restore-points', 'list', '--output', 'yaml'], /yaml/],
  ];
  for (const [argv, message] of cases) {
    it(`${argv.join(' ')} → exit 2`, async () => {
      const result = await cairn(...argv);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.equal(result.stdout, '');
    });
  }

  it('--help documents each command', async () => {
    for (const [command, text] of [
      ['retention', /--keep-last <N>[\s\S]*--dry-run[\s\S]*--orphan-grace/],
      ['verify', /--files-percent[\s\S]*Exit status: 0 verified OK/],
      ['restore-points', /describe[\s\S]*delete <application> <id>\.\.\. --yes/],
    ] as const) {
      const result = await cairn(command, '--help');
      assert.equal(result.code, 0);
      assert.match(result.stdout, text);
    }
  });
});
