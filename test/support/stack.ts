// The shared local stack for integration tests: reuse the running one, else start it (once, under a lock).
import { randomBytes } from 'node:crypto';
import { waitForDefaultServiceAccount } from '../../src/kube/apply.ts';
import { kubeClientsFor, loadKubeConfig, type KubeClients } from '../../src/kube/clients.ts';
import { withStackLock } from '../../scripts/stack/lock.ts';
import { stackPaths } from '../../scripts/stack/paths.ts';
import type { StackInfo } from '../../scripts/stack/stack-info.ts';
import { collectStackInfo, stackStatus, stackUp } from '../../scripts/stack/stack.ts';

export type { StackInfo } from '../../scripts/stack/stack-info.ts';
export type { KubeClients } from '../../src/kube/clients.ts';

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
  })().catch((error: unknown) => {
    ensured = undefined; // let a later test try again rather than inherit this failure
    throw error;
  });
  return ensured;
}

function suffix(): string {
  return randomBytes(4).toString('hex');
}

/** A Temporal task queue no other test uses. */
export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${suffix()}`;
}

/** The stack's cluster through the one client factory (src/kube/clients.ts), from the stack's kubeconfig. */
export function kubeClients(info: StackInfo): KubeClients {
  return kubeClientsFor(loadKubeConfig(info.kube.kubeconfig));
}

export interface TestNamespace {
  name: string;
  /** Deletes the namespace (and so everything in it); does not wait for the deletion to finish. */
  cleanup(): Promise<void>;
}

/** A fresh Kubernetes namespace `<prefix>-<random>` for one test. */
export async function testNamespace(prefix: string): Promise<TestNamespace> {
  const clients = kubeClients(await ensureStack());
  const { core } = clients;
  const name = `${prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 50)}-${suffix()}`;
  await core.createNamespace({ body: { metadata: { name, labels: { 'cairn.dev/test': 'true' } } } });
  await waitForDefaultServiceAccount(clients, name);
  return {
    name,
    async cleanup() {
      await core.deleteNamespace({ name }).catch(() => undefined);
    },
  };
}
