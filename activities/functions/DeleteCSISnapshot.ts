/**
 * DeleteCSISnapshot (Kanister's name and args): deletes a VolumeSnapshot and waits until it is gone, and
 * with it, under a Delete policy, its VolumeSnapshotContent (so the storage really let go of the data). A
 * snapshot that is already gone is success: a retry, or a defer phase after a failed create, deletes nothing.
 * `group: true` takes the name a CreateCSIGroupSnapshot output and deletes the whole group; a member of a
 * VolumeGroupSnapshot cannot be deleted alone (the snapshot controller would hold it forever).
 */
import {
  deleteSnapshotAndWait,
  readSnapshot,
  readSnapshotContent,
  waitUntilGone,
} from '../kube/snapshots.ts';
import { deleteGroupAndWait } from '../kube/group-snapshots.ts';
import { PermanentFunctionError, type CairnFunction } from './types.ts';

export const DeleteCSISnapshot: CairnFunction = {
  name: 'DeleteCSISnapshot',
  async run({ args, kube, heartbeat, signal, log }) {
    const namespace = String(args.namespace);
    const name = String(args.name);
    const clients = kube();
    const waiter = { signal, heartbeat };

    if (args.group === true) {
      const deleted = await deleteGroupAndWait(clients, namespace, name, waiter);
      if (!deleted) log('group snapshot already gone', { group: name });
      return { name, namespace, deleted };
    }

    const snapshot = await readSnapshot(clients, namespace, name);
    if (!snapshot) {
      log('snapshot already gone', { snapshot: name });
      return { name, namespace, deleted: false };
    }
    const group = snapshot.status?.volumeGroupSnapshotName;
    if (group) {
      throw new PermanentFunctionError(`VolumeSnapshot ${namespace}/${name} belongs to VolumeGroupSnapshot ${group}: delete the group (name: ${group}, group: true)`);
    }
    const contentName = snapshot.status?.boundVolumeSnapshotContentName;
    const deleted = await deleteSnapshotAndWait(clients, namespace, name, waiter);
    if (contentName) {
      const content = await readSnapshotContent(clients, contentName);
      if (content?.spec.deletionPolicy === 'Delete') {
        await waitUntilGone(() => readSnapshotContent(clients, contentName), `VolumeSnapshotContent ${contentName}`, waiter);
      }
    }
    return { name, namespace, deleted };
  },
};
