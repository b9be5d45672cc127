/**
 * The transforms of a restore (TransformSpec), applied to a cleaned object: namespace and storage-class
 * mapping, label and annotation edits, Ingress host rewrite, Service type and annotation cleanup, then the
 * JSON-patch rules in order. Pure: a copy of plain JSON in, a copy out. docs/application-resources.md shows
 * each with an example.
 */
import { isJsonObject, type JsonObject, type JsonValue } from '../../json.ts';
import type { TransformSpec } from '../types.ts';
import { applyJsonPatch, JsonPatchError, JsonPatchTestFailed } from './json-patch.ts';

/** Kinds shared by the whole cluster: label/annotation edits of one application leave them alone. */
const SHARED_CLUSTER_KINDS = new Set(['CustomResourceDefinition', 'StorageClass', 'ClusterRole', 'PriorityClass']);

/** `*` matches any run of characters (dots and slashes included); everything else is literal. */
export function globMatch(pattern: string, value: string): boolean {
  const expression = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${expression}$`).test(value);
}

export function mapNamespace(namespace: string, transforms: TransformSpec): string {
  return transforms.namespaces?.[namespace] ?? namespace;
}

export function mapStorageClass(name: string, transforms: TransformSpec): string {
  return transforms.storageClasses?.[name] ?? name;
}

/**
 * An Ingress host under the rewrite map: an exact entry first, then `*.suffix` patterns (longest suffix
 * first). `*.shop.example → *.dr.example` turns `api.shop.example` into `api.dr.example` and the wildcard
 * host `*.shop.example` into `*.dr.example`; a replacement without `*` replaces the whole host.
 */
export function rewriteHost(host: string, map: Record<string, string> | undefined): string {
  if (!map) return host;
  if (map[host] !== undefined) return map[host];
  const patterns = Object.keys(map)
    .filter((key) => key.startsWith('*.'))
    .sort((a, b) => b.length - a.length);
  for (const pattern of patterns) {
    const suffix = pattern.slice(1); // `.shop.example`
    if (!host.endsWith(suffix) || host.length === suffix.length) continue;
    const prefix = host.slice(0, -suffix.length);
    const replacement = map[pattern]!;
    return replacement.startsWith('*.') ? `${prefix}${replacement.slice(1)}` : replacement;
  }
  return host;
}

function objectAt(parent: JsonObject | undefined, key: string): JsonObject | undefined {
  const value = parent?.[key];
  return isJsonObject(value) ? value : undefined;
}

function editMap(metadata: JsonObject, key: 'labels' | 'annotations', edit: { set?: Record<string, string>; remove?: string[] } | undefined): void {
  if (!edit) return;
  const current = { ...(objectAt(metadata, key) ?? {}) };
  for (const pattern of edit.remove ?? []) for (const name of Object.keys(current)) if (globMatch(pattern, name)) delete current[name];
  Object.assign(current, edit.set ?? {});
  if (Object.keys(current).length) metadata[key] = current;
  else delete metadata[key];
}

function mapClaimClass(spec: JsonObject | undefined, transforms: TransformSpec): void {
  if (spec && typeof spec.storageClassName === 'string') spec.storageClassName = mapStorageClass(spec.storageClassName, transforms);
}

function mapClaimAnnotation(metadata: JsonObject | undefined, transforms: TransformSpec): void {
  const annotations = objectAt(metadata, 'annotations');
  const legacy = annotations?.['volume.beta.kubernetes.io/storage-class'];
  if (annotations && typeof legacy === 'string') annotations['volume.beta.kubernetes.io/storage-class'] = mapStorageClass(legacy, transforms);
}

const LOAD_BALANCER_FIELDS = ['loadBalancerIP', 'loadBalancerSourceRanges', 'loadBalancerClass', 'allocateLoadBalancerNodePorts', 'healthCheckNodePort'];

function transformService(metadata: JsonObject, spec: JsonObject | undefined, transforms: TransformSpec): void {
  const services = transforms.services;
  if (!services) return;
  if (services.removeAnnotations?.length) editMap(metadata, 'annotations', { remove: services.removeAnnotations });
  if (!spec) return;
  const from = typeof spec.type === 'string' ? spec.type : 'ClusterIP';
  const to = services.type?.[from];
  if (!to || to === from) return;
  spec.type = to;
  if (to !== 'LoadBalancer') for (const field of LOAD_BALANCER_FIELDS) delete spec[field];
  if (to === 'ClusterIP') {
    delete spec.externalTrafficPolicy;
    if (Array.isArray(spec.ports)) for (const port of spec.ports) if (isJsonObject(port)) delete port.nodePort;
  }
}

function transformIngress(spec: JsonObject | undefined, transforms: TransformSpec): void {
  if (!spec || !transforms.ingressHosts) return;
  if (Array.isArray(spec.rules)) for (const rule of spec.rules) if (isJsonObject(rule) && typeof rule.host === 'string') rule.host = rewriteHost(rule.host, transforms.ingressHosts);
  if (Array.isArray(spec.tls)) {
    for (const tls of spec.tls) {
      if (isJsonObject(tls) && Array.isArray(tls.hosts)) tls.hosts = tls.hosts.map((h) => (typeof h === 'string' ? rewriteHost(h, transforms.ingressHosts) : h));
    }
  }
}

export class TransformError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransformError';
  }
}

/** A transformed copy of a cleaned object. Errors name the object and the rule. */
export function transformObject(object: JsonObject, transforms: TransformSpec): JsonObject {
  let copy = structuredClone(object) as JsonObject;
  const metadata = objectAt(copy, 'metadata') ?? {};
  copy.metadata = metadata;
  const spec = objectAt(copy, 'spec');
  const kind = String(copy.kind);

  if (typeof metadata.namespace === 'string') metadata.namespace = mapNamespace(metadata.namespace, transforms);
  if (kind === 'Namespace' && typeof metadata.name === 'string') metadata.name = mapNamespace(metadata.name, transforms);
  if ((kind === 'RoleBinding' || kind === 'ClusterRoleBinding') && Array.isArray(copy.subjects)) {
    for (const subject of copy.subjects) if (isJsonObject(subject) && typeof subject.namespace === 'string') subject.namespace = mapNamespace(subject.namespace, transforms);
  }

  if (kind === 'PersistentVolumeClaim') {
    mapClaimClass(spec, transforms);
    mapClaimAnnotation(metadata, transforms);
  }
  if (kind === 'StatefulSet' && Array.isArray(spec?.volumeClaimTemplates)) {
    for (const template of spec.volumeClaimTemplates) {
      if (!isJsonObject(template)) continue;
      mapClaimClass(objectAt(template, 'spec'), transforms);
      mapClaimAnnotation(objectAt(template, 'metadata'), transforms);
    }
  }
  if (kind === 'StorageClass' && typeof metadata.name === 'string') {
    metadata.name = mapStorageClass(metadata.name, transforms);
    // The destination keeps its own default class.
    editMap(metadata, 'annotations', { remove: ['storageclass.kubernetes.io/is-default-class', 'storageclass.beta.kubernetes.io/is-default-class'] });
  }

  if (!SHARED_CLUSTER_KINDS.has(kind)) {
    editMap(metadata, 'labels', transforms.labels);
    editMap(metadata, 'annotations', transforms.annotations);
  }
  if (kind === 'Service') transformService(metadata, spec, transforms);
  if (kind === 'Ingress') transformIngress(spec, transforms);

  for (const [index, rule] of (transforms.patches ?? []).entries()) {
    if (rule.kind && rule.kind.toLowerCase() !== kind.toLowerCase()) continue;
    if (rule.name && !globMatch(rule.name, String(metadata.name ?? ''))) continue;
    try {
      copy = applyJsonPatch(copy as JsonValue, rule.operations) as JsonObject;
    } catch (error) {
      // A failing `test` makes the rule a condition: it does not apply to this object.
      if (error instanceof JsonPatchTestFailed) continue;
      if (error instanceof JsonPatchError) throw new TransformError(`patch rule ${index + 1} on ${kind} ${String(metadata.name)}: ${error.message}`);
      throw error;
    }
    if (!isJsonObject(copy) || !isJsonObject(copy.metadata)) throw new TransformError(`patch rule ${index + 1} on ${kind} ${String(metadata.name)} left no object with metadata`);
  }
  return copy;
}
