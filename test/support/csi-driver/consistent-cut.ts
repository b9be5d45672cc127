import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type CsiLayout, writersFile } from './layout.ts';

/**
 * A snapshot of a live volume is only worth restoring if it is a cut that the writers could have left after
 * a crash: no file copied before a write that another file copied later already reflects. Real storage gets
 * that from copy-on-write; a directory copy gets it by stopping every writer (SIGSTOP) for the length of the
 * copy. Written data sits in the page cache, so the copy sees every write() that returned before the stop —
 * exactly what a crash (not a power loss) would have left on disk.
 */

export interface PauseReport {
  /** Every process stopped for the copy: the listed writers and their descendants. */
  pausedPids: number[];
  /** How long the writers stood still, from the first SIGSTOP to the last SIGCONT. */
  pausedMs: number;
}

const STOP_TIMEOUT_MS = 5_000;

/** PIDs listed in `<volumes>/<volumeHandle>.writers`, one per line; a missing file means no writers. */
export function readWriters(layout: CsiLayout, volumeHandle: string): number[] {
  let text: string;
  try {
    text = readFileSync(writersFile(layout, volumeHandle), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const pids = text
    .split('\n')
    .map((line) => Number.parseInt(line.trim(), 10))
    .filter((pid) => Number.isInteger(pid) && pid > 1 && pid !== process.pid);
  return [...new Set(pids)];
}

/**
 * Runs `work` (the copy) while every writer of the volumes and every descendant of a writer is stopped, and
 * resumes them afterwards, also when `work` fails. A process that was already stopped before is left as it
 * was. While writers are paused their PIDs are listed in `paused.pids`, so that a driver killed mid-copy
 * resumes them when it starts again (`resumeLeftoverPauses`).
 */
export async function withWritersPaused<T>(
  layout: CsiLayout,
  volumeHandles: string | string[],
  work: () => Promise<T>,
): Promise<{ result: T; pause: PauseReport }> {
  // One pause for all volumes: a group snapshot is one cut across them.
  const writers = [...new Set([volumeHandles].flat().flatMap((handle) => readWriters(layout, handle)))];
  const paused: number[] = [];
  const started = performance.now();
  let pausedMs = 0;
  let result: T;
  try {
    let level = writers;
    while (level.length > 0) {
      await waitUntilStopped(pauseAll(layout, level, paused));
      // Children are listed only once their parents stand still, so none can be forked unseen.
      level = childrenOf(new Set(level), new Set(paused));
    }
    result = await work();
  } finally {
    // Children first: a parent resumed while its child is still stopped may react to the stop. runuser and su
    // do (they stop themselves, and stay stopped); once the child runs again, waitpid no longer reports it.
    resumeAll([...paused].reverse());
    rmSync(layout.pausedPids, { force: true });
    pausedMs = Math.round(performance.now() - started);
  }
  return { result, pause: { pausedPids: paused, pausedMs } };
}

/** Resumes processes a previous run of the driver paused and did not get to resume (it was killed). */
export function resumeLeftoverPauses(layout: CsiLayout): number[] {
  let text: string;
  try {
    text = readFileSync(layout.pausedPids, 'utf8');
  } catch {
    return [];
  }
  const pids = text
    .split('\n')
    .map((line) => Number.parseInt(line, 10))
    .filter((pid) => Number.isInteger(pid) && pid > 1 && processState(pid) === 'T');
  resumeAll(pids);
  rmSync(layout.pausedPids, { force: true });
  return pids;
}

function pauseAll(layout: CsiLayout, pids: number[], paused: number[]): number[] {
  const candidates = pids.filter((pid) => {
    const state = processState(pid);
    // Gone, a zombie, or stopped by someone else (a debugger, a test): not ours to stop or resume.
    return state !== undefined && state !== 'Z' && state !== 'X' && state !== 'T' && state !== 't';
  });
  // Recorded before the signal: a crash between the two must not leave a process stopped with no record.
  writeFileSync(layout.pausedPids, [...paused, ...candidates].map((pid) => `${pid}\n`).join(''));
  const stopped: number[] = [];
  for (const pid of candidates) {
    if (signal(pid, 'SIGSTOP')) {
      paused.push(pid);
      stopped.push(pid);
    }
  }
  return stopped;
}

function resumeAll(pids: number[]): void {
  for (const pid of pids) signal(pid, 'SIGCONT');
}

function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/**
 * SIGSTOP takes effect when each thread next leaves the kernel; a write() in progress completes first. Wait
 * until every thread of every process reports state T, so the copy never starts beside a write in flight.
 */
async function waitUntilStopped(pids: number[]): Promise<void> {
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  for (;;) {
    const running = pids.filter((pid) => !allThreadsStopped(pid));
    if (running.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`writers did not stop within ${STOP_TIMEOUT_MS} ms: ${running.join(', ')}`);
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 2));
  }
}

function allThreadsStopped(pid: number): boolean {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return true; // exited: it writes nothing any more
  }
  return tids.every((tid) => {
    const state = statState(`/proc/${pid}/task/${tid}/stat`);
    return state === undefined || state === 'T' || state === 't' || state === 'Z' || state === 'X';
  });
}

/** The one-letter state of a process (R, S, D, T, Z, …), or undefined when it no longer exists. */
export function processState(pid: number): string | undefined {
  return statState(`/proc/${pid}/stat`);
}

function statState(file: string): string | undefined {
  try {
    const stat = readFileSync(file, 'utf8');
    // The command name (field 2) is in parentheses and may itself contain spaces and parentheses.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ', 1)[0];
  } catch {
    return undefined;
  }
}

/** Live processes whose parent is in `parents`, not counting those already handled. */
function childrenOf(parents: Set<number>, handled: Set<number>): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || handled.has(pid) || parents.has(pid)) continue;
    const ppid = parentPid(pid);
    if (ppid !== undefined && parents.has(ppid)) children.push(pid);
  }
  return children;
}

function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[1]);
  } catch {
    return undefined;
  }
}
