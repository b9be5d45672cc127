/**
 * Group snapshots, both ways CreateCSIGroupSnapshot takes them: a groupsnapshot.storage.k8s.io/v1
 * VolumeGroupSnapshot (one cut by the driver across the PVCs its selector picks), or, where the cluster has no
 * such API or class, separate VolumeSnapshots cut together and tied by one label. DeleteCSISnapshot with
 * `group: true` removes either kind by the group's name.
 */
import { createHash } from 'node:crypto';
import { isNotFound, type KubeClients } from '../../src/kube/clients.ts';
import { GROUP_SNAPSHOT_API, SNAPSHOT_API, isTransientSnapshotError, listSnapshots, SnapshotFailedError, waitUntilGone, type SnapshotStatus, type VolumeSnapshot, type Waiter } from './snapshots.ts';
import { pause } from '../functions/pause.ts';
import { PermanentFunctionError } from '../functions/types.ts';
import type * as k8s from '@kubernetes/client-node';

/** On the VolumeSnapshots of a group cut without the group API: the group's name (or its hash, when long). */
export const GROUP_LABEL = 'cairn.io/snapshot-group';
export const GROUP_NAME_ANNOTATION = 'cairn.io/snapshot-group-name';
const DEFAULT_GROUP_CLASS_ANNOTATION = 'groupsnapshot.storage.kubernetes.io/is-default-class';
const DEFAULT_SNAPSHOT_CLASS_ANNOTATION = 'snapshot.storage.kubernetes.io/is-default-class';

export interface VolumeGroupSnapshot {
  apiVersion?: string;
  kind?: string;
  metadata: k8s.V1ObjectMeta;
  spec: { volumeGroupSnapshotClassName?: string; source: { selector?: k8s.V1LabelSelector } };
  status?: { readyToUse?: boolean; boundVolumeGroupSnapshotContentName?: string; creationTime?: string; error?: { message?: string } };
}

function shortHash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** A label value for the group's name: the name itself when it fits a label (63 characters), else a hash. */
export function groupLabelValue(name: string): string {
  return name.length <= 63 ? name : `h-${shortHash(name, 40)}`;
}

/**
 * The label put on the PVCs a VolumeGroupSnapshot selects: a key of its own per group, so that two groups
 * over the same PVC never overwrite each other's selection.
 */
export function selectionLabel(namespace: string, name: string): string {
  return `cairn.io/snapshot-group-${shortHash(`${namespace}/${name}`, 12)}`;
}

/** A member snapshot's name: `<group>-<pvc>`, shortened with a hash when it would pass 253 characters. */
export function memberSnapshotName(group: string, pvc: string): string {
  const full = `${group}-${pvc}`;
  return full.length <= 253 ? full : `${full.slice(0, 253 - 17).replace(/[-.]+$/, '')}-${shortHash(full, 16)}`;
}

/** Whether the API server serves groupsnapshot.storage.k8s.io/v1: a path it does not serve answers 404. */
export async function groupSnapshotApiServed(kube: KubeClients): Promise<boolean> {
  try {
    await kube.custom.listClusterCustomObject({ ...GROUP_SNAPSHOT_API, plural: 'volumegroupsnapshotclasses', limit: 1 });
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

interface ClassObject {
  metadata: k8s.V1ObjectMeta;
  driver: string;
}

/** The named class (PermanentFunctionError if missing), else the driver's default class, else undefined. */
export async function findClass(
  kube: KubeClients,
  kind: 'VolumeGroupSnapshotClass' | 'VolumeSnapshotClass',
  name: string | undefined,
  driver: string,
  argName: string,
): Promise<string | undefined> {
  const api = kind === 'VolumeGroupSnapshotClass' ? { ...GROUP_SNAPSHOT_API, plural: 'volumegroupsnapshotclasses' } : { ...SNAPSHOT_API, plural: 'volumesnapshotclasses' };
  const items = ((await kube.custom.listClusterCustomObject(api)) as { items: ClassObject[] }).items;
  if (name !== undefined) {
    const found = items.find((item) => item.metadata.name === name);
    if (!found) throw new PermanentFunctionError(`${argName}: ${kind} "${name}" not found (the cluster has ${items.map((i) => i.metadata.name).join(', ') || 'none'})`);
    if (found.driver !== driver) throw new PermanentFunctionError(`${argName}: ${kind} "${name}" is for driver ${found.driver}, but the PVCs are on ${driver}`);
    return name;
  }
  const annotation = kind === 'VolumeGroupSnapshotClass' ? DEFAULT_GROUP_CLASS_ANNOTATION : DEFAULT_SNAPSHOT_CLASS_ANNOTATION;
  return items.find((item) => item.driver === driver && item.metadata.annotations?.[annotation] === 'true')?.metadata.name;
}

export async function readGroupSnapshot(kube: KubeClients, namespace: string, name: string): Promise<VolumeGroupSnapshot | undefined> {
  try {
    return (await kube.custom.getNamespacedCustomObject({ ...GROUP_SNAPSHOT_API, namespace, plural: 'volumegroupsnapshots', name })) as VolumeGroupSnapshot;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The VolumeSnapshots the snapshot controller made for a VolumeGroupSnapshot. */
export async function groupMembers(kube: KubeClients, namespace: string, group: string): Promise<VolumeSnapshot[]> {
  return (await listSnapshots(kube, namespace)).filter((snapshot) => snapshot.status?.volumeGroupSnapshotName === group);
}

/** The VolumeSnapshots cut together under `group` without the group API. */
export async function labelledMembers(kube: KubeClients, namespace: string, group: string): Promise<VolumeSnapshot[]> {
  return listSnapshots(kube, namespace, `${GROUP_LABEL}=${groupLabelValue(group)}`);
}

/**
 * Polls until every member is ready: `members` lists them, `expected` is how many there must be, and
 * `groupStatus` (for a VolumeGroupSnapshot) is checked first. A lasting `status.error` fails the wait.
 */
export async function waitForMembersReady(
  what: string,
  expected: number,
  read: () => Promise<{ groupStatus?: SnapshotStatus | undefined; members: VolumeSnapshot[] }>,
  waiter: Waiter,
): Promise<VolumeSnapshot[]> {
  const started = Date.now();
  for (;;) {
    const { groupStatus, members } = await read();
    const errors = [groupStatus?.error?.message, ...members.map((m) => m.status?.error?.message && `${m.metadata.name}: ${m.status.error.message}`)].filter(
      (message): message is string => typeof message === 'string' && message !== '',
    );
    const ready = members.filter((member) => member.status?.readyToUse === true).length;
    waiter.heartbeat({ group: what, members: members.length, ready, expected, waitedMs: Date.now() - started, ...(errors.length ? { lastError: errors[0]! } : {}) });
    const lasting = errors.find((message) => !isTransientSnapshotError(message));
    if (lasting) throw new SnapshotFailedError(what, lasting);
    if ((groupStatus === undefined || groupStatus.readyToUse === true) && members.length === expected && ready === expected) return members;
    await pause(500, waiter.signal, `cancelled while waiting for ${what} to be ready to use (${ready}/${expected} members ready)`);
  }
}

/** Deletes a group by name, either kind; true when there was something to delete. */
export async function deleteGroupAndWait(kube: KubeClients, namespace: string, name: string, waiter: Waiter): Promise<boolean> {
  let found = false;
  try {
    await kube.custom.deleteNamespacedCustomObject({ ...GROUP_SNAPSHOT_API, namespace, plural: 'volumegroupsnapshots', name });
    found = true;
  } catch (error) {
    // 404 also when the cluster serves no group API at all: then only labelled members can exist.
    if (!isNotFound(error)) throw error;
  }
  if (found) {
    await waitUntilGone(() => readGroupSnapshot(kube, namespace, name), `VolumeGroupSnapshot ${namespace}/${name}`, waiter);
    // Its members go with it (owner references and the in-group finalizer); wait for them too.
    await waitUntilGone(async () => ((await groupMembers(kube, namespace, name)).length ? true : undefined), `the members of VolumeGroupSnapshot ${namespace}/${name}`, waiter);
  }
  const labelled = await labelledMembers(kube, namespace, name);
  for (const member of labelled) {
    await kube.custom.deleteNamespacedCustomObject({ ...SNAPSHOT_API, namespace, plural: 'volumesnapshots', name: member.metadata.name! }).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
  }
  if (labelled.length) {
    await waitUntilGone(async () => ((await labelledMembers(kube, namespace, name)).length ? true : undefined), `the snapshots of group ${namespace}/${name}`, waiter);
  }
  return found || labelled.length > 0;
}
