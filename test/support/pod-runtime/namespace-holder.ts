import { readFileSync } from 'node:fs';
import { sleep } from '../../../scripts/stack/process.ts';
import { ChildProcess, type ProcessRecords } from './child-process.ts';
import type { CriLogFile } from './cri-log.ts';
import { type MountView, mountScript } from './mount-view.ts';

/**
 * A process that builds a container's mount view in a fresh mount namespace (`unshare --mount`, as root;
 * the user-namespace variant is not needed and would stop postgres' chown from meaning anything) and then
 * holds it open as `sleep infinity`. Containers and exec'd commands join it with `nsenter --mount`.
 */
export async function startNamespaceHolder(view: MountView, log: CriLogFile, records: ProcessRecords): Promise<ChildProcess> {
  const holder = new ChildProcess(
    {
      argv: ['unshare', '--mount', '--propagation', 'private', 'bash', '-c', mountScript(view)],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      log,
      stopSignal: 'SIGKILL',
    },
    records,
  );
  const deadline = Date.now() + 15_000;
  while (holder.running && Date.now() < deadline) {
    if (commandOf(holder.pid) === 'sleep') return holder;
    await sleep(20);
  }
  holder.signal('SIGKILL');
  const exit = await holder.exited;
  throw new Error(`could not build the mount view (exit ${exit.code}); see ${log.path}`);
}

function commandOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}
