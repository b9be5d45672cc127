import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, sleep } from '../../../scripts/stack/process.ts';
import type { CriLogFile } from './cri-log.ts';

export interface ExitStatus {
  /** The exit code; a process killed by a signal reports 128 + the signal number, as container runtimes do. */
  code: number;
  signal?: NodeJS.Signals;
}

export interface ChildSpec {
  argv: string[];
  env: Record<string, string>;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** Where stdout and stderr go, line by line. */
  log: CriLogFile;
  /** The signal that asks it to stop cleanly (postgres: SIGINT is its "fast" shutdown). */
  stopSignal?: NodeJS.Signals;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

/**
 * A process the runtime started for a pod. It runs in its own process group, so that `stack:down`'s
 * SIGTERM to the runtime's group reaches only the runtime, which then stops each child the way its kind
 * wants (a database cleanly, a container with its grace period). Each child is also recorded in
 * `<records>/<pid>.json`, so that a runtime that was killed outright can stop its orphans when it restarts.
 */
export class ChildProcess {
  readonly pid: number;
  readonly exited: Promise<ExitStatus>;
  private done = false;

  constructor(
    spec: ChildSpec,
    private readonly records: ProcessRecords,
  ) {
    const child = spawn(spec.argv[0]!, spec.argv.slice(1), {
      env: spec.env,
      cwd: spec.cwd,
      uid: spec.uid,
      gid: spec.gid,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => spec.log.stdout.write(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => spec.log.stderr.write(chunk));
    this.exited = new Promise<ExitStatus>((resolveExit) => {
      child.once('error', (error) => {
        spec.log.note(`cairn pod runtime: cannot start ${spec.argv[0]}: ${error.message}`);
        this.done = true;
        resolveExit({ code: 128 });
      });
      child.once('close', (code, signal) => {
        this.done = true;
        if (child.pid !== undefined) records.forget(child.pid);
        resolveExit(signal ? { code: 128 + (SIGNAL_NUMBERS[signal] ?? 0), signal } : { code: code ?? 0 });
      });
    });
    this.pid = child.pid ?? -1;
    if (child.pid !== undefined) records.remember(child.pid, spec.argv, spec.stopSignal ?? 'SIGTERM');
  }

  get running(): boolean {
    return !this.done;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.done || this.pid < 0) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      // exited in between
    }
  }

  /** Sends `signal`, waits up to `graceMs`, then SIGKILLs the whole process group. */
  async stop(signal: NodeJS.Signals, graceMs: number): Promise<ExitStatus> {
    this.signal(signal);
    const timeout = sleep(graceMs).then(() => 'timeout' as const);
    if ((await Promise.race([this.exited, timeout])) === 'timeout') {
      try {
        process.kill(-this.pid, 'SIGKILL');
      } catch {
        this.signal('SIGKILL');
      }
    }
    return this.exited;
  }
}

interface ProcessRecord {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: tells a recorded process from a later one that reused its PID. */
  startTime: string;
  argv: string[];
  stopSignal: NodeJS.Signals;
}

function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** The PID files of everything the runtime started: `<dir>/<pid>.json`. */
export class ProcessRecords {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  remember(pid: number, argv: string[], stopSignal: NodeJS.Signals): void {
    const record: ProcessRecord = { pid, startTime: startTimeOf(pid) ?? '', argv, stopSignal };
    writeFileSync(join(this.dir, `${pid}.json`), `${JSON.stringify(record)}\n`);
  }

  forget(pid: number): void {
    rmSync(join(this.dir, `${pid}.json`), { force: true });
  }

  /** Stops processes a previous runtime left behind (each with its own stop signal first), forgets the rest. */
  async stopOrphans(log: (line: string) => void, graceMs = 30_000): Promise<void> {
    const orphans: ProcessRecord[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith('.json')) continue;
      const file = join(this.dir, name);
      try {
        const record = JSON.parse(readFileSync(file, 'utf8')) as ProcessRecord;
        if (isAlive(record.pid) && startTimeOf(record.pid) === record.startTime) orphans.push(record);
      } catch {
        // unreadable: nothing to stop
      }
      rmSync(file, { force: true });
    }
    for (const orphan of orphans) {
      log(`stopping orphan ${orphan.pid} (${orphan.argv.slice(0, 3).join(' ')} …) with ${orphan.stopSignal}`);
      try {
        process.kill(orphan.pid, orphan.stopSignal);
      } catch {
        // gone
      }
    }
    const deadline = Date.now() + graceMs;
    while (orphans.some((orphan) => isAlive(orphan.pid)) && Date.now() < deadline) await sleep(200);
    for (const orphan of orphans) {
      if (!isAlive(orphan.pid)) continue;
      try {
        process.kill(-orphan.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}
