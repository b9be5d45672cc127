import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { StackPaths } from './paths.ts';

export interface DaemonSpec {
  /** Unique within the stack; names the PID file and the log file. */
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

function pidFile(paths: StackPaths, name: string): string {
  return join(paths.pids, `${name}.pid`);
}

export function logFile(paths: StackPaths, name: string): string {
  return join(paths.logs, `${name}.log`);
}

export function readPid(paths: StackPaths, name: string): number | undefined {
  const file = pidFile(paths, name);
  if (!existsSync(file)) return undefined;
  const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The PID of a daemon this stack started and that still runs, if any. */
export function runningPid(paths: StackPaths, name: string): number | undefined {
  const pid = readPid(paths, name);
  return pid !== undefined && isAlive(pid) ? pid : undefined;
}

/**
 * Starts a process that outlives this one (its own process group, output appended to its log file) and
 * records its PID, so that `stack:down` can stop exactly what was started and nothing else.
 */
export function spawnDaemon(paths: StackPaths, spec: DaemonSpec): number {
  const existing = runningPid(paths, spec.name);
  if (existing !== undefined) return existing;
  mkdirSync(paths.pids, { recursive: true });
  mkdirSync(paths.logs, { recursive: true });
  const out = openSync(logFile(paths, spec.name), 'a');
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd ?? paths.state,
    env: spec.env ?? process.env,
    detached: true,
    stdio: ['ignore', out, out],
  });
  if (child.pid === undefined) throw new Error(`could not start ${spec.name} (${spec.command})`);
  child.unref();
  writeFileSync(pidFile(paths, spec.name), `${child.pid}\n`);
  return child.pid;
}

/** Stops a daemon recorded in the PID files: SIGTERM to its process group, SIGKILL after the grace period. */
export async function stopDaemon(paths: StackPaths, name: string, graceMs = 10_000): Promise<boolean> {
  const pid = runningPid(paths, name);
  rmSync(pidFile(paths, name), { force: true });
  if (pid === undefined) return false;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) signalGroup(pid, 'SIGKILL');
  return true;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}

/** Polls `probe` until it returns true; the error names what was awaited and where to look. */
export async function waitUntil(what: string, probe: () => Promise<boolean> | boolean, timeoutMs: number, hint = ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await probe()) return;
    } catch {
      // not ready yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${hint ? ` (${hint})` : ''}`);
    await sleep(200);
  }
}

export function tcpOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolveOpen) => {
    const socket = connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolveOpen(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The error for a port that something this stack did not start already holds (another clone's stack, say). */
export function portTakenError(what: string, host: string, port: number): Error {
  return new Error(`${host}:${port} is already in use by a process this stack did not start, so ${what} cannot listen there; stop it (another clone's stack? \`npm run stack:down\` there) and retry`);
}
