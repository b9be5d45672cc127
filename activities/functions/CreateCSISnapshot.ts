/**
 * CreateCSISnapshot (Kanister's name and args): a snapshot.storage.k8s.io/v1 VolumeSnapshot of a PVC, ready
 * to use before the phase ends unless `waitForReady: false`. The default name comes from the run and phase,
 * and every snapshot it creates carries that phase's mark, so a retried attempt picks up its own snapshot
 * instead of cutting a second one, and never adopts someone else's. The class and the PVC are checked before
 * anything is created; a snapshot that fails (status.error) is deleted, so a retry starts clean.
 */
import {
  apiMessage,
  CREATED_BY_ANNOTATION,
  deleteQuietly,
  isConflict,
  MANAGED_BY_LABELS,
  readSnapshot,
  requireBoundClaim,
  requireSameDriver,
  requireSnapshotClass,
  SNAPSHOT_API,
  waitForSnapshotReady,
  type VolumeSnapshot,
} from '../kube/snapshots.ts';
import { PermanentFunctionError, type CairnFunction } from './types.ts';

export const CreateCSISnapshot: CairnFunction = {
  name: 'CreateCSISnapshot',
  async run({ args, kube, heartbeat, signal, resourceName, log }) {
    const namespace = String(args.namespace);
    const pvc = String(args.pvc);
    const name = args.name === undefined ? resourceName(`${pvc}-snapshot`) : String(args.name);
    const owner = resourceName('phase');
    const clients = kube();
    const what = `VolumeSnapshot ${namespace}/${name}`;

    let snapshot = await readSnapshot(clients, namespace, name);
    if (snapshot) {
      requireOwn(snapshot, owner, pvc, what);
      log('found the snapshot of an earlier attempt', { snapshot: name });
    } else {
      const snapshotClass = await requireSnapshotClass(clients, String(args.snapshotClass));
      requireSameDriver(await requireBoundClaim(clients, namespace, pvc), snapshotClass, namespace);
      const body: VolumeSnapshot = {
        apiVersion: 'snapshot.storage.k8s.io/v1',
        kind: 'VolumeSnapshot',
        metadata: {
          name,
          namespace,
          labels: { ...MANAGED_BY_LABELS, ...((args.labels ?? {}) as Record<string, string>) },
          annotations: { [CREATED_BY_ANNOTATION]: owner },
        },
        spec: { volumeSnapshotClassName: snapshotClass.name, source: { persistentVolumeClaimName: pvc } },
      };
      try {
        snapshot = (await clients.custom.createNamespacedCustomObject({ ...SNAPSHOT_API, namespace, plural: 'volumesnapshots', body })) as VolumeSnapshot;
        log('snapshot created', { snapshot: name, pvc });
      } catch (error) {
        if (!isConflict(error)) throw new Error(`cannot create ${what}: ${apiMessage(error)}`);
        snapshot = await readSnapshot(clients, namespace, name);
        if (!snapshot) throw new Error(`cannot create ${what}: ${apiMessage(error)}`);
        requireOwn(snapshot, owner, pvc, what);
      }
    }
    heartbeat({ snapshot: name, pvc });

    if (args.waitForReady !== false) {
      try {
        snapshot = await waitForSnapshotReady(clients, namespace, name, { signal, heartbeat });
      } catch (error) {
        // Only this phase's own snapshot gets here (requireOwn above): a failed or abandoned cut is removed.
        await deleteQuietly(what, () => clients.custom.deleteNamespacedCustomObject({ ...SNAPSHOT_API, namespace, plural: 'volumesnapshots', name }), log);
        throw error;
      }
    }
    return {
      name,
      pvc,
      namespace,
      restoreSize: snapshot.status?.restoreSize ?? '',
      snapshotContent: snapshot.status?.boundVolumeSnapshotContentName ?? '',
    };
  },
};

function requireOwn(snapshot: VolumeSnapshot, owner: string, pvc: string, what: string): void {
  if (snapshot.metadata.annotations?.[CREATED_BY_ANNOTATION] !== owner) {
    throw new PermanentFunctionError(`${what} already exists and was not created by this phase; choose another name`);
  }
  const source = snapshot.spec.source.persistentVolumeClaimName;
  if (source !== pvc) throw new PermanentFunctionError(`${what} of this phase is of PVC ${source ?? '(none)'}, not ${pvc}`);
}
