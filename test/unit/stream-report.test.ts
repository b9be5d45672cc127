import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { it } from 'node:test';
import { countedCommand, readStreamReport, streamVerdict } from '../../activities/functions/stream-report.ts';

// The wrapper is run here by the host's real sh and dd, as the pod runs it.
function stdoutOf(command: string[]): Buffer {
  const [file, ...args] = countedCommand(command);
  return execFileSync(file!, args, { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 });
}

function stderrOf(command: string[]): string {
  const [file, ...args] = countedCommand(command);
  return execFileSync('sh', ['-c', '"$@" 2>&1 >/dev/null', 'sh', file!, ...args], { encoding: 'utf8' });
}

it('the pod reports the exit status of the command and the bytes it sent; its own stderr is kept apart', () => {
  const command = ['sh', '-c', 'echo warming up >&2; head -c 300000 /dev/zero'];
  assert.equal(stdoutOf(command).length, 300_000);
  const report = readStreamReport(stderrOf(command));
  assert.equal(report.exitCode, 0);
  assert.equal(report.bytes, 300_000);
  assert.equal(report.stderr.trim(), 'warming up');
  assert.deepEqual(streamVerdict(0, report, 300_000), { ok: true });
});

it('a failing command is reported with its own exit status even though the pipe ends in dd', () => {
  const report = readStreamReport(stderrOf(['sh', '-c', 'echo partial; exit 3']));
  assert.equal(report.exitCode, 3);
  assert.deepEqual(streamVerdict(0, report, 8), { ok: false, exitCode: 3, message: 'exited 3' });
});

it('a stream shorter than the pod sent, or one whose report never arrived, is not whole', () => {
  const report = { exitCode: 0, bytes: 15_100_000, stderr: '' };
  const cut = streamVerdict(0, report, 13_660_160);
  assert.equal(cut.ok, false);
  assert.match(!cut.ok ? cut.message : '', /sent 15100000 bytes but 13660160 arrived/);
  const silent = streamVerdict(0, { stderr: 'some output' }, 42);
  assert.equal(silent.ok, false);
  assert.match(!silent.ok ? silent.message : '', /without the pod's end-of-stream report after 42 bytes/);
  assert.equal(!silent.ok && silent.exitCode, undefined, 'a cut stream is retried, not reported as a command failure');
});

it('reads the summary of GNU, busybox and BSD dd', () => {
  for (const line of ['1234 bytes (1.2 kB, 1.2 KiB) copied, 0.001 s, 1.2 MB/s', '1234 bytes (1.2KB) copied, 0.000213 seconds, 5.5MB/s', '1234 bytes transferred in 0.000102 secs (12098039 bytes/sec)']) {
    assert.equal(readStreamReport(`cairn-exit=0\n0+3 records in\n0+3 records out\n${line}\n`).bytes, 1234, line);
  }
});
