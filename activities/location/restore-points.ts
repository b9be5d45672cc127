/**
 * Restore points in a location: `writeRestorePoint`, the activity that ends a successful backup, and the
 * listing the CLI uses. A manifest is written last and whole (LocationStore.write: rename on a filesystem, a
 * single PUT on S3), so a run that dies leaves none and a listing never shows half of one.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApplicationFailure } from '@temporalio/activity';
import type { KubeClients } from '../../src/kube/clients.ts';
import { kopiaDir, restorePointKey, restorePointsDir, RESTORE_POINTS_DIR } from '../../src/location/layout.ts';
import {
  outputSizes,
  parseRestorePoint,
  RESTORE_POINT_FORMAT,
  RESTORE_POINT_ID,
  restorePointId,
  snapshotReferences,
  type RestorePoint,
} from '../../src/location/restore-point.ts';
import type { RestorePointRef, WriteRestorePointInput } from '../../src/run/types.ts';
import { parseTarget } from '../../src/target.ts';
import { listSnapshots, openRepository } from '../kopia/repository.ts';
import { openLocation, type OpenedLocation } from './location.ts';
import { profileSources, resolveProfile, type ProfileSources } from './profiles.ts';

const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
export const CAIRN_VERSION = (JSON.parse(readFileSync(resolve(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

export interface RestorePointDeps {
  kube: () => KubeClients;
  profiles?: (kube: () => KubeClients) => ProfileSources;
}

export function createWriteRestorePoint(deps: RestorePointDeps) {
  return async function writeRestorePointActivity(input: WriteRestorePointInput): Promise<RestorePointRef> {
    const target = parseTarget(input.target);
    if (!target.ok) throw ApplicationFailure.nonRetryable(target.message, 'CairnError');
    const profile = await resolveProfile(input.profile, (deps.profiles ?? profileSources)(deps.kube)).catch((error: Error) => {
      throw ApplicationFailure.nonRetryable(error.message, 'CairnError');
    });
    const location = await openLocation(profile, { kube: deps.kube });
    const point = await buildRestorePoint(location, input, input.application ?? target.target.namespace);
    return writeRestorePoint(location, point);
  };
}

/** The manifest of a finished run; kopia is asked for the size and source of each snapshot the outputs name. */
export async function buildRestorePoint(location: OpenedLocation, input: WriteRestorePointInput, application: string): Promise<RestorePoint> {
  const references = snapshotReferences(input.phaseOutputs, input.outputArtifacts);
  let known = new Map<string, { source: string; size: number }>();
  if (references.length) {
    const repository = await openRepository(location, application);
    known = new Map((await listSnapshots(repository)).map((s) => [s.id, { source: s.source, size: s.size }]));
  }
  return {
    apiVersion: 'cairn.io/v1alpha1',
    kind: 'RestorePoint',
    formatVersion: RESTORE_POINT_FORMAT,
    id: restorePointId(input.runTime, input.workflowId, input.runId),
    application,
    profile: location.profile.name,
    target: input.target,
    action: input.action,
    blueprint: input.blueprint,
    planHash: input.planHash,
    run: { workflowId: input.workflowId, runId: input.runId },
    startTime: input.runTime,
    endTime: new Date().toISOString(),
    repository: kopiaDir(application),
    artifacts: input.outputArtifacts,
    snapshots: references.map((reference) => {
      const snapshot = known.get(reference.id);
      return snapshot ? { ...reference, source: snapshot.source, logicalBytes: snapshot.size } : reference;
    }),
    size: outputSizes(input.phaseOutputs),
    cairnVersion: CAIRN_VERSION,
  };
}

export async function writeRestorePoint(location: OpenedLocation, point: RestorePoint): Promise<RestorePointRef> {
  const key = restorePointKey(point.application, point.id);
  // Checked against its own schema before it is stored: a reader must never meet a manifest it cannot parse.
  parseRestorePoint(JSON.stringify(point), key);
  await location.store.write(key, Buffer.from(`${JSON.stringify(point, null, 2)}\n`));
  return { id: point.id, application: point.application, profile: point.profile, key };
}

export interface RestorePointListing {
  points: RestorePoint[];
  /** Files under restore-points/ that are not valid manifests (named, not fatal). */
  problems: string[];
}

/** Restore points of one application or of all, oldest first. */
export async function listRestorePoints(location: OpenedLocation, options: { application?: string } = {}): Promise<RestorePointListing> {
  const files = await location.store.list(options.application === undefined ? `${RESTORE_POINTS_DIR}/` : restorePointsDir(options.application));
  const listing: RestorePointListing = { points: [], problems: [] };
  for (const file of files) {
    const match = /^restore-points\/([^/]+)\/([^/]+)\.json$/.exec(file.key);
    if (!match || !RESTORE_POINT_ID.test(match[2]!)) continue;
    const bytes = await location.store.read(file.key);
    if (!bytes) continue; // deleted since the listing
    try {
      const point = parseRestorePoint(bytes.toString('utf8'), file.key);
      if (point.application !== match[1] || point.id !== match[2]) throw new Error(`${file.key}: names application ${point.application}, id ${point.id}`);
      listing.points.push(point);
    } catch (error) {
      listing.problems.push((error as Error).message);
    }
  }
  listing.points.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.application.localeCompare(b.application)));
  return listing;
}

export async function readRestorePoint(location: OpenedLocation, application: string, id: string): Promise<RestorePoint | undefined> {
  const key = restorePointKey(application, id);
  const bytes = await location.store.read(key);
  return bytes ? parseRestorePoint(bytes.toString('utf8'), key) : undefined;
}
