/**
 * What retention, deletion and verification share: opening an application's location and repository by
 * profile name, which snapshots a restore point owns, which snapshots any manifest still names, and which
 * snapshots are Cairn's. Used by the activities and by the CLI (which runs without Temporal).
 */
import { Context } from '@temporalio/activity';
import type { KubeClients } from '../../src/kube/clients.ts';
import { keyFileKey } from '../../src/location/layout.ts';
import type { RestorePoint } from '../../src/location/restore-point.ts';
import { openRepository, type Repository } from '../kopia/repository.ts';
import { CAIRN_PIN, type SnapshotEntry } from '../kopia/snapshots.ts';
import { openLocation, type OpenedLocation } from '../location/location.ts';
import { profileSources, resolveProfile, type ProfileSources } from '../location/profiles.ts';

export interface RetentionDeps {
  kube: () => KubeClients;
  profiles?: (kube: () => KubeClients) => ProfileSources;
}

export async function locationFor(deps: RetentionDeps, profile: string | undefined): Promise<OpenedLocation> {
  const resolved = await resolveProfile(profile, (deps.profiles ?? profileSources)(deps.kube));
  return openLocation(resolved, { kube: deps.kube });
}

/** The application's repository, or undefined when it has none yet (opening would create one). */
export async function existingRepository(location: OpenedLocation, application: string): Promise<Repository | undefined> {
  if (!(await location.store.read(keyFileKey(application)))) return undefined;
  return openRepository(location, application);
}

/** Every kopia snapshot a restore point owns: its `snapshots` list (which covers an application's components and resources bundle), plus the resources bundle should a writer have left it out. */
export function ownedSnapshots(point: RestorePoint): string[] {
  const ids = new Set(point.snapshots.map((snapshot) => snapshot.id));
  if (point.resources?.snapshotID) ids.add(point.resources.snapshotID);
  return [...ids];
}

/**
 * Every string anywhere in the manifests: a snapshot is "still named" if its ID appears in any of them, in
 * `snapshots` or only in an artifact a function wrote in a shape Cairn did not recognise. Broad on purpose:
 * keeping a snapshot too long costs bytes, deleting one a restore point needs costs the backup.
 */
export function namedStrings(points: readonly RestorePoint[]): Set<string> {
  const found = new Set<string>();
  const walk = (value: unknown): void => {
    if (typeof value === 'string') found.add(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  points.forEach(walk);
  return found;
}

/** Why a snapshot counts as written by Cairn (its pin, or a `cairn-*` tag); undefined for anyone else's. */
export function cairnMark(snapshot: SnapshotEntry): string | undefined {
  if (snapshot.pins.includes(CAIRN_PIN)) return `pin ${CAIRN_PIN}`;
  const tag = Object.keys(snapshot.tags).find((key) => key.startsWith('cairn-'));
  return tag ? `tag ${tag}` : undefined;
}

/** Heartbeats when running as an activity; a no-op in the CLI. */
export function beat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // not inside an activity
  }
}

/**
 * Heartbeats every few seconds while `work` runs: a step may spend minutes inside one kopia call (listing a
 * large repository, verifying a big snapshot), and the heartbeat timeout is there to notice a dead worker,
 * not a slow kopia. The timer runs in the activity's async context, so its heartbeats reach the activity.
 */
export async function keepAlive<T>(step: string, work: () => Promise<T>, intervalMs = 10_000): Promise<T> {
  const started = Date.now();
  const timer = setInterval(() => beat({ step, seconds: Math.round((Date.now() - started) / 1000) }), intervalMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** The activity's cancellation signal, when there is one. */
export function cancellation(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}
