/**
 * A one-off pod that mounts PVCs and idles (`tail -f /dev/null`, as Kanister's), so that CopyVolumeData and
 * RestoreData can exec `tar` in it. Named after the run and phase (a retried attempt adopts the pod of the
 * attempt before), `podOverride` merged as for KubeTask, and always deleted, on success, failure or cancel.
 */
import type * as k8s from '@kubernetes/client-node';
import type { JsonObject } from '../../src/json.ts';
import { isNotFound } from '../../src/kube/clients.ts';
import { execInPod, tail } from '../kube/exec.ts';
import { deepMerge } from '../kube/pod-override.ts';
import type { PodCommand } from './data-stream.ts';
import { shellQuote } from './exec-target.ts';
import { pause } from './pause.ts';
import { PermanentFunctionError, type FunctionContext } from './types.ts';

/** The default image of the pod (Kanister's is kanister-tools); it needs `sh`, `tar`, `head`. podOverride may change it. */
export const DATA_POD_IMAGE = 'busybox:1.36';
const CONTAINER = 'container';
const READY_TIMEOUT_MS = 5 * 60_000;
/** How long exec may keep failing once the pod reports Running (kwok reports it before anything runs). */
const EXEC_READY_TIMEOUT_MS = 60_000;
const GONE_TIMEOUT_MS = 60_000;

export interface VolumePodRequest {
  namespace: string;
  /** Suffix for `resourceName`, different per function. */
  suffix: string;
  image: string;
  /** PVC name → mount path. */
  volumes: Record<string, string>;
  podOverride?: JsonObject;
  podLabels?: Record<string, string>;
  podAnnotations?: Record<string, string>;
}

export type PodTarget = Omit<PodCommand, 'command'>;

export async function withVolumePod<T>(context: FunctionContext, request: VolumePodRequest, use: (pod: PodTarget) => Promise<T>): Promise<T> {
  const { namespace } = request;
  const name = context.resourceName(request.suffix);
  const manifest = await podManifest(context, name, request);
  const { core } = context.kube();
  try {
    await createOrAdopt(context, manifest);
    await waitUntilRunning(context, namespace, name);
    await waitUntilExecSeesVolumes(context, namespace, name, Object.values(request.volumes));
    return await use({ namespace, pod: name, container: CONTAINER });
  } finally {
    await deleteAndWait(context, core, namespace, name);
  }
}

async function podManifest(context: FunctionContext, name: string, request: VolumePodRequest): Promise<k8s.V1Pod> {
  const { volumes, mounts } = await claimVolumes(context, request.namespace, request.volumes);
  return deepMerge(
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: request.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'cairn', 'cairn.io/pod-role': 'data', ...(request.podLabels ?? {}) },
        annotations: { ...(request.podAnnotations ?? {}) },
      },
      spec: {
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 0,
        containers: [{ name: CONTAINER, image: request.image, command: ['sh', '-c', 'tail -f /dev/null'], volumeMounts: mounts }],
        volumes,
      },
    },
    { spec: request.podOverride ?? {} },
  ) as k8s.V1Pod;
}

/**
 * Pod volumes and mounts for PVC name → mount path: each PVC must exist; a PVC that is ReadOnlyMany only is
 * mounted read-only. Shared with the other functions whose pods mount PVCs (PrepareData).
 */
export async function claimVolumes(context: FunctionContext, namespace: string, claims: Record<string, string>): Promise<{ volumes: k8s.V1Volume[]; mounts: k8s.V1VolumeMount[] }> {
  const volumes: k8s.V1Volume[] = [];
  const mounts: k8s.V1VolumeMount[] = [];
  let index = 0;
  for (const [claimName, mountPath] of Object.entries(claims)) {
    if (!mountPath.startsWith('/')) throw new PermanentFunctionError(`volumes: the mount path of PVC "${claimName}" must be absolute, got "${mountPath}"`);
    let pvc: k8s.V1PersistentVolumeClaim;
    try {
      pvc = await context.kube().core.readNamespacedPersistentVolumeClaim({ namespace, name: claimName });
    } catch (error) {
      if (isNotFound(error)) throw new PermanentFunctionError(`PVC ${namespace}/${claimName} not found`);
      throw error;
    }
    const modes = pvc.spec?.accessModes ?? [];
    const readOnly = modes.length > 0 && modes.every((mode) => mode === 'ReadOnlyMany');
    const volume = `vol-${index++}`;
    volumes.push({ name: volume, persistentVolumeClaim: { claimName, readOnly } });
    mounts.push({ name: volume, mountPath, readOnly });
  }
  return { volumes, mounts };
}

async function createOrAdopt(context: FunctionContext, manifest: k8s.V1Pod): Promise<void> {
  const { core } = context.kube();
  const namespace = manifest.metadata!.namespace!;
  const name = manifest.metadata!.name!;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await core.createNamespacedPod({ namespace, body: manifest });
      context.log('data pod created', { pod: name });
      return;
    } catch (error) {
      if ((error as { code?: number }).code !== 409) throw new Error(`cannot create pod ${namespace}/${name}: ${(error as Error).message}`);
    }
    const existing = await core.readNamespacedPod({ namespace, name }).catch(() => undefined);
    const usable = existing && !existing.metadata?.deletionTimestamp && !['Succeeded', 'Failed'].includes(existing.status?.phase ?? '');
    if (usable) {
      context.log('data pod of an earlier attempt found; using it', { pod: name });
      return;
    }
    // A pod of an earlier attempt that is finished or going away: replace it.
    await deleteAndWait(context, core, namespace, name);
  }
  throw new Error(`pod ${namespace}/${name} keeps existing after deletion`);
}

async function waitUntilRunning(context: FunctionContext, namespace: string, name: string): Promise<void> {
  const { core } = context.kube();
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const pod = await core.readNamespacedPod({ namespace, name });
    const phase = pod.status?.phase ?? 'Pending';
    const statuses = pod.status?.containerStatuses ?? [];
    context.heartbeat({ pod: name, phase });
    if (phase === 'Succeeded' || phase === 'Failed') {
      const log = await core.readNamespacedPodLog({ namespace, name, container: CONTAINER }).catch(() => '');
      throw new Error(`data pod ${namespace}/${name} ended (${phase}) before it was used${log ? `; log:\n${tail(log)}` : ''}`);
    }
    const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    if (phase === 'Running' && ready && statuses.length > 0 && statuses.every((s) => s.state?.running)) return;
    if (Date.now() > deadline) {
      const waiting = statuses.map((s) => s.state?.waiting).find(Boolean);
      throw new Error(`data pod ${namespace}/${name} not running after ${READY_TIMEOUT_MS / 1000} s (${phase}${waiting ? `: ${waiting.reason ?? ''} ${waiting.message ?? ''}`.trimEnd() : ''})`);
    }
    await pause(500, context.signal, `cancelled while data pod ${namespace}/${name} was ${phase}`);
  }
}

/**
 * Ready is not proof that exec reaches the container's view of its volumes (kwok marks pods Ready before its
 * pod runtime has mounted anything); a command that sees every mount path is.
 */
async function waitUntilExecSeesVolumes(context: FunctionContext, namespace: string, name: string, mountPaths: string[]): Promise<void> {
  const probe = ['sh', '-c', mountPaths.length > 0 ? mountPaths.map((path) => `test -d ${shellQuote(path)}`).join(' && ') : 'true'];
  const deadline = Date.now() + EXEC_READY_TIMEOUT_MS;
  for (;;) {
    const result = await execInPod(context.kube().config, { namespace, pod: name, container: CONTAINER, command: probe, signal: context.signal }).catch((error: Error) => ({ exitCode: -1, stderr: error.message }));
    if (result.exitCode === 0) return;
    if (Date.now() > deadline) throw new Error(`data pod ${namespace}/${name} does not show its volumes (${mountPaths.join(', ')}) to exec: ${tail(result.stderr, 3)}`);
    await pause(500, context.signal);
  }
}

async function deleteAndWait(context: FunctionContext, core: k8s.CoreV1Api, namespace: string, name: string): Promise<void> {
  try {
    await core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 });
  } catch (error) {
    if (isNotFound(error)) return;
    context.log('could not delete the data pod', { pod: name, error: (error as Error).message });
    return;
  }
  // Waited for, so the PVCs are free for the workload when the function returns; not a failure if slow.
  const deadline = Date.now() + GONE_TIMEOUT_MS;
  while (Date.now() < deadline) {
    try {
      await core.readNamespacedPod({ namespace, name });
    } catch (error) {
      if (isNotFound(error)) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  context.log('data pod still terminating', { pod: name });
}
