// A second Kubernetes cluster (`dr`) beside the main stack, for restores into "another site": its own etcd,
// API server, controllers, kwok controller, pod runtime and CSI daemons, with other StorageClass names
// (scripts/stack/clusters.ts). Nothing of the main cluster (objects, Secrets, volumes) is in it.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { waitForDefaultServiceAccount } from '../../src/kube/apply.ts';
import { kubeClientsFor, loadKubeConfig, type KubeClients } from '../../src/kube/clients.ts';
import { stackPaths } from '../../scripts/stack/paths.ts';
import { clusterInfo, clusterStatus, clusterUp, type ClusterInfo } from '../../scripts/stack/second-cluster.ts';
import { registerSearchAttributes } from '../../scripts/stack/components/temporal.ts';
import { ensureStack, type TestNamespace } from './stack.ts';

export type { ClusterInfo } from '../../scripts/stack/second-cluster.ts';

export interface SecondCluster extends ClusterInfo {
  /** Clients for this cluster only (its kubeconfig), through the one client factory. */
  clients: KubeClients;
}

const ensured = new Map<string, Promise<SecondCluster>>();
/**
 * The main stack's paths as this process started with them: tests may later point CAIRN_STATE_DIR and
 * CAIRN_CACHE_DIR at a fresh worker state (location tests' freshState), which must not move the cluster's.
 */
const MAIN = stackPaths();

/**
 * The second cluster `name` (default `dr`), started on first use (cold ≈ 45 s; `npm run stack:up -- dr` does
 * the same ahead of time) and only checked when it runs already. Each test file is its own process: the start
 * is serialised by the cluster's own lock (`.cairn/clusters/<name>/stack.lock`), not the main stack's.
 */
export function ensureSecondCluster(name = 'dr'): Promise<SecondCluster> {
  let pending = ensured.get(name);
  if (!pending) {
    pending = (async () => {
      const main = MAIN;
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

export interface SiteTemporal {
  address: string;
  namespace: string;
  /** Deletes the namespace (and its workflows) from the dev server. */
  remove(): Promise<void>;
}

/**
 * A new Temporal namespace on the stack's dev server, with Cairn's search attributes registered in it and
 * nothing else: what a recovery site's fresh Temporal starts with (no workflow, no history of the source).
 */
export async function freshTemporalNamespace(prefix: string): Promise<SiteTemporal> {
  const stack = await ensureStack();
  const temporal = stack.binaries.temporal!;
  const namespace = `${prefix}-${randomBytes(4).toString('hex')}`;
  const cli = (...args: string[]) => promisify(execFile)(temporal, [...args, '--address', stack.temporal.address, '--namespace', namespace], { timeout: 30_000 });
  await cli('operator', 'namespace', 'create', '--retention', '24h');
  await registerSearchAttributes(MAIN, () => undefined, namespace);
  return {
    address: stack.temporal.address,
    namespace,
    async remove() {
      await cli('operator', 'namespace', 'delete', '--yes').catch(() => undefined);
    },
  };
}
