import { mkdirSync, openSync, closeSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { StackPaths } from './paths.ts';
import { isAlive, sleep } from './process.ts';

/**
 * Runs `body` while holding `.cairn/stack.lock`, so that several `stack:up`s (for instance one per integration
 * test file, which node:test runs as separate processes) install and start the stack once, one after another.
 * A lock whose holder has died is taken over.
 */
export async function withStackLock<T>(paths: StackPaths, body: () => Promise<T>, timeoutMs = 45 * 60_000): Promise<T> {
  mkdirSync(paths.state, { recursive: true });
  const file = join(paths.state, 'stack.lock');
  const deadline = Date.now() + timeoutMs;
  let waited = false;
  for (;;) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = lockHolder(file);
      if (holder !== undefined && !isAlive(holder)) {
        rmSync(file, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${file} (held by PID ${holder ?? '?'})`);
      if (!waited) {
        process.stderr.write(`waiting for another stack:up (PID ${holder ?? '?'}, ${file})…\n`);
        waited = true;
      }
      await sleep(250);
    }
  }
  try {
    return await body();
  } finally {
    rmSync(file, { force: true });
  }
}

function lockHolder(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    // The holder created the file but has not written its PID yet; treat as alive.
    return undefined;
  }
}
