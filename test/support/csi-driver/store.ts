import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { withWritersPaused } from './consistent-cut.ts';
import {
  type CsiLayout,
  groupSnapshotRecordFile,
  snapshotDir,
  snapshotRecordFile,
  volumeDir,
  volumeRecordFile,
  writersFile,
} from './layout.ts';

const run = promisify(execFile);

/** A failure the driver answers with a gRPC status code, as the CSI spec prescribes for each case. */
export class CsiError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

export type VolumeSource = { snapshotId: string } | { volumeId: string };

/** `<volumes>/<volumeHandle>.json` */
export interface VolumeRecord {
  /** The name the CO asked for (`pvc-<uid>` from csi-provisioner); creating it again returns this volume. */
  name: string;
  volumeId: string;
  capacityBytes: number;
  parameters: Record<string, string>;
  source?: VolumeSource;
  createdAt: string;
}

/** `<snapshots>/<snapshotHandle>.json` */
export interface SnapshotRecord {
  /** The name the CO asked for (`snapshot-<uid>` from csi-snapshotter). */
  name: string;
  snapshotId: string;
  sourceVolumeId: string;
  /**
   * What the CO is told (`size_bytes`, a VolumeSnapshot's `restoreSize`): the minimum size of a volume restored
   * from it. Like block storage, that is the source volume's capacity (or the data, if a volume without quota
   * outgrew its capacity), so restoring into a smaller PVC fails as it would on a cloud.
   */
  sizeBytes: number;
  /** Bytes in the snapshot's regular files. */
  dataBytes: number;
  /** When the cut was taken (the copy started with all writers stopped). */
  creationTime: string;
  parameters: Record<string, string>;
  /** Processes stopped for the copy and for how long. */
  pausedPids: number[];
  pausedMs: number;
  /** Set when the snapshot was taken as a member of a group snapshot. */
  groupSnapshotId?: string;
}

/** `<group-snapshots>/<groupHandle>.json` */
export interface GroupSnapshotRecord {
  name: string;
  groupSnapshotId: string;
  /** Sorted. */
  sourceVolumeIds: string[];
  /** The member snapshots, in the order of `sourceVolumeIds`. */
  snapshotIds: string[];
  creationTime: string;
}

const DEFAULT_CAPACITY_BYTES = 1024 ** 3;

/**
 * Volumes and snapshots as directories. Every mutation runs alone (one queue): a snapshot pauses its
 * volume's writers, and two overlapping pauses of the same process would resume it mid-copy.
 */
export class CsiStore {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly scratch: string;

  constructor(readonly layout: CsiLayout) {
    this.scratch = join(layout.root, 'tmp');
    mkdirSync(layout.volumes, { recursive: true });
    mkdirSync(layout.snapshots, { recursive: true });
    rmSync(this.scratch, { recursive: true, force: true }); // copies a killed driver left half done
    mkdirSync(this.scratch, { recursive: true });
  }

  createVolume(request: {
    name: string;
    capacityBytes?: number;
    parameters: Record<string, string>;
    source?: VolumeSource;
  }): Promise<VolumeRecord> {
    return this.serially(async () => {
      const volumeId = handleFor(request.name);
      const capacityBytes = request.capacityBytes || DEFAULT_CAPACITY_BYTES;
      const existing = this.volume(volumeId);
      if (existing !== undefined) {
        if (existing.name !== request.name) {
          throw new CsiError(status.ALREADY_EXISTS, `volume handle ${volumeId} belongs to ${existing.name}`);
        }
        if (existing.capacityBytes !== capacityBytes || !sameSource(existing.source, request.source)) {
          throw new CsiError(status.ALREADY_EXISTS, `volume ${request.name} exists with another size or source`);
        }
        return existing;
      }
      const staging = this.stagingDir(volumeId);
      const source = request.source;
      if (source === undefined) {
        mkdirSync(staging);
      } else if ('snapshotId' in source) {
        if (this.snapshot(source.snapshotId) === undefined) {
          throw new CsiError(status.NOT_FOUND, `source snapshot ${source.snapshotId} does not exist`);
        }
        await copyTree(snapshotDir(this.layout, source.snapshotId), staging);
      } else {
        if (this.volume(source.volumeId) === undefined) {
          throw new CsiError(status.NOT_FOUND, `source volume ${source.volumeId} does not exist`);
        }
        await withWritersPaused(this.layout, source.volumeId, () =>
          copyTree(volumeDir(this.layout, source.volumeId), staging),
        );
      }
      const record: VolumeRecord = {
        name: request.name,
        volumeId,
        capacityBytes,
        parameters: request.parameters,
        ...(source === undefined ? {} : { source }),
        createdAt: new Date().toISOString(),
      };
      this.publish(staging, volumeDir(this.layout, volumeId), volumeRecordFile(this.layout, volumeId), record);
      return record;
    });
  }

  deleteVolume(volumeId: string): Promise<void> {
    return this.serially(async () => {
      assertHandle(volumeId);
      // The record goes first: a directory without a record is garbage that the next create replaces.
      rmSync(volumeRecordFile(this.layout, volumeId), { force: true });
      rmSync(volumeDir(this.layout, volumeId), { recursive: true, force: true });
      rmSync(writersFile(this.layout, volumeId), { force: true });
    });
  }

  expandVolume(volumeId: string, capacityBytes: number): Promise<VolumeRecord> {
    return this.serially(async () => {
      const record = this.volume(volumeId);
      if (record === undefined) throw new CsiError(status.NOT_FOUND, `volume ${volumeId} does not exist`);
      if (capacityBytes > record.capacityBytes) {
        record.capacityBytes = capacityBytes;
        writeJsonAtomically(volumeRecordFile(this.layout, volumeId), record);
      }
      return record;
    });
  }

  createSnapshot(request: { name: string; sourceVolumeId: string; parameters: Record<string, string> }): Promise<SnapshotRecord> {
    return this.serially(async () => {
      const snapshotId = handleFor(request.name);
      const existing = this.snapshot(snapshotId);
      if (existing !== undefined) {
        if (existing.name !== request.name || existing.sourceVolumeId !== request.sourceVolumeId) {
          throw new CsiError(status.ALREADY_EXISTS, `snapshot ${request.name} exists for another volume`);
        }
        return existing;
      }
      this.requireVolumes([request.sourceVolumeId]);
      const [record] = await this.cut([{ name: request.name, snapshotId, sourceVolumeId: request.sourceVolumeId }], request.parameters);
      return record!;
    });
  }

  /** One snapshot per volume, all from a single pause of all their writers: one cut across the volumes. */
  createGroupSnapshot(request: { name: string; sourceVolumeIds: string[]; parameters: Record<string, string> }): Promise<GroupSnapshotRecord> {
    return this.serially(async () => {
      const groupSnapshotId = handleFor(request.name);
      const sourceVolumeIds = [...new Set(request.sourceVolumeIds)].sort();
      if (sourceVolumeIds.length === 0) throw new CsiError(status.INVALID_ARGUMENT, 'source_volume_ids is required');
      const existing = this.groupSnapshot(groupSnapshotId);
      if (existing !== undefined) {
        if (existing.name !== request.name || JSON.stringify(existing.sourceVolumeIds) !== JSON.stringify(sourceVolumeIds)) {
          throw new CsiError(status.ALREADY_EXISTS, `group snapshot ${request.name} exists for other volumes`);
        }
        return existing;
      }
      this.requireVolumes(sourceVolumeIds);
      const members = sourceVolumeIds.map((sourceVolumeId) => {
        const name = `${groupSnapshotId}-${sourceVolumeId}`;
        return { name, snapshotId: handleFor(name), sourceVolumeId, groupSnapshotId };
      });
      const snapshots = await this.cut(members, request.parameters);
      const record: GroupSnapshotRecord = {
        name: request.name,
        groupSnapshotId,
        sourceVolumeIds,
        snapshotIds: snapshots.map((snapshot) => snapshot.snapshotId),
        creationTime: snapshots[0]!.creationTime,
      };
      mkdirSync(this.layout.groupSnapshots, { recursive: true });
      writeJsonAtomically(groupSnapshotRecordFile(this.layout, groupSnapshotId), record);
      return record;
    });
  }

  /** Deletes the group and its member snapshots (those the CO names, and those the group recorded). */
  deleteGroupSnapshot(groupSnapshotId: string, snapshotIds: string[]): Promise<void> {
    return this.serially(async () => {
      assertHandle(groupSnapshotId);
      const record = this.groupSnapshot(groupSnapshotId);
      for (const snapshotId of new Set([...snapshotIds, ...(record?.snapshotIds ?? [])])) {
        if (!isHandle(snapshotId)) continue;
        rmSync(snapshotRecordFile(this.layout, snapshotId), { force: true });
        rmSync(snapshotDir(this.layout, snapshotId), { recursive: true, force: true });
      }
      rmSync(groupSnapshotRecordFile(this.layout, groupSnapshotId), { force: true });
    });
  }

  groupSnapshot(groupSnapshotId: string): GroupSnapshotRecord | undefined {
    if (!isHandle(groupSnapshotId)) return undefined;
    return readJson<GroupSnapshotRecord>(groupSnapshotRecordFile(this.layout, groupSnapshotId));
  }

  private requireVolumes(volumeIds: string[]): void {
    for (const volumeId of volumeIds) {
      if (this.volume(volumeId) === undefined) throw new CsiError(status.NOT_FOUND, `source volume ${volumeId} does not exist`);
    }
  }

  /** Copies each volume into a new snapshot while all their writers are paused, then publishes them. */
  private async cut(
    members: { name: string; snapshotId: string; sourceVolumeId: string; groupSnapshotId?: string }[],
    parameters: Record<string, string>,
  ): Promise<SnapshotRecord[]> {
    const staged = members.map((member) => ({ ...member, staging: this.stagingDir(member.snapshotId) }));
    let creationTime = '';
    const { pause } = await withWritersPaused(
      this.layout,
      members.map((member) => member.sourceVolumeId),
      async () => {
        creationTime = new Date().toISOString();
        for (const member of staged) await copyTree(volumeDir(this.layout, member.sourceVolumeId), member.staging);
      },
    );
    return staged.map(({ staging, ...member }) => {
      const dataBytes = treeSize(staging);
      const record: SnapshotRecord = {
        ...member,
        sizeBytes: Math.max(dataBytes, this.volume(member.sourceVolumeId)?.capacityBytes ?? 0),
        dataBytes,
        creationTime,
        parameters,
        pausedPids: pause.pausedPids,
        pausedMs: pause.pausedMs,
      };
      this.publish(staging, snapshotDir(this.layout, member.snapshotId), snapshotRecordFile(this.layout, member.snapshotId), record);
      return record;
    });
  }

  deleteSnapshot(snapshotId: string): Promise<void> {
    return this.serially(async () => {
      assertHandle(snapshotId);
      rmSync(snapshotRecordFile(this.layout, snapshotId), { force: true });
      rmSync(snapshotDir(this.layout, snapshotId), { recursive: true, force: true });
    });
  }

  volume(volumeId: string): VolumeRecord | undefined {
    if (!isHandle(volumeId)) return undefined;
    return readJson<VolumeRecord>(volumeRecordFile(this.layout, volumeId));
  }

  snapshot(snapshotId: string): SnapshotRecord | undefined {
    if (!isHandle(snapshotId)) return undefined;
    return readJson<SnapshotRecord>(snapshotRecordFile(this.layout, snapshotId));
  }

  /** Every snapshot, oldest first (a stable order, so that list pagination tokens stay valid). */
  snapshots(): SnapshotRecord[] {
    return readdirSync(this.layout.snapshots)
      .filter((entry) => entry.endsWith('.json'))
      .map((entry) => this.snapshot(entry.slice(0, -'.json'.length)))
      .filter((record): record is SnapshotRecord => record !== undefined)
      .sort((a, b) => a.creationTime.localeCompare(b.creationTime) || a.snapshotId.localeCompare(b.snapshotId));
  }

  private stagingDir(handle: string): string {
    return join(this.scratch, `${handle}-${randomBytes(4).toString('hex')}`);
  }

  /** Moves a finished copy into place, replacing leftovers of a create that never wrote its record. */
  private publish(staging: string, target: string, recordFile: string, record: object): void {
    rmSync(target, { recursive: true, force: true });
    renameSync(staging, target);
    writeJsonAtomically(recordFile, record);
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/**
 * The handle (volume or snapshot ID) for a CO-chosen name. The sidecars' names (`pvc-<uid>`,
 * `snapshot-<uid>`) are used as they are, so a PV's volumeHandle matches its name; anything else is hashed
 * into a safe directory name.
 */
export function handleFor(name: string): string {
  if (name === '') throw new CsiError(status.INVALID_ARGUMENT, 'name is required');
  return isHandle(name) ? name : `h-${createHash('sha256').update(name).digest('hex').slice(0, 40)}`;
}

function isHandle(id: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(id);
}

function assertHandle(id: string): void {
  if (id === '') throw new CsiError(status.INVALID_ARGUMENT, 'an ID is required');
}

function sameSource(a: VolumeSource | undefined, b: VolumeSource | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * `cp -a`: keeps owners, modes, timestamps, symlinks, sparse files and special files. Owners matter: a
 * PostgreSQL data directory restored from a snapshot must still belong to `postgres`, mode 0700.
 */
async function copyTree(from: string, to: string): Promise<void> {
  mkdirSync(to);
  await run('cp', ['-a', '--reflink=auto', '--', `${from}/.`, to]);
}

function treeSize(dir: string): number {
  let bytes = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) bytes += statSync(join(entry.parentPath, entry.name)).size;
  }
  return bytes;
}

function readJson<T>(file: string): T | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function writeJsonAtomically(file: string, value: object): void {
  const temporary = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(temporary, file);
}
