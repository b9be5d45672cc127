/**
 * captureResources: an application namespace's Kubernetes objects (and the cluster-scoped objects they use)
 * into ONE pinned kopia snapshot of the application's repository, written through kopia's stdin and never
 * staged on disk. Only the index (identities, counts) is returned: Secrets travel inside kopia alone.
 *
 * Idempotent: the snapshot is tagged with a hash of the workflow id; a retried attempt that finds its pinned
 * snapshot returns that snapshot's index instead of capturing again (an unpinned one is a cut-off stream).
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { isNotFound } from '../../src/kube/clients.ts';
import { apiErrorMessage, statusCodeOf, type ApiResource } from '../../src/kube/dynamic.ts';
import { isJsonObject, type JsonObject } from '../../src/json.ts';
import { indexOf, makeBundle, BUNDLE_FILE, type ResourceBundle } from '../../src/application/resources/bundle.ts';
import { EPHEMERAL_OWNER_KINDS, isAutoCreated, isCustomResource, isSystemClusterRole } from '../../src/application/resources/kinds.ts';
import { kindWanted, resourcesToCapture, unknownKindPatterns } from '../../src/application/resources/select.ts';
import type { CapturedResources, CaptureResourcesInput } from '../../src/application/types.ts';
import type { Repository } from '../kopia/repository.ts';
import { artifactSource, completeSnapshots, openSnapshotWriter } from '../kopia/snapshots.ts';
import { openApplicationRepository, type ApplicationActivityDeps } from './application-repository.ts';
import { readBundle } from './restore-resources.ts';

/** The kopia tag that finds a capture's snapshot again on retry. */
export function captureTag(workflowId: string): Record<string, string> {
  return { 'cairn-resources': createHash('sha256').update(workflowId).digest('hex').slice(0, 20) };
}

export function createCaptureResources(deps: ApplicationActivityDeps) {
  return async function captureResources(input: CaptureResourcesInput): Promise<CapturedResources> {
    const activity = Context.current();
    const repository = await openApplicationRepository(deps, input.profile, input.application);
    const tags = captureTag(input.workflowId);
    const previous = (await completeSnapshots(repository, tags))[0];
    if (previous) {
      activity.log.info('resources of an earlier attempt found; not capturing again', { snapshotID: previous.id });
      return indexOf(await readBundle(repository, previous.id), previous.id);
    }
    const objects = await collectObjects(deps, input, (details) => activity.heartbeat(details), activity.cancellationSignal);
    const bundle = makeBundle(input.application, input.namespace, input.runTime, objects);
    activity.heartbeat({ step: 'writing', objects: objects.length });
    const snapshotID = await writeBundle(repository, bundle, { ...tags, 'cairn-application': input.application }, activity.cancellationSignal);
    return indexOf(bundle, snapshotID);
  };
}

async function writeBundle(repository: Repository, bundle: ResourceBundle, tags: Record<string, string>, signal: AbortSignal): Promise<string> {
  const writer = openSnapshotWriter(repository, {
    file: BUNDLE_FILE,
    source: artifactSource(bundle.namespace, 'application-resources'),
    tags,
    description: `Kubernetes resources of application ${bundle.application}`,
  });
  const abort = () => void writer.abort();
  signal.addEventListener('abort', abort, { once: true });
  try {
    writer.input.write(JSON.stringify(bundle));
    return await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  } finally {
    signal.removeEventListener('abort', abort);
  }
}

function metadataOf(object: JsonObject): JsonObject {
  return isJsonObject(object.metadata) ? object.metadata : {};
}

function permanent(message: string): never {
  throw ApplicationFailure.nonRetryable(message, 'CairnError');
}

/** Every object the capture keeps, namespaced ones first, then the cluster-scoped ones they use. */
async function collectObjects(
  deps: ApplicationActivityDeps,
  input: CaptureResourcesInput,
  heartbeat: (details: unknown) => void,
  signal: AbortSignal,
): Promise<JsonObject[]> {
  const { dynamic } = deps.kube();
  const { namespace, selection } = input;
  const { resources: served } = await dynamic.serverResources();
  const unknown = unknownKindPatterns(served, selection);
  if (unknown.length) permanent(`resource selection names kinds the API server does not serve: ${unknown.join(', ')}`);
  const namespaceResource = served.find((r) => r.apiVersion === 'v1' && r.kind === 'Namespace')!;
  let namespaceObject: JsonObject;
  try {
    namespaceObject = await dynamic.get(namespaceResource, namespace);
  } catch (error) {
    if (isNotFound(error)) permanent(`namespace ${namespace} does not exist`);
    throw error;
  }

  const listed: JsonObject[] = [];
  const toList = resourcesToCapture(served, selection);
  for (const [index, resource] of toList.entries()) {
    if (signal.aborted) throw new Error('capture cancelled');
    heartbeat({ step: 'listing', kind: resource.kind, done: index, total: toList.length });
    let items: JsonObject[];
    try {
      items = await dynamic.listObjects(resource, namespace, selection.labelSelector ?? '');
    } catch (error) {
      if (statusCodeOf(error) === 400) permanent(`label selector "${selection.labelSelector ?? ''}" is refused: ${apiErrorMessage(error)}`);
      if (statusCodeOf(error) === 404 || statusCodeOf(error) === 405) continue; // gone since discovery, or not listable here
      throw error;
    }
    for (const item of items) {
      // List responses carry no kind/apiVersion per item.
      const object: JsonObject = { apiVersion: resource.apiVersion, kind: resource.kind, ...item };
      delete metadataOf(object).managedFields;
      if (!isAutoCreated(resource.kind, String(metadataOf(object).name), object)) listed.push(object);
    }
  }
  const capturedUids = new Set(listed.map((o) => String(metadataOf(o).uid)));
  const kept = listed.filter((object) => {
    const owners = metadataOf(object).ownerReferences;
    if (!Array.isArray(owners)) return true;
    // Made by a controller from something captured (or from a pod): that controller makes it again.
    return !owners.some((ref) => isJsonObject(ref) && (capturedUids.has(String(ref.uid)) || EPHEMERAL_OWNER_KINDS.has(String(ref.kind))));
  });

  if (selection.clusterScoped === false) return kept;
  const cluster: JsonObject[] = [];
  if (kindWanted('Namespace', '', 'namespaces', selection)) {
    cluster.push({ apiVersion: 'v1', kind: 'Namespace', ...namespaceObject });
    delete metadataOf(cluster[0]!).managedFields;
  }
  heartbeat({ step: 'cluster-scoped dependencies' });
  cluster.push(...(await dependencies(deps, served, kept, selection)));
  return [...kept, ...cluster];
}

/** StorageClasses the claims use, CRDs of the custom resources, ClusterRoles the RoleBindings bind. */
async function dependencies(deps: ApplicationActivityDeps, served: ApiResource[], objects: JsonObject[], selection: CaptureResourcesInput['selection']): Promise<JsonObject[]> {
  const { dynamic } = deps.kube();
  const find = (apiVersion: string, kind: string) => served.find((r) => r.apiVersion === apiVersion && r.kind === kind);
  const classes = new Set<string>();
  const crds = new Set<string>();
  const clusterRoles = new Set<string>();
  for (const object of objects) {
    const spec = isJsonObject(object.spec) ? object.spec : {};
    if (object.kind === 'PersistentVolumeClaim' && typeof spec.storageClassName === 'string' && spec.storageClassName) classes.add(spec.storageClassName);
    if (object.kind === 'StatefulSet' && Array.isArray(spec.volumeClaimTemplates)) {
      for (const template of spec.volumeClaimTemplates) {
        const claim = isJsonObject(template) && isJsonObject(template.spec) ? template.spec : {};
        if (typeof claim.storageClassName === 'string' && claim.storageClassName) classes.add(claim.storageClassName);
      }
    }
    if (object.kind === 'RoleBinding' && isJsonObject(object.roleRef) && object.roleRef.kind === 'ClusterRole') clusterRoles.add(String(object.roleRef.name));
    const apiVersion = String(object.apiVersion);
    if (isCustomResource({ apiVersion })) {
      const resource = served.find((r) => r.apiVersion === apiVersion && r.kind === object.kind);
      if (resource) crds.add(`${resource.resource}.${resource.group}`);
    }
  }
  const wanted: Array<{ resource: ApiResource | undefined; names: Set<string>; keep?: (o: JsonObject) => boolean }> = [];
  if (kindWanted('StorageClass', 'storage.k8s.io', 'storageclasses', selection)) wanted.push({ resource: find('storage.k8s.io/v1', 'StorageClass'), names: classes });
  if (kindWanted('CustomResourceDefinition', 'apiextensions.k8s.io', 'customresourcedefinitions', selection)) {
    wanted.push({ resource: find('apiextensions.k8s.io/v1', 'CustomResourceDefinition'), names: crds });
  }
  if (kindWanted('ClusterRole', 'rbac.authorization.k8s.io', 'clusterroles', selection)) {
    wanted.push({
      resource: find('rbac.authorization.k8s.io/v1', 'ClusterRole'),
      names: clusterRoles,
      keep: (o) => !isSystemClusterRole(String(metadataOf(o).name), metadataOf(o).labels as Record<string, string> | undefined),
    });
  }
  const found: JsonObject[] = [];
  for (const { resource, names, keep } of wanted) {
    if (!resource) continue;
    for (const name of [...names].sort()) {
      if (resource.kind === 'ClusterRole' && isSystemClusterRole(name, undefined)) continue;
      try {
        const object: JsonObject = { apiVersion: resource.apiVersion, kind: resource.kind, ...(await dynamic.get(resource, name)) };
        delete metadataOf(object).managedFields;
        if (!keep || keep(object)) found.push(object);
      } catch (error) {
        // A claim may name a class that does not exist (yet); a restore maps or creates it.
        if (!isNotFound(error)) throw error;
      }
    }
  }
  return found;
}
