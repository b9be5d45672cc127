/**
 * What the CSI snapshot functions share: the snapshot.storage.k8s.io/v1 objects read through the generic
 * object API, the checks made before anything is created, and the waits (ready, bound, gone), each polling,
 * heartbeating and honouring the activity's abort signal.
 */
import type * as k8s from '@kubernetes/client-node';
import { isNotFound, type KubeClients } from '../../src/kube/clients.ts';
import type { JsonValue } from '../../src/json.ts';
import { pause } from '../functions/pause.ts';
import { PermanentFunctionError } from '../functions/types.ts';

export const SNAPSHOT_API = { group: 'snapshot.storage.k8s.io', version: 'v1' } as const;
export const GROUP_SNAPSHOT_API = { group: 'groupsnapshot.storage.k8s.io', version: 'v1' } as const;

/** Names the run and phase that created an object, so a retry can tell its own object from someone else's. */
export const CREATED_BY_ANNOTATION = 'cairn.io/created-by-phase';
export const MANAGED_BY_LABELS = { 'app.kubernetes.io/managed-by': 'cairn' } as const;

export interface SnapshotStatus {
  readyToUse?: boolean;
  boundVolumeSnapshotContentName?: string;
  restoreSize?: string;
  creationTime?: string;
  volumeGroupSnapshotName?: string;
  error?: { message?: string; time?: string };
}

export interface VolumeSnapshot {
  apiVersion?: string;
  kind?: string;
  metadata: k8s.V1ObjectMeta;
  spec: { volumeSnapshotClassName?: string; source: { persistentVolumeClaimName?: string; volumeSnapshotContentName?: string } };
  status?: SnapshotStatus;
}

export interface VolumeSnapshotContent {
  metadata: k8s.V1ObjectMeta;
  spec: { driver: string; deletionPolicy?: string };
  status?: { readyToUse?: boolean; restoreSize?: number; snapshotHandle?: string };
}

/** What a wait needs from the function context. */
export interface Waiter {
  signal: AbortSignal;
  heartbeat(details?: JsonValue): void;
}

const POLL_MS = 500;

export function isConflict(error: unknown): boolean {
  return (error as { code?: number })?.code === 409;
}

/** The API's message for a failed call, without the client's request dump. */
export function apiMessage(error: unknown): string {
  const body = (error as { body?: unknown })?.body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: string };
      if (parsed.message) return parsed.message;
    } catch {
      // not JSON: fall through to the error's own message
    }
  }
  return (error as Error)?.message ?? String(error);
}

export async function readSnapshot(kube: KubeClients, namespace: string, name: string): Promise<VolumeSnapshot | undefined> {
  try {
    return (await kube.custom.getNamespacedCustomObject({ ...SNAPSHOT_API, namespace, plural: 'volumesnapshots', name })) as VolumeSnapshot;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export async function listSnapshots(kube: KubeClients, namespace: string, labelSelector?: string): Promise<VolumeSnapshot[]> {
  const list = (await kube.custom.listNamespacedCustomObject({ ...SNAPSHOT_API, namespace, plural: 'volumesnapshots', ...(labelSelector ? { labelSelector } : {}) })) as {
    items: VolumeSnapshot[];
  };
  return list.items;
}

export async function readSnapshotContent(kube: KubeClients, name: string): Promise<VolumeSnapshotContent | undefined> {
  try {
    return (await kube.custom.getClusterCustomObject({ ...SNAPSHOT_API, plural: 'volumesnapshotcontents', name })) as VolumeSnapshotContent;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The VolumeSnapshotClass, or a PermanentFunctionError naming `argName` and the classes that do exist. */
export async function requireSnapshotClass(kube: KubeClients, name: string, argName = 'snapshotClass'): Promise<{ name: string; driver: string }> {
  try {
    const found = (await kube.custom.getClusterCustomObject({ ...SNAPSHOT_API, plural: 'volumesnapshotclasses', name })) as { driver: string };
    return { name, driver: found.driver };
  } catch (error) {
    if (!isNotFound(error)) throw error;
    const known = (await kube.custom.listClusterCustomObject({ ...SNAPSHOT_API, plural: 'volumesnapshotclasses' }).catch(() => ({ items: [] }))) as {
      items: { metadata: { name: string } }[];
    };
    const names = known.items.map((item) => item.metadata.name);
    throw new PermanentFunctionError(`${argName}: VolumeSnapshotClass "${name}" not found${names.length ? ` (the cluster has ${names.join(', ')})` : ' (the cluster has none)'}`);
  }
}

export interface BoundClaim {
  claim: k8s.V1PersistentVolumeClaim;
  /** The CSI driver behind the claim's volume; undefined for a non-CSI volume. */
  driver: string | undefined;
}

/**
 * The PVC and its volume's CSI driver. A missing PVC is permanent; a Pending one is not (it may yet bind),
 * but a snapshot of it would only fail, so it is not attempted.
 */
export async function requireBoundClaim(kube: KubeClients, namespace: string, name: string, argName = 'pvc'): Promise<BoundClaim> {
  let claim: k8s.V1PersistentVolumeClaim;
  try {
    claim = await kube.core.readNamespacedPersistentVolumeClaim({ namespace, name });
  } catch (error) {
    if (isNotFound(error)) throw new PermanentFunctionError(`${argName}: PersistentVolumeClaim ${namespace}/${name} not found`);
    throw error;
  }
  if (claim.status?.phase !== 'Bound' || !claim.spec?.volumeName) {
    throw new Error(`${argName}: PersistentVolumeClaim ${namespace}/${name} is ${claim.status?.phase ?? 'Pending'}, not Bound: there is no volume to snapshot yet`);
  }
  const volume = await kube.core.readPersistentVolume({ name: claim.spec.volumeName });
  return { claim, driver: volume.spec?.csi?.driver };
}

/** A class of another driver than the volume's gives a controller error much later; say so now. */
export function requireSameDriver(claim: BoundClaim, snapshotClass: { name: string; driver: string }, namespace: string): void {
  const name = claim.claim.metadata?.name;
  if (claim.driver === undefined) {
    throw new PermanentFunctionError(`PersistentVolumeClaim ${namespace}/${name} is not a CSI volume: it cannot have a CSI snapshot`);
  }
  if (claim.driver !== snapshotClass.driver) {
    throw new PermanentFunctionError(
      `VolumeSnapshotClass "${snapshotClass.name}" is for driver ${snapshotClass.driver}, but PersistentVolumeClaim ${namespace}/${name} is on ${claim.driver}`,
    );
  }
}

// status.error messages that the snapshot controller clears by itself on its next pass.
const TRANSIENT_ERRORS = [/the object has been modified/i, /VolumeSnapshotContent is missing/i, /SnapshotFinalizerError/i];

export function isTransientSnapshotError(message: string): boolean {
  return TRANSIENT_ERRORS.some((pattern) => pattern.test(message));
}

/** Thrown when the snapshot controller reports `status.error` on a snapshot. */
export class SnapshotFailedError extends Error {
  constructor(what: string, message: string) {
    super(`${what} failed: ${message}`);
    this.name = 'SnapshotFailedError';
  }
}

export interface ReadyOptions extends Waiter {
  /** Epoch ms after which waiting stops with a PermanentFunctionError. */
  deadline?: number;
  /** The timeout as the blueprint wrote it, for the message. */
  timeout?: string;
  /** Extra heartbeat details (a retried WaitForSnapshotReady carries its deadline in them). */
  details?: Record<string, JsonValue>;
}

/** Polls until `readyToUse`; throws SnapshotFailedError on a lasting `status.error`. */
export async function waitForSnapshotReady(kube: KubeClients, namespace: string, name: string, options: ReadyOptions): Promise<VolumeSnapshot> {
  const what = `VolumeSnapshot ${namespace}/${name}`;
  const started = Date.now();
  for (;;) {
    const snapshot = await readSnapshot(kube, namespace, name);
    if (!snapshot) throw new PermanentFunctionError(`${what} not found`);
    if (snapshot.metadata.deletionTimestamp) throw new Error(`${what} is being deleted`);
    const status = snapshot.status ?? {};
    const error = status.error?.message;
    options.heartbeat({
      ...options.details,
      snapshot: name,
      readyToUse: status.readyToUse === true,
      waitedMs: Date.now() - started,
      ...(error ? { lastError: error } : {}),
    });
    if (status.readyToUse === true) return snapshot;
    if (error && !isTransientSnapshotError(error)) throw new SnapshotFailedError(what, error);
    if (options.deadline !== undefined && Date.now() >= options.deadline) {
      throw new PermanentFunctionError(`timed out${options.timeout ? ` after ${options.timeout}` : ''} waiting for ${what} to be ready to use${error ? `; last error: ${error}` : status.boundVolumeSnapshotContentName ? '' : ' (no VolumeSnapshotContent bound yet)'}`);
    }
    await pause(POLL_MS, options.signal, `cancelled while waiting for ${what} to be ready to use`);
  }
}

/** Deletes the snapshot and waits until it is gone; true when there was one to delete. */
export async function deleteSnapshotAndWait(kube: KubeClients, namespace: string, name: string, waiter: Waiter): Promise<boolean> {
  try {
    await kube.custom.deleteNamespacedCustomObject({ ...SNAPSHOT_API, namespace, plural: 'volumesnapshots', name });
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
  await waitUntilGone(() => readSnapshot(kube, namespace, name), `VolumeSnapshot ${namespace}/${name}`, waiter);
  return true;
}

export async function waitUntilGone(read: () => Promise<unknown>, what: string, waiter: Waiter): Promise<void> {
  const started = Date.now();
  while ((await read()) !== undefined) {
    waiter.heartbeat({ deleting: what, waitedMs: Date.now() - started });
    await pause(POLL_MS, waiter.signal, `cancelled while waiting for ${what} to be deleted`);
  }
}

/** Best-effort cleanup after a failure: never hides the failure that caused it. */
export async function deleteQuietly(what: string, remove: () => Promise<unknown>, log: (message: string, fields?: Record<string, unknown>) => void): Promise<void> {
  try {
    await remove();
    log(`deleted ${what} after the failure`);
  } catch (error) {
    if (!isNotFound(error)) log(`could not delete ${what} after the failure`, { error: apiMessage(error) });
  }
}

const QUANTITY = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;
const FACTORS: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

/** Bytes of a storage quantity (`1Gi`, `500M`, `1073741824`); undefined when it is not one. */
export function quantityBytes(quantity: string): number | undefined {
  const match = QUANTITY.exec(quantity.trim());
  if (!match) return undefined;
  return Number(match[1]) * FACTORS[match[2] ?? '']!;
}
