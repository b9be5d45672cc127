/**
 * The pod's own account of a stream it sent, or received. An exec can end with exit status 0 while the tail of stdout never
 * arrived (seen on a loaded machine: a tar stream cut at a record boundary, so kopia took it for whole). So the
 * command's stdout goes through `dd` in the pod, which counts every byte it passes on, and the command's exit
 * status is reported on stderr; a snapshot is committed only when the pod's count equals what arrived.
 */

/** `sh -c` script: runs "$@", reports its exit status, and passes its stdout through dd (whose summary is the count). */
const COUNTED_STREAM = '{ "$@"; echo "cairn-exit=$?" >&2; } | dd bs=65536';

export function countedCommand(command: string[]): string[] {
  return ['sh', '-c', COUNTED_STREAM, 'sh', ...command];
}

export interface StreamReport {
  /** The command's exit status, as the pod reported it. */
  exitCode?: number;
  /** Bytes the pod's dd passed on: GNU, busybox and BSD dd all print `<n> bytes …` last. */
  bytes?: number;
  /** The command's own stderr, without the report lines. */
  stderr: string;
}

const EXIT_LINE = /^cairn-exit=(\d+)$/;
const BYTES_LINE = /^(\d+) bytes\b/;
const RECORDS_LINE = /^\d+\+\d+ records (in|out)$/;

export function readStreamReport(stderr: string): StreamReport {
  const report: StreamReport = { stderr: '' };
  const kept: string[] = [];
  for (const line of stderr.split('\n')) {
    const exit = EXIT_LINE.exec(line);
    const bytes = BYTES_LINE.exec(line);
    if (exit) report.exitCode = Number(exit[1]);
    else if (bytes && /copied|transferred/.test(line)) report.bytes = Number(bytes[1]);
    else if (!RECORDS_LINE.test(line)) kept.push(line);
  }
  report.stderr = kept.join('\n');
  return report;
}

export type StreamVerdict = { ok: true } | { ok: false; exitCode?: number; message: string };

/**
 * Whether a stream that ended with exec status `execExitCode` and delivered `received` bytes is whole. A
 * missing report counts as a cut stream: the report is the last thing the pod writes.
 */
export function streamVerdict(execExitCode: number, report: StreamReport, received: number): StreamVerdict {
  const commandExit = report.exitCode ?? (execExitCode !== 0 ? execExitCode : undefined);
  if (commandExit !== undefined && commandExit !== 0) return { ok: false, exitCode: commandExit, message: `exited ${commandExit}` };
  if (execExitCode !== 0) return { ok: false, exitCode: execExitCode, message: `its stream copy in the pod exited ${execExitCode}` };
  if (report.exitCode === undefined || report.bytes === undefined) {
    return { ok: false, message: `ended without the pod's end-of-stream report after ${received} bytes: the stream may have been cut` };
  }
  if (report.bytes !== received) return { ok: false, message: `sent ${report.bytes} bytes but ${received} arrived: the stream was cut` };
  return { ok: true };
}

/**
 * `sh -c` script for the other direction: exactly `size` bytes of stdin go through dd (which counts what reached
 * the command) into `shellCommand`, then the command's exit status is reported and returned. Without the count,
 * a restore whose input was cut short where a real kubelet delivers the end of stdin (a SQL dump ending on a
 * statement boundary, a tar archive on a record boundary) would end with status 0 and look whole.
 */
export function countedInputScript(size: number, shellCommand: string): string {
  return `{ head -c ${size} | dd bs=65536 2>&3 | {\n${shellCommand}\n}; status=$?; echo "cairn-exit=$status" >&3; exit $status; } 3>&2`;
}

/** Whether a restore command that exited 0 received all `expected` bytes, by the pod's own count. */
export function inputVerdict(report: StreamReport, expected: number): StreamVerdict {
  if (report.bytes === undefined) return { ok: false, message: `ended without the pod's count of the bytes it received (${expected} were sent): the stream may have been cut` };
  if (report.bytes !== expected) return { ok: false, message: `received ${report.bytes} of the ${expected} bytes sent: the stream was cut` };
  return { ok: true };
}
