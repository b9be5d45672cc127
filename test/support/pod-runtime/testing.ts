// Helpers for integration tests of pods the runtime plays: apply manifests, exec, wait, find server processes.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { waitUntil } from '../../../scripts/stack/process.ts';
import { waitForDefaultServiceAccount } from '../../../src/kube/apply.ts';
import type { KubeClients, StackInfo } from '../stack.ts';

// The one wait for a namespace's default ServiceAccount (pods are refused until it exists).
export { waitForDefaultServiceAccount };

/** Creates every object of the YAML files in `dir` (name order) in `namespace`. */
export async function applyDirectory(clients: KubeClients, dir: string, namespace: string): Promise<void> {
  await waitForDefaultServiceAccount(clients, namespace);
  const files = readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort();
  for (const file of files) {
    for (const object of k8s.loadAllYaml(readFileSync(join(dir, file), 'utf8')) as k8s.KubernetesObject[]) {
      if (!object?.kind) continue;
      object.metadata = { ...object.metadata, namespace };
      await clients.objects.create(object);
    }
  }
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** 0 on Success; otherwise read from the status (kwok: "exit status N" in the message; kubelet: ExitCode cause). */
  exitCode: number;
}

export async function execInPod(clients: KubeClients, namespace: string, pod: string, container: string, command: string[]): Promise<ExecResult> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        append(chunk.toString('utf8'));
        done();
      },
    });
  const status = await new Promise<k8s.V1Status>((resolveStatus, rejectStatus) => {
    new k8s.Exec(clients.config)
      .exec(namespace, pod, container, command, sink((text) => (stdout += text)), sink((text) => (stderr += text)), null, false, resolveStatus)
      .then((socket) => socket.on('error', rejectStatus))
      .catch(rejectStatus);
  });
  return { stdout, stderr, exitCode: exitCodeOf(status) };
}

function exitCodeOf(status: k8s.V1Status): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (cause?.message) return Number(cause.message);
  const match = /exit status (\d+)/.exec(status.message ?? '');
  return match ? Number(match[1]) : -1;
}

/** Retries `command` until it exits 0 (a server still starting), returning its output. */
export async function execUntilSuccess(
  clients: KubeClients,
  namespace: string,
  pod: string,
  container: string,
  command: string[],
  timeoutMs = 90_000,
): Promise<ExecResult> {
  let last: ExecResult | undefined;
  await waitUntil(
    `${command.join(' ')} to succeed in ${namespace}/${pod}`,
    async () => {
      last = await execInPod(clients, namespace, pod, container, command);
      return last.exitCode === 0;
    },
    timeoutMs,
    'last output below',
  ).catch((error: Error) => {
    throw new Error(`${error.message}: ${JSON.stringify(last)}`);
  });
  return last!;
}

/** Ready as the examples' probes say: running, with containers, every one of them ready. */
export function isReadyPod(pod: k8s.V1Pod): boolean {
  const statuses = pod.status?.containerStatuses ?? [];
  return pod.status?.phase === 'Running' && statuses.length > 0 && statuses.every((c) => c.ready);
}

export async function waitForPod(
  clients: KubeClients,
  namespace: string,
  name: string,
  what: string,
  accept: (pod: k8s.V1Pod) => boolean,
  timeoutMs = 90_000,
): Promise<k8s.V1Pod> {
  let pod: k8s.V1Pod | undefined;
  await waitUntil(
    `${namespace}/${name} to be ${what}`,
    async () => {
      pod = await clients.core.readNamespacedPod({ namespace, name });
      return accept(pod);
    },
    timeoutMs,
  );
  return pod!;
}

export async function waitForPodGone(clients: KubeClients, namespace: string, name: string, timeoutMs = 90_000): Promise<void> {
  await waitUntil(
    `${namespace}/${name} to be deleted`,
    async () => {
      try {
        await clients.core.readNamespacedPod({ namespace, name });
        return false;
      } catch (error) {
        return (error as { code?: number }).code === 404;
      }
    },
    timeoutMs,
  );
}

/** The CSI volume directory behind a bound PVC: `<state>/csi/volumes/<volumeHandle>`. */
export async function claimVolumeDir(clients: KubeClients, stateDir: string, namespace: string, claim: string): Promise<string> {
  let volumeName: string | undefined;
  await waitUntil(`${namespace}/${claim} to be bound`, async () => {
    const pvc = await clients.core.readNamespacedPersistentVolumeClaim({ namespace, name: claim });
    volumeName = pvc.status?.phase === 'Bound' ? pvc.spec?.volumeName : undefined;
    return volumeName !== undefined;
  }, 60_000);
  const pv = await clients.core.readPersistentVolume({ name: volumeName! });
  return join(stateDir, 'csi', 'volumes', pv.spec!.csi!.volumeHandle);
}

/** PIDs of processes whose command line names `path` (a database server started on that data directory). */
export function processesUsing(path: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.some((arg) => arg === path || arg.startsWith(`${path}/`) || arg.endsWith(`=${path}`) || arg.includes(`=${path}/`))) {
        pids.push(Number(entry));
      }
    } catch {
      // exited while listing
    }
  }
  return pids;
}

export async function scaleStatefulSet(clients: KubeClients, namespace: string, name: string, replicas: number): Promise<void> {
  await clients.apps.patchNamespacedStatefulSet(
    { namespace, name, body: { spec: { replicas } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

/**
 * Whether `kubectl exec` can reach a pod's mount view: the pod runtime's exec shims must lead the kwok
 * controller's PATH (docs/dev-stack-pods.md, "Exec"). Read from the running controller's environment.
 */
export function execShimsOnKwokPath(stack: StackInfo): boolean {
  const shims = (stack['pod-runtime'] as { execShims?: string } | undefined)?.execShims;
  try {
    const pid = readFileSync(join(stack.kube.workdir, 'pids', 'kwok-controller.pid'), 'utf8').trim();
    const path = readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .find((variable) => variable.startsWith('PATH='));
    return shims !== undefined && (path?.slice(5).split(':').includes(shims) ?? false);
  } catch {
    return false;
  }
}
