import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';

// The RTO benchmark runs the real application workflows: a workflow change that breaks it (a new activity the
// bench does not register, say) must fail here, not at the next measurement. Tiny durations: this checks that
// it runs and reports, never how fast (speed belongs to the benchmark itself).
const ROOT = join(import.meta.dirname, '../../..');

it('bench:restore-rto runs the real restore workflows to the end and prints its ratios', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/restore-rto.ts')], {
    cwd: ROOT,
    env: { ...process.env, BENCH_UNIT_MS: '20' },
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.equal(result.status, 0, result.stderr.slice(-3000));
  assert.match(result.stdout, /^Cairn RTO \/ critical path: +\d+\.\d{3} +target <= 1\.15: (met|NOT met)$/m);
  assert.match(result.stdout, /^serial \/ Cairn RTO: +\d+\.\d+x$/m);
});
