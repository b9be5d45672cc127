/**
 * Snapshot operations the data functions need beyond `repository.ts`: a snapshot written from a stream,
 * one file of a snapshot read back as a stream, listings with each snapshot's source, deletion, maintenance.
 * All of them run kopia against the repository's own session (kopia.ts), whatever its storage.
 *
 * Every snapshot Cairn names as an artifact is **pinned** (`--pin cairn`): kopia's default retention policy
 * (keep the latest 10, then hourly/daily/...) otherwise expires older snapshots of the same source on the next
 * `snapshot create`, which would silently delete a backup a restore point still refers to. Cairn deletes
 * snapshots only when told to (DeleteData, LocationDelete).
 *
 * The pin is also the mark of a **complete** snapshot: it is added only after kopia has committed a stream
 * that Cairn ended on purpose. A worker killed mid-stream closes kopia's stdin, and kopia then commits what it
 * had read as if it were the whole stream; such a snapshot carries the run's tags but no pin, so a retried
 * phase that looks for its earlier attempt's snapshot (`completeSnapshots`) streams again instead of
 * returning a truncated backup, and kopia's retention may expire the leftover.
 */
import type { ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import type { Repository } from './repository.ts';
import { kopiaOrThrow, runKopia, spawnKopia } from './kopia.ts';

export const CAIRN_PIN = 'cairn';

/** Where a snapshot came from, as kopia records it: `userName@host:path`. */
export interface SnapshotSource {
  userName: string;
  host: string;
  path: string;
}

export interface SnapshotEntry {
  id: string;
  source: SnapshotSource;
  description: string;
  startTime: string;
  /** Object ID of the snapshot's root directory. */
  rootObject: string;
  /** Logical bytes of the files in the snapshot. */
  size: number;
  /** Tags without kopia's `tag:` key prefix. */
  tags: Record<string, string>;
  pins: string[];
}

interface KopiaManifest {
  id: string;
  source: SnapshotSource;
  description?: string;
  startTime: string;
  rootEntry: { obj: string; summ?: { size?: number } };
  tags?: Record<string, string>;
  pins?: string[];
}

/**
 * The source Cairn records for an artifact written under a path (BackupStream's `path`, Kanister's
 * `backupArtifactPrefix` / `dataArtifactPrefix`): `cairn@<namespace>:/<path>`, so that a listing by source
 * shows artifacts the way a Kanister user thinks of object-store prefixes.
 */
export function artifactSource(namespace: string, artifactPath: string): string {
  return `cairn@${namespace}:${artifactPathOf(artifactPath)}`;
}

/** `a/b/`, `/a//b` and `a/b` all name `/a/b`; the empty path is `/`. */
export function artifactPathOf(path: string): string {
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  return `/${parts.join('/')}`;
}

/** Whether `source` is the artifact path `path` or lies under it. */
export function isUnderArtifactPath(sourcePath: string, path: string): boolean {
  const base = artifactPathOf(path);
  const candidate = artifactPathOf(sourcePath);
  return base === '/' || candidate === base || candidate.startsWith(`${base}/`);
}

/** Snapshots of the repository, oldest first; `tags` narrows to those carrying every given tag. */
export async function listSnapshotEntries(repository: Repository, tags: Record<string, string> = {}): Promise<SnapshotEntry[]> {
  const args = ['snapshot', 'list', '--all', '--json'];
  for (const [key, value] of Object.entries(tags)) args.push('--tags', `${key}:${value}`);
  const manifests = JSON.parse((await kopiaOrThrow(repository.session, args, 'snapshot list')) || '[]') as KopiaManifest[];
  return manifests.map((m) => ({
    id: m.id,
    source: m.source,
    description: m.description ?? '',
    startTime: m.startTime,
    rootObject: m.rootEntry.obj,
    size: m.rootEntry.summ?.size ?? 0,
    tags: Object.fromEntries(Object.entries(m.tags ?? {}).map(([key, value]) => [key.replace(/^tag:/, ''), value])),
    pins: m.pins ?? [],
  }));
}

/** The snapshots with these tags that a phase finished writing (see the pin above), oldest first. */
export async function completeSnapshots(repository: Repository, tags: Record<string, string>): Promise<SnapshotEntry[]> {
  return (await listSnapshotEntries(repository, tags)).filter((entry) => entry.pins.includes(CAIRN_PIN));
}

export async function findSnapshot(repository: Repository, id: string): Promise<SnapshotEntry | undefined> {
  return (await listSnapshotEntries(repository)).find((snapshot) => snapshot.id === id);
}

/** Deletes one snapshot's manifest; `false` when it was already gone. Its contents go at the next full maintenance. */
export async function deleteSnapshot(repository: Repository, id: string): Promise<boolean> {
  const result = await runKopia(repository.session, ['snapshot', 'delete', '--delete', id]);
  if (result.code === 0) return true;
  if (/no snapshots matched/i.test(result.stderr)) return false;
  throw new Error(`kopia snapshot delete ${id} failed (exit ${result.code}): ${tailLines(result.stderr)}`);
}

/** Full maintenance: rewrites and drops contents no snapshot refers to any more, within kopia's safety margins. */
export async function runFullMaintenance(repository: Repository): Promise<void> {
  const run = () => runKopia(repository.session, ['maintenance', 'run', '--full']);
  let result = await run();
  if (result.code !== 0 && /maintenance must be run by designated user/i.test(result.stderr)) {
    // Maintenance has one owner (user@host of whoever ran it first); a worker on another machine takes over.
    await kopiaOrThrow(repository.session, ['maintenance', 'set', '--owner=me'], 'maintenance set --owner');
    result = await run();
  }
  if (result.code !== 0) throw new Error(`kopia maintenance run --full failed (exit ${result.code}): ${tailLines(result.stderr)}`);
}

export interface StreamSnapshotOptions {
  /** Name of the one file the snapshot holds. */
  file: string;
  /** `user@host:/path`, see `artifactSource`. */
  source: string;
  tags: Record<string, string>;
  description?: string;
}

/**
 * A snapshot being written from a stream. kopia writes the manifest only after it has read its input to the
 * end, so `abort()` before `commit()` leaves no snapshot behind: a failed source never becomes a backup.
 */
export interface SnapshotWriter {
  input: Writable;
  /** Resolves with kopia's exit code and stderr tail when it exits, expectedly or not. */
  exited: Promise<{ code: number; stderr: string }>;
  /** Ends the input and waits for kopia; returns the new snapshot's ID. */
  commit(): Promise<string>;
  abort(): Promise<void>;
}

export function openSnapshotWriter(repository: Repository, options: StreamSnapshotOptions): SnapshotWriter {
  const args = ['snapshot', 'create', '--json', '--stdin-file', options.file, '--override-source', options.source];
  for (const [key, value] of Object.entries(options.tags)) args.push('--tags', `${key}:${value}`);
  if (options.description) args.push('--description', options.description);
  args.push('-');
  const kopia = spawnKopia(repository.session, args, ['pipe', 'pipe', 'pipe']);
  let stdout = '';
  let stderr = '';
  kopia.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  kopia.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-8192)));
  // An input error (EPIPE when kopia dies early) surfaces through kopia's exit code instead.
  kopia.stdin!.on('error', () => {});
  const exited = exitOf(kopia);
  return {
    input: kopia.stdin!,
    exited: exited.then((code) => ({ code, stderr: tailLines(stderr) })),
    async commit() {
      kopia.stdin!.end();
      const code = await exited;
      if (code !== 0) throw new Error(`kopia snapshot create failed (exit ${code}): ${tailLines(stderr)}`);
      const created = JSON.parse(stdout) as KopiaManifest;
      // Pinning rewrites the manifest under a new ID: the pinned one (same root and start) is the snapshot.
      await kopiaOrThrow(repository.session, ['snapshot', 'pin', created.id, '--add', CAIRN_PIN], 'snapshot pin');
      const pinned = (await listSnapshotEntries(repository, options.tags)).find(
        (entry) => entry.pins.includes(CAIRN_PIN) && entry.rootObject === created.rootEntry.obj && entry.startTime === created.startTime,
      );
      if (!pinned) throw new Error(`kopia snapshot ${created.id} was written but its pinned manifest cannot be found`);
      return pinned.id;
    },
    async abort() {
      kopia.kill('SIGKILL');
      await exited;
    },
  };
}

/** One file of a snapshot as a stream (kopia's stdout); `done` resolves with kopia's exit code and stderr tail. */
export function openSnapshotFileReader(repository: Repository, snapshot: SnapshotEntry, file: string): { process: ChildProcess; done: Promise<{ code: number; stderr: string }> } {
  const kopia = spawnKopia(repository.session, ['show', `${snapshot.rootObject}/${file}`]);
  let stderr = '';
  kopia.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-8192)));
  return { process: kopia, done: exitOf(kopia).then((code) => ({ code, stderr: tailLines(stderr) })) };
}

function exitOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('error', () => resolve(127));
    child.once('close', (code) => resolve(code ?? 1));
  });
}

function tailLines(text: string, lines = 5): string {
  return text.trim().split('\n').slice(-lines).join(' | ');
}
