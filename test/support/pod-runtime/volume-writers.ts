import { readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CsiLayout, writersFile } from '../csi-driver/layout.ts';

/**
 * The CSI driver's contract for consistent snapshots: `<volumes>/<volumeHandle>.writers` lists, one a line,
 * the PIDs of processes that have the volume mounted; the driver SIGSTOPs them and their descendants while it
 * copies. This registry keeps those files equal to the processes this runtime runs, rewriting a file
 * (atomically, by rename) whenever a process starts or exits.
 */
export class VolumeWriters {
  private readonly pids = new Map<string, Set<number>>();

  constructor(private readonly layout: CsiLayout) {}

  add(volumeHandle: string, pid: number): void {
    let set = this.pids.get(volumeHandle);
    if (set === undefined) this.pids.set(volumeHandle, (set = new Set()));
    set.add(pid);
    this.write(volumeHandle);
  }

  remove(volumeHandle: string, pid: number): void {
    const set = this.pids.get(volumeHandle);
    if (set === undefined || !set.delete(pid)) return;
    if (set.size === 0) this.pids.delete(volumeHandle);
    this.write(volumeHandle);
  }

  list(volumeHandle: string): number[] {
    return [...(this.pids.get(volumeHandle) ?? [])];
  }

  private write(volumeHandle: string): void {
    const file = writersFile(this.layout, volumeHandle);
    const pids = this.list(volumeHandle);
    try {
      if (pids.length === 0) {
        rmSync(file, { force: true });
        return;
      }
      const temporary = `${file}.${process.pid}.tmp`;
      writeFileSync(temporary, pids.map((pid) => `${pid}\n`).join(''));
      renameSync(temporary, file);
    } catch {
      // The volume was deleted under us (its directory is gone): nothing left to protect.
    }
  }

  /** At start-up: files left by a runtime that died list PIDs it no longer runs. */
  static clearAll(layout: CsiLayout): void {
    let names: string[] = [];
    try {
      names = readdirSync(layout.volumes);
    } catch {
      return;
    }
    for (const name of names) if (name.endsWith('.writers')) rmSync(join(layout.volumes, name), { force: true });
  }
}
