/**
 * DeleteCSISnapshotContent (Kanister's name and arg `name`): deletes a cluster-scoped VolumeSnapshotContent and
 * waits until it is gone (under a Delete policy the CSI driver deletes the storage snapshot first). One that
 * is already gone is success. A content still bound to an existing VolumeSnapshot is refused: deleting it
 * would leave that snapshot broken; delete the VolumeSnapshot (DeleteCSISnapshot) instead, or first.
 */
import { apiMessage, readSnapshot, readSnapshotContent, SNAPSHOT_API, waitUntilGone } from '../kube/snapshots.ts';
import { isNotFound } from '../../src/kube/clients.ts';
import { PermanentFunctionError, type CairnFunction } from './types.ts';

export const DeleteCSISnapshotContent: CairnFunction = {
  name: 'DeleteCSISnapshotContent',
  async run({ args, kube, heartbeat, signal, log }) {
    const name = String(args.name);
    const clients = kube();
    const content = await readSnapshotContent(clients, name);
    if (!content) {
      log('snapshot content already gone', { content: name });
      return { name, deleted: false };
    }
    const ref = (content.spec as { volumeSnapshotRef?: { name?: string; namespace?: string } }).volumeSnapshotRef;
    if (ref?.name && ref.namespace && !content.metadata.deletionTimestamp) {
      const snapshot = await readSnapshot(clients, ref.namespace, ref.name);
      const boundHere = snapshot && (snapshot.status?.boundVolumeSnapshotContentName === name || snapshot.spec.source.volumeSnapshotContentName === name);
      if (boundHere && !snapshot.metadata.deletionTimestamp) {
        throw new PermanentFunctionError(`VolumeSnapshotContent ${name} is bound to VolumeSnapshot ${ref.namespace}/${ref.name}, which still exists: delete that snapshot (DeleteCSISnapshot) instead`);
      }
    }
    try {
      await clients.custom.deleteClusterCustomObject({ ...SNAPSHOT_API, plural: 'volumesnapshotcontents', name });
    } catch (error) {
      if (!isNotFound(error)) throw new Error(`cannot delete VolumeSnapshotContent ${name}: ${apiMessage(error)}`);
    }
    await waitUntilGone(() => readSnapshotContent(clients, name), `VolumeSnapshotContent ${name}`, { signal, heartbeat });
    return { name, deleted: true };
  },
};
