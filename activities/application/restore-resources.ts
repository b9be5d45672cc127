/**
 * restoreResources: one stage of an application restore (src/application/resources/plan.ts) from the bundle
 * in kopia: each object cleaned (clean.ts), transformed (transform.ts) and applied in order, under the
 * existing-object policy. Every object Cairn creates is annotated with the restoring workflow's id, so a
 * retried attempt recognises its own objects (even under policy `fail`) and carries on.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { waitForDefaultServiceAccount } from '../../src/kube/apply.ts';
import { isNotFound, type KubeClients } from '../../src/kube/clients.ts';
import { apiErrorMessage, statusCodeOf, UnknownResourceError, type ApiResource } from '../../src/kube/dynamic.ts';
import { isJsonObject, type JsonObject } from '../../src/json.ts';
import { BUNDLE_FILE, bundleSecretValues, scrubSecretValues, parseBundle, type ResourceBundle } from '../../src/application/resources/bundle.ts';
import { cleanObject, identityOf } from '../../src/application/resources/clean.ts';
import { describeItem } from '../../src/application/resources/kinds.ts';
import { planStage, unmatchedItems } from '../../src/application/resources/plan.ts';
import { mapNamespace, transformObject, TransformError } from '../../src/application/resources/transform.ts';
import type { ResourceItem, RestoreResourcesInput, RestoreResourcesResult } from '../../src/application/types.ts';
import type { Repository } from '../kopia/repository.ts';
import { findSnapshot, openSnapshotFileReader } from '../kopia/snapshots.ts';
import { openApplicationRepository, type ApplicationActivityDeps } from './application-repository.ts';

/** On every object a restore creates: which restore made it (a retry then knows its own objects). */
export const RESTORED_BY = 'cairn.io/restored-by';
const CRD_ESTABLISHED_TIMEOUT_MS = 60_000;

export async function readBundle(repository: Repository, snapshotID: string): Promise<ResourceBundle> {
  const snapshot = await findSnapshot(repository, snapshotID);
  if (!snapshot) throw ApplicationFailure.nonRetryable(`${repository.label}: application ${repository.application} has no snapshot ${snapshotID}`, 'CairnError');
  const reader = openSnapshotFileReader(repository, snapshot, BUNDLE_FILE);
  const chunks: Buffer[] = [];
  reader.process.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
  const { code, stderr } = await reader.done;
  if (code !== 0) throw new Error(`${repository.label}: kopia could not read ${BUNDLE_FILE} of snapshot ${snapshotID} (exit ${code}): ${stderr}`);
  return parseBundle(Buffer.concat(chunks).toString('utf8'), `snapshot ${snapshotID}`);
}

export function createRestoreResources(deps: ApplicationActivityDeps) {
  return async function restoreResources(input: RestoreResourcesInput): Promise<RestoreResourcesResult> {
    const activity = Context.current();
    const repository = await openApplicationRepository(deps, input.profile, input.application);
    const bundle = await readBundle(repository, input.snapshotID);
    const secrets = bundleSecretValues(bundle);
    const scrub = (text: string) => scrubSecretValues(text, secrets);
    const unmatched = unmatchedItems(bundle.objects, input.only);
    if (unmatched.length) {
      throw ApplicationFailure.nonRetryable(`snapshot ${input.snapshotID} holds no ${unmatched.map(describeItem).join(', ')}`, 'CairnError');
    }
    const restorer = new StageRestorer(deps.kube(), input, bundle, (details) => activity.heartbeat(details));
    try {
      await restorer.run(activity.cancellationSignal);
    } catch (error) {
      const message = scrub(error instanceof Error ? error.message : String(error));
      if (error instanceof ApplicationFailure) throw ApplicationFailure.create({ message, type: error.type ?? 'CairnError', nonRetryable: error.nonRetryable === true });
      if (error instanceof TransformError || error instanceof UnknownResourceError) throw ApplicationFailure.nonRetryable(message, 'CairnError');
      throw new Error(message);
    }
    return restorer.result;
  };
}

type Outcome = 'created' | 'updated' | 'skipped';

/** Refusals a retry cannot change (invalid, immutable field, forbidden) end the restore; the rest may be retried. */
function apiFailure(what: string, error: unknown): Error {
  const status = statusCodeOf(error);
  const message = `${what}: ${apiErrorMessage(error)}`;
  return status !== undefined && [400, 403, 404, 405, 422].includes(status) ? ApplicationFailure.nonRetryable(message, 'CairnError') : new Error(message);
}

class StageRestorer {
  readonly result: RestoreResourcesResult = { created: [], updated: [], skipped: [] };
  private readonly ensured = new Set<string>();
  private readonly restoredItems: ResourceItem[];

  constructor(
    private readonly kube: KubeClients,
    private readonly input: RestoreResourcesInput,
    private readonly bundle: ResourceBundle,
    private readonly heartbeat: (details: unknown) => void,
  ) {
    const all = bundle.objects.map((o) => identityOf(o) as ResourceItem);
    this.restoredItems = input.only ? all.filter((item) => input.only!.some((w) => w.kind === item.kind && w.name === item.name)) : all;
  }

  async run(signal: AbortSignal): Promise<void> {
    const planned = planStage(this.bundle.objects, this.input);
    for (const [index, { item, object }] of planned.entries()) {
      if (signal.aborted) throw ApplicationFailure.create({ message: 'restore cancelled', type: 'CancelledFailure' });
      this.heartbeat({ stage: this.input.stage, done: index, total: planned.length, item: describeItem(item) });
      const cleaned = cleanObject(object, {
        ownerRestored: (owner) => this.restoredItems.some((r) => r.kind === owner.kind && r.name === owner.name),
        dropNodePorts: this.input.transforms.services?.dropNodePorts ?? true,
      });
      const ready = transformObject(cleaned, this.input.transforms);
      const target = identityOf(ready) as ResourceItem;
      const outcome = await this.restoreOne(ready, target);
      this.result[outcome].push(target);
    }
    this.heartbeat({ stage: this.input.stage, done: planned.length, total: planned.length });
  }

  private async restoreOne(object: JsonObject, target: ResourceItem): Promise<Outcome> {
    const resource = await this.kube.dynamic.resourceForKind(target.apiVersion, target.kind);
    if (target.kind === 'Namespace') return this.restoreNamespace(resource, object, target);
    if (target.namespace) await this.ensureNamespace(target.namespace);
    const metadata = object.metadata as JsonObject;
    metadata.annotations = { ...(isJsonObject(metadata.annotations) ? metadata.annotations : {}), [RESTORED_BY]: this.input.workflowId };
    if (target.kind === 'StorageClass') {
      // A destination that has the (mapped) class keeps its own: its parameters fit its storage.
      return (await this.exists(resource, target)) ? 'skipped' : this.create(resource, object, target);
    }
    await this.repointOwners(metadata, target.namespace);
    const outcome = await this.applyWithPolicy(resource, object, target, !resource.namespaced);
    if (target.kind === 'CustomResourceDefinition') await this.waitEstablished(resource, target.name);
    return outcome;
  }

  private async applyWithPolicy(resource: ApiResource, object: JsonObject, target: ResourceItem, clusterShared: boolean): Promise<Outcome> {
    try {
      await this.kube.dynamic.createObject(resource, object, target.namespace, 'cairn-restore');
      return 'created';
    } catch (error) {
      if (statusCodeOf(error) !== 409) throw apiFailure(`cannot create ${describeItem(target)}`, error);
    }
    const live = await this.kube.dynamic.get(resource, target.name, target.namespace);
    const liveAnnotations = isJsonObject(live.metadata) && isJsonObject(live.metadata.annotations) ? live.metadata.annotations : {};
    if (liveAnnotations[RESTORED_BY] === this.input.workflowId) return 'created'; // ours, from an earlier attempt
    const policy = this.input.existing;
    if (policy === 'update') {
      try {
        await this.kube.dynamic.patchObject(resource, target.name, target.namespace, object, 'apply', 'cairn-restore');
      } catch (error) {
        throw apiFailure(`cannot update ${describeItem(target)}`, error);
      }
      return 'updated';
    }
    // Cluster-wide objects (CRDs, ClusterRoles) are shared: another application's copy is not a conflict.
    if (policy === 'skip' || clusterShared) return 'skipped';
    throw ApplicationFailure.nonRetryable(`${describeItem(target)} already exists in the destination (existing-resources policy: fail)`, 'ExistingResource');
  }

  private async create(resource: ApiResource, object: JsonObject, target: ResourceItem): Promise<Outcome> {
    try {
      await this.kube.dynamic.createObject(resource, object, target.namespace, 'cairn-restore');
      return 'created';
    } catch (error) {
      if (statusCodeOf(error) === 409) return 'skipped';
      throw apiFailure(`cannot create ${describeItem(target)}`, error);
    }
  }

  private async exists(resource: ApiResource, target: ResourceItem): Promise<boolean> {
    try {
      await this.kube.dynamic.get(resource, target.name, target.namespace);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /** The destination namespace is never refused: it exists (skip, or its labels updated) or is created. */
  private async restoreNamespace(resource: ApiResource, object: JsonObject, target: ResourceItem): Promise<Outcome> {
    if (await this.exists(resource, target)) {
      this.ensured.add(target.name);
      if (this.input.existing !== 'update') return 'skipped';
      const metadata = object.metadata as JsonObject;
      const patch = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: target.name, ...(metadata.labels ? { labels: metadata.labels } : {}), ...(metadata.annotations ? { annotations: metadata.annotations } : {}) } };
      await this.kube.dynamic.patchObject(resource, target.name, undefined, patch, 'apply', 'cairn-restore');
      return 'updated';
    }
    const outcome = await this.create(resource, object, target);
    await waitForDefaultServiceAccount(this.kube, target.name);
    this.ensured.add(target.name);
    return outcome;
  }

  /** Namespaced objects restored without the Namespace object (single items, later stages) still need one. */
  private async ensureNamespace(name: string): Promise<void> {
    if (this.ensured.has(name)) return;
    const resource = await this.kube.dynamic.resourceForKind('v1', 'Namespace');
    if (!(await this.exists(resource, { apiVersion: 'v1', kind: 'Namespace', name }))) {
      const captured = this.bundle.objects.find((o) => o.kind === 'Namespace' && mapNamespace(String(identityOf(o).name), this.input.transforms) === name);
      const object = captured
        ? transformObject(cleanObject(captured), this.input.transforms)
        : { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
      (object.metadata as JsonObject).annotations = { ...(isJsonObject((object.metadata as JsonObject).annotations) ? ((object.metadata as JsonObject).annotations as JsonObject) : {}), [RESTORED_BY]: this.input.workflowId };
      if ((await this.create(resource, object, { apiVersion: 'v1', kind: 'Namespace', name })) === 'created') {
        this.result.created.push({ apiVersion: 'v1', kind: 'Namespace', name });
      }
      await waitForDefaultServiceAccount(this.kube, name);
    }
    this.ensured.add(name);
  }

  /** Kept owner references point at the restored owner's new uid; an owner not there (yet) drops the reference. */
  private async repointOwners(metadata: JsonObject, namespace: string | undefined): Promise<void> {
    if (!Array.isArray(metadata.ownerReferences)) return;
    const kept: JsonObject[] = [];
    for (const ref of metadata.ownerReferences) {
      if (!isJsonObject(ref)) continue;
      try {
        const resource = await this.kube.dynamic.resourceForKind(String(ref.apiVersion), String(ref.kind));
        const owner = await this.kube.dynamic.get(resource, String(ref.name), resource.namespaced ? namespace : undefined);
        if (isJsonObject(owner.metadata) && typeof owner.metadata.uid === 'string') kept.push({ ...ref, uid: owner.metadata.uid });
      } catch (error) {
        if (!isNotFound(error) && !(error instanceof UnknownResourceError)) throw error;
      }
    }
    if (kept.length) metadata.ownerReferences = kept;
    else delete metadata.ownerReferences;
  }

  private async waitEstablished(resource: ApiResource, name: string): Promise<void> {
    const deadline = Date.now() + CRD_ESTABLISHED_TIMEOUT_MS;
    for (;;) {
      const crd = await this.kube.dynamic.get(resource, name);
      const conditions = isJsonObject(crd.status) && Array.isArray(crd.status.conditions) ? crd.status.conditions : [];
      if (conditions.some((c) => isJsonObject(c) && c.type === 'Established' && c.status === 'True')) return;
      if (Date.now() > deadline) throw new Error(`CustomResourceDefinition ${name} is not Established after ${CRD_ESTABLISHED_TIMEOUT_MS / 1000} s`);
      this.heartbeat({ stage: this.input.stage, waiting: `CustomResourceDefinition ${name} Established` });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
