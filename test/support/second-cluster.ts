// A second Kubernetes cluster (`dr`) beside the main stack, for restores into "another site": its own etcd,
// API server, controllers, kwok controller, pod runtime and CSI daemons, with other StorageClass names
// (scripts/stack/clusters.ts). Nothing of the main cluster (objects, Secrets, volumes) is in it.
import { randomBytes } from 'node:crypto';
import { waitForDefaultServiceAccount } from '../../src/kube/apply.ts';
import { kubeClientsFor, loadKubeConfig, type KubeClients } from '../../src/kube/clients.ts';
import { stackPaths } from '../../scripts/stack/paths.ts';
import { clusterInfo, clusterStatus, clusterUp, type ClusterInfo } from '../../scripts/stack/second-cluster.ts';
import type { TestNamespace } from './stack.ts';

export type { ClusterInfo } from '../../scripts/stack/second-cluster.ts';

export interface SecondCluster extends ClusterInfo {
  /** Clients for this cluster only (its kubeconfig), through the one client factory. */
  clients: KubeClients;
}

const ensured = new Map<string, Promise<SecondCluster>>();

/**
 * The second cluster `name` (default `dr`), started on first use (cold ≈ 45 s; `npm run stack:up -- dr` does
 * the same ahead of time) and only checked when it runs already. Each test file is its own process: the start
 * is serialised by the cluster's own lock (`.cairn/clusters/<name>/stack.lock`), not the main stack's.
 */
export function ensureSecondCluster(name = 'dr'): Promise<SecondCluster> {
  let pending = ensured.get(name);
  if (!pending) {
    pending = (async () => {
      const main = stackPaths();
      const running = (await clusterStatus(main, name)).every((status) => status.state === 'running');
      const info = running ? clusterInfo(main, name) : await clusterUp(main, name, (message) => process.stderr.write(`[stack] ${message}\n`));
      return { ...info, clients: kubeClientsFor(loadKubeConfig(info.kubeconfig)) };
    })().catch((error: unknown) => {
      ensured.delete(name); // a later test tries again rather than inheriting this failure
      throw error;
    });
    ensured.set(name, pending);
  }
  return pending;
}

/** A fresh namespace in the second cluster: `<prefix>-<random>`, or exactly `name` when given. */
export async function secondClusterNamespace(cluster: SecondCluster, prefix: string, name?: string): Promise<TestNamespace> {
  const { core } = cluster.clients;
  const namespace = name ?? `${prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 50)}-${randomBytes(4).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name: namespace, labels: { 'cairn.dev/test': 'true' } } } });
  await waitForDefaultServiceAccount(cluster.clients, namespace);
  return {
    name: namespace,
    async cleanup() {
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    },
  };
}
