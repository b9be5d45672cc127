import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SECOND_CLUSTERS } from './clusters.ts';
import type { ComponentStatus, ProgressLog, StackComponent } from './component.ts';
import { withStackLock } from './lock.ts';
import { clusterPaths, type StackPaths } from './paths.ts';
import { orderedComponents, stackStatus, startComponents, stopComponents } from './stack.ts';

/**
 * A second Kubernetes cluster beside the main stack (`npm run stack:up -- dr`): the same components that make
 * the main cluster — `kube` (etcd, kube-apiserver, controller-manager, scheduler, kwok controller), `csi` and
 * `pod-runtime` — started with the second cluster's paths and ClusterSpec (scripts/stack/clusters.ts). It
 * shares the binary cache and nothing else: Temporal, S3 and kopia stay the main stack's.
 */
const CLUSTER_COMPONENTS = ['kube', 'csi', 'pod-runtime'];

function clusterComponents(): StackComponent[] {
  return orderedComponents().filter((component) => CLUSTER_COMPONENTS.includes(component.name));
}

/** What a client of a second cluster needs (ensureSecondCluster in test/support/second-cluster.ts). */
export interface ClusterInfo {
  name: string;
  kubeconfig: string;
  server: string;
  storageClass: string;
  otherStorageClass: string;
  snapshotClass: string;
  /** Its state directory: kwok workdir, CSI volumes, pod runtime, PID files and logs. */
  state: string;
}

export function isSecondCluster(name: string): boolean {
  return Object.hasOwn(SECOND_CLUSTERS, name);
}

export function clusterInfo(main: StackPaths, name: string): ClusterInfo {
  const paths = clusterPaths(main, name);
  const { cluster } = paths;
  return {
    name,
    kubeconfig: paths.kubeconfig,
    server: `https://127.0.0.1:${cluster.apiPort}`,
    storageClass: cluster.storageClass,
    otherStorageClass: cluster.otherStorageClass,
    snapshotClass: cluster.snapshotClass,
    state: paths.state,
  };
}

/** Installs what is missing (a cache check when the main stack is installed) and starts the cluster; idempotent. */
export async function clusterUp(main: StackPaths, name: string, log: ProgressLog): Promise<ClusterInfo> {
  const paths = clusterPaths(main, name);
  const prefixed: ProgressLog = (message) => log(`${name}: ${message}`);
  return withStackLock(paths, async () => {
    const started = Date.now();
    for (const component of clusterComponents()) await component.install(paths, prefixed);
    await startComponents(paths, prefixed, clusterComponents());
    prefixed(`cluster up in ${((Date.now() - started) / 1000).toFixed(1)} s; kubeconfig ${paths.kubeconfig}`);
    return clusterInfo(main, name);
  });
}

/** Stops what clusterUp started, by the cluster's own PID files (kwokctl's for the control plane). */
export async function clusterDown(main: StackPaths, name: string, log: ProgressLog): Promise<void> {
  const paths = clusterPaths(main, name);
  if (!existsSync(paths.state)) return;
  await withStackLock(paths, () => stopComponents(paths, (message) => log(`${name}: ${message}`), clusterComponents()));
}

/** Each component's status, named `<cluster>/<component>`. */
export async function clusterStatus(main: StackPaths, name: string): Promise<ComponentStatus[]> {
  const statuses = await stackStatus(clusterPaths(main, name), clusterComponents());
  return statuses.map((status) => ({ ...status, name: `${name}/${status.name}` }));
}

/** The second clusters that were ever started in this clone (their state directory exists). */
export function createdSecondClusters(main: StackPaths): string[] {
  const dir = join(main.state, 'clusters');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter(isSecondCluster);
}
