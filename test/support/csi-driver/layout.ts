import { join } from 'node:path';

/**
 * Where the test-side CSI driver keeps its data: the contract with everything that looks at a volume from
 * outside the driver (the pod runtime mounts volume directories and reports writers, tests read and write
 * files in them). See docs/dev-stack-csi.md.
 *
 *   <root>/csi.sock                         the driver's gRPC endpoint
 *   <root>/volumes/<volumeHandle>/          a volume's files (a PV's spec.csi.volumeHandle)
 *   <root>/volumes/<volumeHandle>.json      the driver's record of that volume (VolumeRecord)
 *   <root>/volumes/<volumeHandle>.writers   PIDs of processes writing to it, one per line (written by others)
 *   <root>/snapshots/<snapshotHandle>/      a snapshot's files: a copy of its volume taken while writers paused
 *   <root>/snapshots/<snapshotHandle>.json  the driver's record of that snapshot (SnapshotRecord)
 *   <root>/group-snapshots/<groupHandle>.json  a group snapshot: its member snapshots (GroupSnapshotRecord)
 *   <root>/paused.pids                      PIDs the driver has paused right now, so a restart can resume them
 *
 * In the local stack `<root>` is `.cairn/csi`.
 */
export interface CsiLayout {
  root: string;
  socket: string;
  volumes: string;
  snapshots: string;
  groupSnapshots: string;
  pausedPids: string;
}

export function csiLayout(root: string): CsiLayout {
  return {
    root,
    socket: join(root, 'csi.sock'),
    volumes: join(root, 'volumes'),
    snapshots: join(root, 'snapshots'),
    groupSnapshots: join(root, 'group-snapshots'),
    pausedPids: join(root, 'paused.pids'),
  };
}

export function volumeDir(layout: CsiLayout, volumeHandle: string): string {
  return join(layout.volumes, volumeHandle);
}

export function volumeRecordFile(layout: CsiLayout, volumeHandle: string): string {
  return join(layout.volumes, `${volumeHandle}.json`);
}

/** The file another process (the pod runtime) keeps up to date with the PIDs that write into a volume. */
export function writersFile(layout: CsiLayout, volumeHandle: string): string {
  return join(layout.volumes, `${volumeHandle}.writers`);
}

export function snapshotDir(layout: CsiLayout, snapshotHandle: string): string {
  return join(layout.snapshots, snapshotHandle);
}

export function snapshotRecordFile(layout: CsiLayout, snapshotHandle: string): string {
  return join(layout.snapshots, `${snapshotHandle}.json`);
}

export function groupSnapshotRecordFile(layout: CsiLayout, groupHandle: string): string {
  return join(layout.groupSnapshots, `${groupHandle}.json`);
}

/** The name of this driver: StorageClasses, VolumeSnapshotClasses and PVs refer to it. */
export const CSI_DRIVER_NAME = 'csi.cairn.dev';
