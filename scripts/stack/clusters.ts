import { join } from 'node:path';

/**
 * What differs between the stack's Kubernetes clusters. The main cluster (`cairn`, the one everything uses) is
 * `MAIN_CLUSTER`; a second cluster (`dr`, for restores into "another site") runs beside it with its own etcd,
 * API server, controllers, kwok controller, pod runtime and CSI daemons, under `<state>/clusters/<name>/`.
 */
export interface ClusterSpec {
  /** kwokctl's cluster name. */
  name: string;
  apiPort: number;
  /**
   * The ports kwokctl would otherwise pick itself at creation (the first free ones below 32767, recorded for
   * good): fixed for a second cluster, so that whichever cluster is created first, both can run together.
   * None for the main cluster, whose creation must not change.
   */
  ports?: { etcd: number; etcdPeer: number; kwokController: number; kubeControllerManager: number; kubeScheduler: number };
  /**
   * Pods' loopback addresses: 127.<first..first+count-1>.x.y (count a power of two). Disjoint per cluster, so
   * the same StatefulSet pod (same namespace and name, hence the same derived address) runs in both clusters.
   */
  podAddresses: { first: number; count: number };
  storageClass: string;
  otherStorageClass: string;
  snapshotClass: string;
  groupSnapshotClass: string;
}

export const MAIN_CLUSTER: ClusterSpec = {
  name: 'cairn',
  apiPort: 6443,
  podAddresses: { first: 64, count: 64 },
  storageClass: 'cairn-csi',
  otherStorageClass: 'other-class',
  snapshotClass: 'cairn-snapclass',
  groupSnapshotClass: 'cairn-groupsnapclass',
};

/** Second clusters by name (`npm run stack:up -- dr`, test/support/second-cluster.ts). */
export const SECOND_CLUSTERS: Record<string, ClusterSpec> = {
  dr: {
    name: 'dr',
    apiPort: 6444,
    ports: { etcd: 32661, etcdPeer: 32662, kwokController: 32663, kubeControllerManager: 32664, kubeScheduler: 32665 },
    podAddresses: { first: 32, count: 32 },
    storageClass: 'dr-csi',
    otherStorageClass: 'dr-other-class',
    snapshotClass: 'dr-snapclass',
    groupSnapshotClass: 'dr-groupsnapclass',
  },
};

/** The cluster a process belongs to: `CAIRN_CLUSTER` (set for a second cluster's daemons), else the main one. */
export function clusterSpec(name = process.env.CAIRN_CLUSTER): ClusterSpec {
  if (name === undefined || name === '' || name === MAIN_CLUSTER.name) return MAIN_CLUSTER;
  const spec = SECOND_CLUSTERS[name];
  if (!spec) throw new Error(`unknown cluster "${name}" (known: ${[MAIN_CLUSTER.name, ...Object.keys(SECOND_CLUSTERS)].join(', ')})`);
  return spec;
}

/** `<main state>/clusters/<name>`: a second cluster's state (kwok workdir, csi, pod-runtime, pids, logs, kubeconfig). */
export function secondClusterState(mainState: string, name: string): string {
  return join(mainState, 'clusters', name);
}
