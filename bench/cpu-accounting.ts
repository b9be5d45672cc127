/**
 * CPU seconds spent by the processes a benchmark path crosses, from /proc (Linux): a process's own time,
 * and its reaped children's (`cutime`/`cstime`: kopia for the worker, the exec'd command for kwok). Used to
 * show where the time of a path goes, beside its wall-clock time.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const TICKS = 100;

export interface CpuTimes {
  self: number;
  children: number;
}

export function cpuTimes(pid: number | 'self'): CpuTimes {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(fields[i]));
    return { self: (utime! + stime!) / TICKS, children: (cutime! + cstime!) / TICKS };
  } catch {
    return { self: 0, children: 0 };
  }
}

/** PIDs of the local stack's kube-apiserver and kwok-controller. */
export function stackPids(kwokWorkdir: string): Record<string, number> {
  const pids: Record<string, number> = {};
  for (const name of ['kube-apiserver', 'kwok-controller']) {
    try {
      pids[name] = Number(readFileSync(join(kwokWorkdir, 'pids', `${name}.pid`), 'utf8').trim());
    } catch {
      // not a local kwok stack: those rows stay out
    }
  }
  return pids;
}

/** Measures CPU seconds per component around `work`. */
export async function withCpuAccounting<T>(pids: Record<string, number>, work: () => Promise<T>): Promise<{ result: T; cpu: Record<string, number> }> {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuTimes(pid)]));
  const selfBefore = cpuTimes('self');
  const result = await work();
  const selfAfter = cpuTimes('self');
  const cpu: Record<string, number> = { 'this process': selfAfter.self - selfBefore.self, 'its children (kopia, generator)': selfAfter.children - selfBefore.children };
  for (const [name, pid] of Object.entries(pids)) {
    const after = cpuTimes(pid);
    cpu[name] = after.self - before[name]!.self;
    cpu[`${name} children (exec'd command)`] = after.children - before[name]!.children;
  }
  return { result, cpu };
}

export function formatCpu(cpu: Record<string, number>): string {
  return Object.entries(cpu)
    .filter(([, seconds]) => seconds > 0.005)
    .map(([name, seconds]) => `${name} ${seconds.toFixed(2)} s`)
    .join(', ');
}
