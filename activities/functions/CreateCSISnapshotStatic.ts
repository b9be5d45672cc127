/**
 * CreateCSISnapshotStatic (Kanister's name and args): a VolumeSnapshot `namespace/name` of a storage snapshot
 * that already exists (`snapshotHandle` of CSI driver `driver`), through a pre-provisioned
 * VolumeSnapshotContent bound to it, as the snapshot controller's static provisioning works; waits until it
 * is ready to use. The content takes the class's deletionPolicy, as Kanister's does: under `Delete`, deleting
 * the VolumeSnapshot later deletes the storage snapshot too. Both objects carry the phase's mark, so a retried
 * attempt adopts them and never someone else's; if the snapshot never becomes ready, both are removed again
 * without touching the storage snapshot (the content is set to Retain first).
 */
import * as k8s from '@kubernetes/client-node';
import {
  apiMessage,
  CREATED_BY_ANNOTATION,
  isConflict,
  MANAGED_BY_LABELS,
  readSnapshot,
  readSnapshotContent,
  requireSnapshotClass,
  SNAPSHOT_API,
  waitForSnapshotReady,
  type VolumeSnapshot,
} from '../kube/snapshots.ts';
import { isNotFound, type KubeClients } from '../../src/kube/clients.ts';
import { PermanentFunctionError, type CairnFunction } from './types.ts';

export const CreateCSISnapshotStatic: CairnFunction = {
  name: 'CreateCSISnapshotStatic',
  async run({ args, kube, heartbeat, signal, resourceName, log }) {
    const name = String(args.name);
    const namespace = String(args.namespace);
    const driver = String(args.driver);
    const snapshotHandle = String(args.snapshotHandle);
    const owner = resourceName('phase');
    const contentName = resourceName('snapshot-content');
    const clients = kube();
    const what = `VolumeSnapshot ${namespace}/${name}`;

    let snapshot = await readSnapshot(clients, namespace, name);
    if (snapshot && snapshot.metadata.annotations?.[CREATED_BY_ANNOTATION] !== owner) {
      throw new PermanentFunctionError(`${what} already exists and was not created by this phase; choose another name`);
    }
    if (!snapshot) {
      const snapshotClass = await requireSnapshotClass(clients, String(args.snapshotClass));
      if (snapshotClass.driver !== driver) throw new PermanentFunctionError(`VolumeSnapshotClass "${snapshotClass.name}" is for driver ${snapshotClass.driver}, not ${driver}`);
      const deletionPolicy = await classDeletionPolicy(clients, snapshotClass.name);
      await createContent(clients, {
        apiVersion: 'snapshot.storage.k8s.io/v1',
        kind: 'VolumeSnapshotContent',
        metadata: { name: contentName, labels: { ...MANAGED_BY_LABELS }, annotations: { [CREATED_BY_ANNOTATION]: owner } },
        spec: { deletionPolicy, driver, source: { snapshotHandle }, volumeSnapshotClassName: snapshotClass.name, volumeSnapshotRef: { kind: 'VolumeSnapshot', name, namespace } },
      }, owner);
      const body: VolumeSnapshot = {
        apiVersion: 'snapshot.storage.k8s.io/v1',
        kind: 'VolumeSnapshot',
        metadata: { name, namespace, labels: { ...MANAGED_BY_LABELS }, annotations: { [CREATED_BY_ANNOTATION]: owner } },
        spec: { volumeSnapshotClassName: snapshotClass.name, source: { volumeSnapshotContentName: contentName } },
      };
      try {
        snapshot = (await clients.custom.createNamespacedCustomObject({ ...SNAPSHOT_API, namespace, plural: 'volumesnapshots', body })) as VolumeSnapshot;
        log('pre-provisioned snapshot created', { snapshot: name, content: contentName });
      } catch (error) {
        if (!isConflict(error)) throw new Error(`cannot create ${what}: ${apiMessage(error)}`);
        throw new PermanentFunctionError(`${what} was created by someone else meanwhile; choose another name`);
      }
    } else {
      log('found the snapshot of an earlier attempt', { snapshot: name });
    }
    const bound = snapshot.spec.source.volumeSnapshotContentName;
    if (bound !== contentName) throw new PermanentFunctionError(`${what} of this phase refers to VolumeSnapshotContent ${bound ?? '(none)'}, not ${contentName}`);
    heartbeat({ snapshot: name, content: contentName });

    try {
      snapshot = await waitForSnapshotReady(clients, namespace, name, { signal, heartbeat });
    } catch (error) {
      await removeWithoutStorage(clients, namespace, name, contentName, log);
      throw error;
    }
    return { name, namespace, restoreSize: snapshot.status?.restoreSize ?? '', snapshotContent: snapshot.status?.boundVolumeSnapshotContentName ?? contentName };
  },
};

async function classDeletionPolicy(clients: KubeClients, className: string): Promise<string> {
  const found = (await clients.custom.getClusterCustomObject({ ...SNAPSHOT_API, plural: 'volumesnapshotclasses', name: className })) as { deletionPolicy?: string };
  return found.deletionPolicy ?? 'Delete';
}

async function createContent(clients: KubeClients, body: { metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> }; [key: string]: unknown }, owner: string): Promise<void> {
  try {
    await clients.custom.createClusterCustomObject({ ...SNAPSHOT_API, plural: 'volumesnapshotcontents', body });
  } catch (error) {
    if (!isConflict(error)) throw new Error(`cannot create VolumeSnapshotContent ${body.metadata.name}: ${apiMessage(error)}`);
    const existing = await readSnapshotContent(clients, body.metadata.name);
    if (existing?.metadata.annotations?.[CREATED_BY_ANNOTATION] !== owner) {
      throw new PermanentFunctionError(`VolumeSnapshotContent ${body.metadata.name} exists and was not created by this phase`);
    }
  }
}

/** After a failure: the phase's objects go, the storage snapshot stays (it existed before the phase). */
async function removeWithoutStorage(clients: KubeClients, namespace: string, name: string, contentName: string, log: (message: string, fields?: Record<string, unknown>) => void): Promise<void> {
  const quietly = async (what: string, work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (error) {
      if (!isNotFound(error)) log(`could not ${what} after the failure`, { error: apiMessage(error) });
    }
  };
  await quietly('set the content to Retain', () =>
    clients.custom.patchClusterCustomObject({ ...SNAPSHOT_API, plural: 'volumesnapshotcontents', name: contentName, body: { spec: { deletionPolicy: 'Retain' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)),
  );
  await quietly('delete the snapshot', () => clients.custom.deleteNamespacedCustomObject({ ...SNAPSHOT_API, namespace, plural: 'volumesnapshots', name }));
  await quietly('delete the content', () => clients.custom.deleteClusterCustomObject({ ...SNAPSHOT_API, plural: 'volumesnapshotcontents', name: contentName }));
}
