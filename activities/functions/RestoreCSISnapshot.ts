/**
 * RestoreCSISnapshot (Kanister's name and args): a new PVC whose data source is a VolumeSnapshot, waited on
 * until Bound (Cairn's storage classes bind immediately; a WaitForFirstConsumer class would wait for a pod).
 * Unlike Kanister, `storageClass` and `restoreSize` are optional: the cluster's default class and the
 * snapshot's own restore size. The PVC carries the phase's mark: a retry waits on the PVC it created, and a
 * PVC that exists without that mark is never touched.
 */
import type * as k8s from '@kubernetes/client-node';
import { isNotFound, type KubeClients } from '../../src/kube/clients.ts';
import {
  apiMessage,
  CREATED_BY_ANNOTATION,
  deleteQuietly,
  isConflict,
  MANAGED_BY_LABELS,
  quantityBytes,
  readSnapshot,
  readSnapshotContent,
  SNAPSHOT_API,
  waitForSnapshotReady,
  type Waiter,
} from '../kube/snapshots.ts';
import { pause } from './pause.ts';
import { PermanentFunctionError, type CairnFunction } from './types.ts';

const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
/** Provisioning failures the provisioner has retried this often are reported instead of waited on. */
const FAILURES_BEFORE_GIVING_UP = 3;

export const RestoreCSISnapshot: CairnFunction = {
  name: 'RestoreCSISnapshot',
  async run({ args, kube, heartbeat, signal, resourceName, log }) {
    const namespace = String(args.namespace);
    const snapshotName = String(args.name);
    const pvcName = String(args.pvc);
    const owner = resourceName('phase');
    const clients = kube();
    const what = `PersistentVolumeClaim ${namespace}/${pvcName}`;

    let claim = await readClaim(clients, namespace, pvcName);
    if (claim) {
      requireOwn(claim, owner, snapshotName, what);
      log('found the PVC of an earlier attempt', { pvc: pvcName });
    } else {
      const body = await claimFromSnapshot(clients, args, { namespace, snapshotName, pvcName, owner }, { signal, heartbeat });
      try {
        claim = await clients.core.createNamespacedPersistentVolumeClaim({ namespace, body });
        log('PVC created from the snapshot', { pvc: pvcName, snapshot: snapshotName, storageClass: body.spec?.storageClassName });
      } catch (error) {
        if (!isConflict(error)) throw new Error(`cannot create ${what}: ${apiMessage(error)}`);
        claim = await readClaim(clients, namespace, pvcName);
        if (!claim) throw new Error(`cannot create ${what}: ${apiMessage(error)}`);
        requireOwn(claim, owner, snapshotName, what);
      }
    }

    try {
      claim = await waitForBound(clients, claim, { signal, heartbeat });
    } catch (error) {
      await deleteQuietly(what, () => clients.core.deleteNamespacedPersistentVolumeClaim({ namespace, name: pvcName }), log);
      throw error;
    }
    return {
      name: pvcName,
      namespace,
      storageClass: claim.spec?.storageClassName ?? '',
      restoreSize: claim.status?.capacity?.storage ?? claim.spec?.resources?.requests?.storage ?? '',
      volumeName: claim.spec?.volumeName ?? '',
    };
  },
};

async function readClaim(clients: KubeClients, namespace: string, name: string): Promise<k8s.V1PersistentVolumeClaim | undefined> {
  try {
    return await clients.core.readNamespacedPersistentVolumeClaim({ namespace, name });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

function requireOwn(claim: k8s.V1PersistentVolumeClaim, owner: string, snapshotName: string, what: string): void {
  if (claim.metadata?.annotations?.[CREATED_BY_ANNOTATION] !== owner) {
    throw new PermanentFunctionError(`${what} already exists and was not restored by this phase; refusing to overwrite it (delete it first, or restore under another name)`);
  }
  const source = claim.spec?.dataSource;
  if (source?.kind !== 'VolumeSnapshot' || source.name !== snapshotName) {
    throw new PermanentFunctionError(`${what} of this phase was restored from ${source?.kind ?? 'nothing'} ${source?.name ?? ''}, not VolumeSnapshot ${snapshotName}`);
  }
}

/** Checks the snapshot, the class and the size, and builds the PVC; nothing is created here. */
async function claimFromSnapshot(
  clients: KubeClients,
  args: Record<string, unknown>,
  names: { namespace: string; snapshotName: string; pvcName: string; owner: string },
  waiter: Waiter,
): Promise<k8s.V1PersistentVolumeClaim> {
  const { namespace, snapshotName, pvcName, owner } = names;
  if (!(await readSnapshot(clients, namespace, snapshotName))) {
    throw new PermanentFunctionError(`name: VolumeSnapshot ${namespace}/${snapshotName} not found`);
  }
  // The provisioner waits for readiness too, but silently: waiting here reports a failed snapshot by name.
  const snapshot = await waitForSnapshotReady(clients, namespace, snapshotName, waiter);
  const content = await readSnapshotContent(clients, snapshot.status?.boundVolumeSnapshotContentName ?? '');
  const storageClass = await chooseStorageClass(clients, args.storageClass === undefined ? undefined : String(args.storageClass));
  if (content && storageClass.provisioner !== content.spec.driver) {
    throw new PermanentFunctionError(
      `storageClass: StorageClass "${storageClass.metadata?.name}" provisions with ${storageClass.provisioner}, but the snapshot was taken by ${content.spec.driver}; choose a class of that driver`,
    );
  }
  const minimum = snapshot.status?.restoreSize ?? '';
  const size = args.restoreSize === undefined ? minimum : String(args.restoreSize);
  const sizeBytes = quantityBytes(size);
  if (sizeBytes === undefined) throw new PermanentFunctionError(`restoreSize: "${size}" is not a storage quantity (e.g. 10Gi)`);
  const minimumBytes = quantityBytes(minimum);
  if (minimumBytes !== undefined && sizeBytes < minimumBytes) {
    throw new PermanentFunctionError(`restoreSize: ${size} is smaller than the snapshot's restore size ${minimum}`);
  }
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: pvcName,
      namespace,
      labels: { ...MANAGED_BY_LABELS, ...((args.labels ?? {}) as Record<string, string>) },
      annotations: { [CREATED_BY_ANNOTATION]: owner },
    },
    spec: {
      accessModes: ((args.accessModes as string[] | undefined) ?? ['ReadWriteOnce']).map(String),
      volumeMode: String(args.volumeMode ?? 'Filesystem'),
      storageClassName: storageClass.metadata!.name!,
      resources: { requests: { storage: size } },
      dataSource: { apiGroup: SNAPSHOT_API.group, kind: 'VolumeSnapshot', name: snapshotName },
    },
  };
}

async function chooseStorageClass(clients: KubeClients, name: string | undefined): Promise<k8s.V1StorageClass> {
  if (name !== undefined) {
    try {
      return await clients.storage.readStorageClass({ name });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      const known = (await clients.storage.listStorageClass()).items.map((c) => c.metadata?.name);
      throw new PermanentFunctionError(`storageClass: StorageClass "${name}" not found (the cluster has ${known.join(', ') || 'none'})`);
    }
  }
  const defaults = (await clients.storage.listStorageClass()).items.filter((c) => c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true');
  if (defaults.length === 0) throw new PermanentFunctionError('storageClass: not given, and the cluster has no default StorageClass');
  return defaults[0]!;
}

async function waitForBound(clients: KubeClients, created: k8s.V1PersistentVolumeClaim, waiter: Waiter): Promise<k8s.V1PersistentVolumeClaim> {
  const namespace = created.metadata!.namespace!;
  const name = created.metadata!.name!;
  const uid = created.metadata!.uid!;
  const started = Date.now();
  for (;;) {
    const claim = await clients.core.readNamespacedPersistentVolumeClaim({ namespace, name });
    const phase = claim.status?.phase ?? 'Pending';
    if (phase === 'Bound') return claim;
    if (phase === 'Lost') throw new Error(`PersistentVolumeClaim ${namespace}/${name} is Lost: its volume is gone`);
    const events = (await clients.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.uid=${uid}` })).items;
    const failure = events
      .filter((event) => event.reason === 'ProvisioningFailed')
      .sort((a, b) => String(a.lastTimestamp ?? a.eventTime ?? '').localeCompare(String(b.lastTimestamp ?? b.eventTime ?? '')))
      .at(-1);
    waiter.heartbeat({ pvc: name, phase, waitedMs: Date.now() - started, ...(failure ? { lastError: failure.message ?? '' } : {}) });
    if (failure && (failure.count ?? 1) >= FAILURES_BEFORE_GIVING_UP) {
      throw new Error(`PersistentVolumeClaim ${namespace}/${name} cannot be provisioned (${failure.count} attempts): ${failure.message}`);
    }
    await pause(500, waiter.signal, `cancelled while waiting for PersistentVolumeClaim ${namespace}/${name} to be Bound (${phase}${failure ? `: ${failure.message}` : ''})`);
  }
}
