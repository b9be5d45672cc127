/**
 * Makes a captured object fit to be created again: what the API server, controllers and kubectl wrote into it
 * (identity, status, bindings to the old cluster's volumes and IPs) comes out, so the destination assigns its
 * own. Pure: works on a copy of plain JSON. Each rule is listed in docs/application-resources.md.
 */
import { isJsonObject, type JsonObject } from '../../json.ts';

/** Written by the API server: a new object gets its own. */
const SERVER_METADATA = ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds'];

/** Annotations that describe the old object's life, not the object. */
const NOISE_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration', 'deployment.kubernetes.io/revision'];

/** PVC annotations binding a claim to the old cluster's volume, node and provisioner. */
const PVC_BIND_ANNOTATIONS = [/^pv\.kubernetes\.io\//, /^volume\.kubernetes\.io\/selected-node$/, /^volume\.(beta\.)?kubernetes\.io\/storage-provisioner$/];

/** Labels controllers stamp on pod templates and Job selectors; a new object gets fresh ones. */
const CONTROLLER_LABELS = ['pod-template-hash', 'controller-revision-hash', 'controller-uid', 'batch.kubernetes.io/controller-uid', 'job-name', 'batch.kubernetes.io/job-name'];

export interface CleanOptions {
  /** Whether an ownerReference's owner is being restored too (the reference is kept and re-pointed then). */
  ownerRestored?: (owner: { apiVersion: string; kind: string; name: string }) => boolean;
  /** Drop Service nodePorts so the destination assigns its own (TransformSpec.services.dropNodePorts, default true). */
  dropNodePorts?: boolean;
}

function objectAt(parent: JsonObject, key: string): JsonObject | undefined {
  const value = parent[key];
  return isJsonObject(value) ? value : undefined;
}

function deleteKeys(target: JsonObject | undefined, keys: Iterable<string>): void {
  if (!target) return;
  for (const key of keys) delete target[key];
}

function dropEmpty(parent: JsonObject, key: string): void {
  const value = parent[key];
  if (isJsonObject(value) && !Object.keys(value).length) delete parent[key];
  if (Array.isArray(value) && !value.length) delete parent[key];
}

function cleanMetadata(metadata: JsonObject | undefined, options: CleanOptions): void {
  if (!metadata) return;
  deleteKeys(metadata, SERVER_METADATA);
  const annotations = objectAt(metadata, 'annotations');
  deleteKeys(annotations, NOISE_ANNOTATIONS);
  if (Array.isArray(metadata.ownerReferences)) {
    const keep = options.ownerRestored ?? (() => false);
    metadata.ownerReferences = metadata.ownerReferences.filter(
      (ref) => isJsonObject(ref) && keep({ apiVersion: String(ref.apiVersion), kind: String(ref.kind), name: String(ref.name) }),
    );
  }
  dropEmpty(metadata, 'ownerReferences');
  dropEmpty(metadata, 'annotations');
}

function cleanPodTemplate(spec: JsonObject | undefined): void {
  const metadata = spec && objectAt(objectAt(spec, 'template') ?? {}, 'metadata');
  if (!metadata) return;
  delete metadata.creationTimestamp;
  const labels = objectAt(metadata, 'labels');
  const selector = objectAt(objectAt(spec, 'selector') ?? {}, 'matchLabels') ?? {};
  // A label the selector needs stays: it is the user's, even if a controller's name.
  if (labels) for (const label of CONTROLLER_LABELS) if (!(label in selector)) delete labels[label];
}

function cleanService(spec: JsonObject | undefined, dropNodePorts: boolean): void {
  if (!spec) return;
  // A headless Service is defined by `clusterIP: None`: dropping it would make it a normal Service.
  const headless = spec.clusterIP === 'None';
  delete spec.clusterIP;
  delete spec.clusterIPs;
  if (headless) {
    spec.clusterIP = 'None';
    spec.clusterIPs = ['None'];
  }
  if (dropNodePorts) {
    delete spec.healthCheckNodePort;
    if (Array.isArray(spec.ports)) for (const port of spec.ports) if (isJsonObject(port)) delete port.nodePort;
  }
}

function cleanClaimSpec(metadata: JsonObject | undefined, spec: JsonObject | undefined): void {
  if (spec) {
    delete spec.volumeName;
    // A claim restored from the source's snapshot would wait for a snapshot the destination does not have;
    // Cairn brings the data back itself.
    delete spec.dataSource;
    delete spec.dataSourceRef;
  }
  const annotations = metadata && objectAt(metadata, 'annotations');
  if (annotations) {
    for (const key of Object.keys(annotations)) if (PVC_BIND_ANNOTATIONS.some((pattern) => pattern.test(key))) delete annotations[key];
    dropEmpty(metadata, 'annotations');
  }
}

function cleanJob(spec: JsonObject | undefined): void {
  if (!spec) return;
  // The API server generates the selector (from the Job's new uid) unless the user chose manualSelector.
  if (spec.manualSelector !== true) delete spec.selector;
  const labels = objectAt(objectAt(objectAt(spec, 'template') ?? {}, 'metadata') ?? {}, 'labels');
  if (labels && spec.manualSelector !== true) for (const label of CONTROLLER_LABELS) delete labels[label];
}

/** A cleaned copy of `object`. */
export function cleanObject(object: JsonObject, options: CleanOptions = {}): JsonObject {
  const copy = structuredClone(object) as JsonObject;
  delete copy.status;
  const metadata = objectAt(copy, 'metadata');
  cleanMetadata(metadata, options);
  const spec = objectAt(copy, 'spec');
  switch (copy.kind) {
    case 'Service':
      cleanService(spec, options.dropNodePorts ?? true);
      break;
    case 'PersistentVolumeClaim':
      cleanClaimSpec(metadata, spec);
      break;
    case 'StatefulSet': {
      cleanPodTemplate(spec);
      const templates = spec?.volumeClaimTemplates;
      if (Array.isArray(templates)) {
        for (const template of templates) {
          if (!isJsonObject(template)) continue;
          delete template.status;
          const templateMetadata = objectAt(template, 'metadata');
          if (templateMetadata) deleteKeys(templateMetadata, SERVER_METADATA);
          cleanClaimSpec(templateMetadata, objectAt(template, 'spec'));
        }
      }
      break;
    }
    case 'Deployment':
    case 'DaemonSet':
    case 'ReplicationController':
      cleanPodTemplate(spec);
      break;
    case 'Job':
      cleanJob(spec);
      break;
    case 'Namespace':
      // `kubernetes` is the finalizer the namespace controller adds; a new namespace gets its own.
      if (spec) delete spec.finalizers;
      break;
    default:
      break;
  }
  if (spec) dropEmpty(copy, 'spec');
  return copy;
}

/** Values of a Secret or ConfigMap are never looked at here; this names what an object is, for messages. */
export function identityOf(object: JsonObject): { apiVersion: string; kind: string; name: string; namespace?: string } {
  const metadata = objectAt(object, 'metadata') ?? {};
  const identity: { apiVersion: string; kind: string; name: string; namespace?: string } = {
    apiVersion: String(object.apiVersion ?? ''),
    kind: String(object.kind ?? ''),
    name: String(metadata.name ?? ''),
  };
  if (typeof metadata.namespace === 'string' && metadata.namespace) identity.namespace = metadata.namespace;
  return identity;
}

