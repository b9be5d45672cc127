/**
 * The restore point of a whole Application: one manifest written last by backupApplication (after every
 * component and the resources are safely in kopia), naming the spec, each component's artifacts, every kopia
 * snapshot and the blueprint sources used, so a restore needs nothing but the location and the KEK.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { SHIPPED_BLUEPRINTS_DIR } from '../../src/application/blueprint-catalog.ts';
import { RESERVED_BLUEPRINT_PREFIX, type ReadApplicationRestorePointInput, type ResolveBlueprintsInput, type WriteApplicationRestorePointInput } from '../../src/application/types.ts';
import { canonicalJson } from '../../src/json.ts';
import type { KubeClients } from '../../src/kube/clients.ts';
import { kopiaDir } from '../../src/location/layout.ts';
import { RESTORE_POINT_FORMAT, restorePointId, snapshotReferences, outputSizes, type RestorePoint, type RestorePointSnapshot } from '../../src/location/restore-point.ts';
import type { ArtifactValue, RestorePointRef } from '../../src/run/types.ts';
import { findBlueprint } from '../compile-action.ts';
import { listSnapshots, openRepository } from '../kopia/repository.ts';
import { openLocation, type OpenedLocation } from '../location/location.ts';
import { profileSources, resolveProfile, type ProfileSources } from '../location/profiles.ts';
import { CAIRN_VERSION, listRestorePoints, readRestorePoint, writeRestorePoint } from '../location/restore-points.ts';

/** Restore points of an Application say so; their blueprint field is this word. */
export const APPLICATION_BLUEPRINT = 'application';

export interface ApplicationRestorePointDeps {
  kube: () => KubeClients;
  blueprintDirs: string[];
  profiles?: (kube: () => KubeClients) => ProfileSources;
}

async function open(deps: ApplicationRestorePointDeps, name: string | undefined): Promise<OpenedLocation> {
  const profile = await resolveProfile(name, (deps.profiles ?? profileSources)(deps.kube)).catch((error: Error) => {
    throw ApplicationFailure.nonRetryable(error.message, 'CairnError');
  });
  return openLocation(profile, { kube: deps.kube });
}

export function createResolveBlueprints(deps: ApplicationRestorePointDeps) {
  return async function resolveBlueprints(input: ResolveBlueprintsInput): Promise<Record<string, string>> {
    const sources: Record<string, string> = {};
    for (const name of [...new Set(input.names)].sort()) {
      // Cairn's own blueprints come from Cairn, whatever directories the worker was given: a user's file of the
      // same name must never change what a consistency group does.
      const from = name.startsWith(RESERVED_BLUEPRINT_PREFIX) ? { blueprintDirs: [SHIPPED_BLUEPRINTS_DIR] } : deps;
      sources[name] = (await findBlueprint(name, from)).text;
    }
    return sources;
  };
}

export function createWriteApplicationRestorePoint(deps: ApplicationRestorePointDeps) {
  return async function writeApplicationRestorePoint(input: WriteApplicationRestorePointInput): Promise<RestorePointRef> {
    const location = await open(deps, input.profile ?? input.spec.spec.profile);
    return writeRestorePoint(location, await buildApplicationRestorePoint(location, input));
  };
}

export async function buildApplicationRestorePoint(location: OpenedLocation, input: WriteApplicationRestorePointInput): Promise<RestorePoint> {
  const application = input.spec.metadata.name;
  const references: { id: string; from: string }[] = [{ id: input.resources.snapshotID, from: 'resources' }];
  const artifacts: Record<string, ArtifactValue> = {};
  const size = { logicalBytes: 0, storedBytes: 0 };
  for (const component of input.components) {
    for (const reference of snapshotReferences(component.phaseOutputs, component.artifacts)) {
      if (!references.some((known) => known.id === reference.id)) references.push({ id: reference.id, from: `components.${component.name}.${reference.from}` });
    }
    for (const [name, artifact] of Object.entries(component.artifacts)) artifacts[`${component.name}.${name}`] = artifact;
    const sizes = outputSizes(component.phaseOutputs);
    size.logicalBytes += sizes.logicalBytes;
    size.storedBytes += sizes.storedBytes;
  }
  const repository = await openRepository(location, application);
  const known = new Map((await listSnapshots(repository)).map((s) => [s.id, s]));
  const missing = references.filter((reference) => !known.has(reference.id));
  // A manifest must never name data that is not there: that would be a restore point nothing can restore.
  if (missing.length) throw ApplicationFailure.nonRetryable(`${application}: snapshots not in the repository: ${missing.map((m) => `${m.id} (${m.from})`).join(', ')}`, 'CairnError');
  const snapshots: RestorePointSnapshot[] = references.map((reference) => {
    const snapshot = known.get(reference.id)!;
    return { ...reference, source: snapshot.source, logicalBytes: snapshot.size };
  });
  return {
    apiVersion: 'cairn.io/v1alpha1',
    kind: 'RestorePoint',
    formatVersion: RESTORE_POINT_FORMAT,
    id: restorePointId(input.runTime, input.workflowId, input.runId),
    application,
    profile: location.profile.name,
    target: `namespace/${input.spec.spec.namespace}`,
    action: 'backup',
    blueprint: APPLICATION_BLUEPRINT,
    planHash: createHash('sha256').update(canonicalJson(input.spec)).digest('hex'),
    run: { workflowId: input.workflowId, runId: input.runId },
    startTime: input.runTime,
    endTime: new Date().toISOString(),
    repository: kopiaDir(application),
    artifacts,
    snapshots,
    size,
    cairnVersion: CAIRN_VERSION,
    scope: 'application',
    spec: input.spec,
    components: input.components.map(({ phaseOutputs: _outputs, ...component }) => component),
    resources: { snapshotID: input.resources.snapshotID, items: input.resources.items, kinds: input.resources.kinds },
    blueprints: input.blueprints,
  };
}

export function createReadApplicationRestorePoint(deps: ApplicationRestorePointDeps) {
  return async function readApplicationRestorePoint(input: ReadApplicationRestorePointInput): Promise<RestorePoint> {
    const location = await open(deps, input.profile);
    const fail = (message: string) => ApplicationFailure.nonRetryable(message, 'CairnError');
    if (input.id) {
      const point = await readRestorePoint(location, input.application, input.id).catch((error: Error) => {
        throw fail(error.message);
      });
      if (!point) throw fail(`no restore point ${input.id} of application ${input.application} in location ${location.profile.name}`);
      if (point.scope !== 'application') throw fail(`restore point ${input.id} of ${input.application} is one run's (${point.blueprint} ${point.target}), not an application's: restore it with \`cairn run\``);
      return point;
    }
    const { points } = await listRestorePoints(location, { application: input.application });
    const latest = points.filter((point) => point.scope === 'application').at(-1);
    if (!latest) throw fail(`no application restore point of ${input.application} in location ${location.profile.name}`);
    return latest;
  };
}
