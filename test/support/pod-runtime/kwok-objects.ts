import type * as k8s from '@kubernetes/client-node';

/**
 * The per-pod kwok objects that make the API's pod subresources reach this machine:
 * `Logs` (GET pods/log reads a CRI-format file) and `Exec` (POST pods/exec runs a local command in a
 * directory with extra env). kwok matches them to the pod by namespace and name; they carry an owner
 * reference to the pod so the garbage collector removes them when the runtime is not there to.
 */
const GROUP = 'kwok.x-k8s.io';
const VERSION = 'v1alpha1';

export interface ContainerExec {
  container: string;
  workDir: string;
  env: Record<string, string>;
}

export interface ContainerLog {
  container: string;
  logsFile: string;
}

/** A kwok object for the pod: named after it, in its namespace, owned by it (so it goes when the pod goes). */
function podObject(kind: 'Exec' | 'Logs', pod: k8s.V1Pod, spec: unknown): k8s.KubernetesObject & { spec: unknown } {
  const { name, namespace, uid } = pod.metadata!;
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind,
    metadata: { name, namespace, ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: name!, uid: uid!, controller: false }] },
    spec,
  };
}

export function execObject(pod: k8s.V1Pod, execs: ContainerExec[]): k8s.KubernetesObject & { spec: unknown } {
  return podObject('Exec', pod, {
    execs: execs.map((exec) => ({
      containers: [exec.container],
      local: { workDir: exec.workDir, envs: Object.entries(exec.env).map(([name, value]) => ({ name, value })) },
    })),
  });
}

export function logsObject(pod: k8s.V1Pod, logs: ContainerLog[]): k8s.KubernetesObject & { spec: unknown } {
  return podObject('Logs', pod, {
    logs: logs.map((log) => ({
      containers: [log.container],
      logsFile: log.logsFile,
      follow: true,
    })),
  });
}

function plural(kind: 'Exec' | 'Logs'): string {
  return kind === 'Exec' ? 'execs' : 'logs';
}

/** Creates the object, replacing one of the same name (a StatefulSet pod's predecessor, a runtime restart). */
export async function putKwokObject(custom: k8s.CustomObjectsApi, object: k8s.KubernetesObject): Promise<void> {
  const kind = object.kind as 'Exec' | 'Logs';
  const target = { group: GROUP, version: VERSION, namespace: object.metadata!.namespace!, plural: plural(kind) };
  try {
    await custom.createNamespacedCustomObject({ ...target, body: object });
  } catch (error) {
    if (statusCode(error) !== 409) throw error;
    const existing = (await custom.getNamespacedCustomObject({ ...target, name: object.metadata!.name! })) as k8s.KubernetesObject;
    await custom.replaceNamespacedCustomObject({
      ...target,
      name: object.metadata!.name!,
      body: { ...object, metadata: { ...object.metadata, resourceVersion: existing.metadata?.resourceVersion } },
    });
  }
}

/** Deletes the pod's object if it still belongs to that pod (a successor of the same name keeps its own). */
export async function deleteKwokObject(custom: k8s.CustomObjectsApi, kind: 'Exec' | 'Logs', pod: k8s.V1Pod): Promise<void> {
  const target = { group: GROUP, version: VERSION, namespace: pod.metadata!.namespace!, plural: plural(kind), name: pod.metadata!.name! };
  try {
    const existing = (await custom.getNamespacedCustomObject(target)) as k8s.KubernetesObject;
    if (!existing.metadata?.ownerReferences?.some((owner) => owner.uid === pod.metadata?.uid)) return;
    await custom.deleteNamespacedCustomObject({ ...target, body: { preconditions: { uid: existing.metadata.uid } } });
  } catch (error) {
    if (statusCode(error) !== 404 && statusCode(error) !== 409) throw error;
  }
}

/** The HTTP status of a failed client-node call (2.x throws ApiException with `code`). */
export function statusCode(error: unknown): number | undefined {
  const candidate = error as { code?: unknown; statusCode?: unknown };
  if (typeof candidate?.code === 'number') return candidate.code;
  if (typeof candidate?.statusCode === 'number') return candidate.statusCode;
  return undefined;
}
