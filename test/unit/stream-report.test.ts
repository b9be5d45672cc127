import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { it } from 'node:test';
import { countedCommand, countedInputScript, inputVerdict, readStreamReport, streamVerdict } from '../../activities/functions/stream-report.ts';

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

// The restore direction: the pod counts what reached the command.
function feed(size: number, sent: number, command: string): { status: number | null; stdout: string; report: ReturnType<typeof readStreamReport> } {
  const result = spawnSync('sh', ['-c', countedInputScript(size, command)], { input: Buffer.alloc(sent, 7), encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, report: readStreamReport(result.stderr) };
}

it('a restore command gets exactly the snapshot\'s bytes, counted by the pod, and a script of several lines runs whole', () => {
  const whole = feed(300_000, 300_000, 'wc -c\necho restored >&2');
  assert.equal(whole.status, 0);
  assert.equal(whole.stdout.trim(), '300000');
  assert.equal(whole.report.exitCode, 0);
  assert.equal(whole.report.stderr.trim(), 'restored');
  assert.deepEqual(inputVerdict(whole.report, 300_000), { ok: true });
  // Bytes after the snapshot's size (kwok never ends stdin) never reach the command.
  assert.equal(feed(1000, 5000, 'wc -c').stdout.trim(), '1000');
});

it('a restore whose input was cut short fails though the command exited 0', () => {
  const cut = feed(300_000, 200_000, 'cat >/dev/null');
  assert.equal(cut.status, 0, 'the command itself saw a clean end of input');
  const verdict = inputVerdict(cut.report, 300_000);
  assert.equal(verdict.ok, false);
  assert.match(!verdict.ok ? verdict.message : '', /received 200000 of the 300000 bytes sent: the stream was cut/);
  const silent = inputVerdict(readStreamReport('some output'), 10);
  assert.match(!silent.ok ? silent.message : '', /without the pod's count/);
});

it('a failing restore command keeps its own exit status', () => {
  const failed = feed(100, 100, 'cat >/dev/null; echo "ERROR 1064" >&2; exit 5');
  assert.equal(failed.status, 5);
  assert.equal(failed.report.exitCode, 5);
  assert.equal(failed.report.stderr.trim(), 'ERROR 1064');
});
