/**
 * Which kinds an application capture takes, and the order a restore applies them in. Pure data and functions:
 * the restore activity, the docs (docs/application-resources.md) and the unit tests read the same tables.
 */
import type { ResourceItem } from '../types.ts';

/**
 * Resources never captured: created and owned by controllers or the API server (pods, replicasets, endpoints),
 * or not objects at all (reviews, bindings). Restoring them would fight the controllers that make them.
 */
export const NEVER_CAPTURED = new Set([
  'events',
  'endpoints',
  'endpointslices',
  'pods',
  'replicasets',
  'controllerrevisions',
  'leases',
  'bindings',
  'localsubjectaccessreviews',
  'csistoragecapacities',
  'podmetrics',
  'componentstatuses',
]);

/**
 * Skipped unless `includeKinds` names them: a VolumeSnapshot refers to a VolumeSnapshotContent of the source
 * cluster, and Cairn carries volume data in the location, not in snapshot objects.
 */
export const SKIPPED_BY_DEFAULT = new Set(['volumesnapshots', 'volumegroupsnapshots']);

/** Kinds whose owner (by ownerReference) is one of these are made by that owner's controller: not captured. */
export const EPHEMERAL_OWNER_KINDS = new Set(['Pod', 'ReplicaSet', 'Job', 'ControllerRevision', 'Node']);

/** Workload kinds: restored in the `workloads` and `rest` stages, never in `foundation`. */
export const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicationController', 'CronJob', 'Job']);

/** API groups of Kubernetes itself: a kind from any other group is a custom resource (restored last). */
const BUILT_IN_GROUPS = new Set([
  '',
  'apps',
  'batch',
  'autoscaling',
  'policy',
  'networking.k8s.io',
  'rbac.authorization.k8s.io',
  'storage.k8s.io',
  'apiextensions.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'events.k8s.io',
  'scheduling.k8s.io',
  'node.k8s.io',
  'resource.k8s.io',
  'admissionregistration.k8s.io',
  'certificates.k8s.io',
  'flowcontrol.apiserver.k8s.io',
]);

export function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
}

export function isCustomResource(item: Pick<ResourceItem, 'apiVersion'>): boolean {
  return !BUILT_IN_GROUPS.has(groupOf(item.apiVersion));
}

/**
 * The foundation's order: what others refer to comes first. CRDs before anything (the API must serve a kind
 * before an object of it can exist), StorageClasses before PVCs, ServiceAccounts before the RoleBindings
 * naming them, ConfigMaps and Secrets before the workloads mounting them, PVCs before workloads.
 */
const FOUNDATION_RANK: Record<string, number> = {
  CustomResourceDefinition: 0,
  StorageClass: 1,
  PriorityClass: 2,
  ClusterRole: 3,
  Namespace: 10,
  ServiceAccount: 20,
  Role: 21,
  RoleBinding: 22,
  ResourceQuota: 23,
  LimitRange: 24,
  ConfigMap: 30,
  Secret: 31,
  PersistentVolumeClaim: 40,
  Service: 50,
  NetworkPolicy: 60,
  Ingress: 70,
};

export type RestoreStage = 'foundation' | 'workloads' | 'rest';

/** The stage an object belongs to: foundation kinds, workloads, or the rest (custom resources, HPAs, PDBs, ...). */
export function stageOf(item: Pick<ResourceItem, 'apiVersion' | 'kind'>): RestoreStage {
  if (WORKLOAD_KINDS.has(item.kind) && !isCustomResource(item)) return 'workloads';
  if (item.kind in FOUNDATION_RANK && !isCustomResource(item)) return 'foundation';
  return 'rest';
}

/** Sort key within a stage: foundation by FOUNDATION_RANK, then the rest with custom resources last. */
export function restoreRank(item: Pick<ResourceItem, 'apiVersion' | 'kind'>): number {
  const stage = stageOf(item);
  if (stage === 'foundation') return FOUNDATION_RANK[item.kind]!;
  if (stage === 'workloads') return 100;
  return isCustomResource(item) ? 300 : 200;
}

export function compareForRestore<T extends ResourceItem>(a: T, b: T): number {
  return restoreRank(a) - restoreRank(b) || a.kind.localeCompare(b.kind) || (a.namespace ?? '').localeCompare(b.namespace ?? '') || a.name.localeCompare(b.name);
}

/** `kind namespace/name` or `kind name`, for messages. */
export function describeItem(item: ResourceItem): string {
  return item.namespace ? `${item.kind} ${item.namespace}/${item.name}` : `${item.kind} ${item.name}`;
}

/** Two items name the same object: same kind and name, same namespace when both give one, same group. */
export function sameItem(a: ResourceItem, b: ResourceItem): boolean {
  if (a.kind !== b.kind || a.name !== b.name) return false;
  if (a.namespace && b.namespace && a.namespace !== b.namespace) return false;
  return !a.apiVersion || !b.apiVersion || groupOf(a.apiVersion) === groupOf(b.apiVersion);
}

/** Objects the API server or a controller makes in every namespace: never captured. */
export function isAutoCreated(kind: string, name: string, object: { type?: unknown }): boolean {
  if (kind === 'ServiceAccount' && name === 'default') return true;
  if (kind === 'ConfigMap' && (name === 'kube-root-ca.crt' || name === 'openshift-service-ca.crt')) return true;
  // Legacy token Secrets are filled in by the token controller for their ServiceAccount.
  if (kind === 'Secret' && object.type === 'kubernetes.io/service-account-token') return true;
  return false;
}

/** ClusterRoles every cluster has: a RoleBinding's reference to one needs nothing captured. */
export function isSystemClusterRole(name: string, labels: Record<string, string> | undefined): boolean {
  return name.startsWith('system:') || ['admin', 'edit', 'view', 'cluster-admin'].includes(name) || labels?.['kubernetes.io/bootstrapping'] === 'rbac-defaults';
}
