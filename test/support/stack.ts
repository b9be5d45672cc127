// The shared local stack for integration tests: reuse the running one, else start it (once, under a lock).
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { withStackLock } from '../../scripts/stack/lock.ts';
import { stackPaths } from '../../scripts/stack/paths.ts';
import type { StackInfo } from '../../scripts/stack/stack-info.ts';
import { collectStackInfo, stackStatus, stackUp } from '../../scripts/stack/stack.ts';

export type { StackInfo } from '../../scripts/stack/stack-info.ts';

let ensured: Promise<StackInfo> | undefined;

/**
 * The running local stack's addresses (`.cairn/stack.json`). Starts the stack when any component is not
 * running; node:test runs each test file in its own process, so the start is serialised by `.cairn/stack.lock`.
 */
export function ensureStack(): Promise<StackInfo> {
  ensured ??= (async () => {
    const paths = stackPaths();
    const allRunning = async () => (await stackStatus(paths)).every((s) => s.state === 'running');
    if (await allRunning()) return collectStackInfo(paths);
    return withStackLock(paths, async () => {
      if (await allRunning()) return collectStackInfo(paths);
      return stackUp(paths, (message) => process.stderr.write(`[stack] ${message}\n`));
    });
  })();
  return ensured;
}

function suffix(): string {
  return randomBytes(4).toString('hex');
}

/** A Temporal task queue no other test uses. */
export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${suffix()}`;
}

export interface KubeClients {
  config: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  batch: k8s.BatchV1Api;
  storage: k8s.StorageV1Api;
  custom: k8s.CustomObjectsApi;
  /** Any object by its apiVersion/kind (CRDs included): create/read/patch/delete from manifests. */
  objects: k8s.KubernetesObjectApi;
}

export function kubeClients(info: StackInfo): KubeClients {
  const config = new k8s.KubeConfig();
  config.loadFromFile(info.kube.kubeconfig);
  return {
    config,
    core: config.makeApiClient(k8s.CoreV1Api),
    apps: config.makeApiClient(k8s.AppsV1Api),
    batch: config.makeApiClient(k8s.BatchV1Api),
    storage: config.makeApiClient(k8s.StorageV1Api),
    custom: config.makeApiClient(k8s.CustomObjectsApi),
    objects: k8s.KubernetesObjectApi.makeApiClient(config),
  };
}

export interface TestNamespace {
  name: string;
  /** Deletes the namespace (and so everything in it); does not wait for the deletion to finish. */
  cleanup(): Promise<void>;
}

/** A fresh Kubernetes namespace `<prefix>-<random>` for one test. */
export async function testNamespace(prefix: string): Promise<TestNamespace> {
  const { core } = kubeClients(await ensureStack());
  const name = `${prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 50)}-${suffix()}`;
  await core.createNamespace({ body: { metadata: { name, labels: { 'cairn.dev/test': 'true' } } } });
  return {
    name,
    async cleanup() {
      await core.deleteNamespace({ name }).catch(() => undefined);
    },
  };
}
