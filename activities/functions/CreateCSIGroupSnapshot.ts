/**
 * CreateCSIGroupSnapshot: one snapshot across several PVCs. Where the cluster serves
 * groupsnapshot.storage.k8s.io/v1 and has a VolumeGroupSnapshotClass for the PVCs' driver, a
 * VolumeGroupSnapshot: the driver cuts all volumes at one instant. Elsewhere (or with
 * `method: VolumeSnapshots`), one VolumeSnapshot per PVC, all requested at once and tied by a label: those cuts
 * are close together but not one instant, so the blueprint's quiesce phases must bracket this phase.
 *
 * A VolumeGroupSnapshot selects PVCs by label, so each PVC gets a label of this group's own for the duration
 * of the phase. Retries find the group (or the snapshots) of the earlier attempt by name and mark.
 */
import {
  CREATED_BY_ANNOTATION,
  deleteQuietly,
  isConflict,
  apiMessage,
  MANAGED_BY_LABELS,
  requireBoundClaim,
  SNAPSHOT_API,
  GROUP_SNAPSHOT_API,
  type VolumeSnapshot,
  type Waiter,
} from '../kube/snapshots.ts';
import {
  findClass,
  GROUP_LABEL,
  GROUP_NAME_ANNOTATION,
  groupLabelValue,
  groupMembers,
  groupSnapshotApiServed,
  labelledMembers,
  memberSnapshotName,
  readGroupSnapshot,
  selectionLabel,
  waitForMembersReady,
  type VolumeGroupSnapshot,
} from '../kube/group-snapshots.ts';
import type { KubeClients } from '../../src/kube/clients.ts';
import * as k8s from '@kubernetes/client-node';
import { PermanentFunctionError, type CairnFunction, type FunctionContext, type FunctionOutputs } from './types.ts';

type Method = 'VolumeGroupSnapshot' | 'VolumeSnapshots';

interface Group {
  clients: KubeClients;
  namespace: string;
  name: string;
  pvcs: string[];
  owner: string;
  labels: Record<string, string>;
  waiter: Waiter;
  log: FunctionContext['log'];
}

export const CreateCSIGroupSnapshot: CairnFunction = {
  name: 'CreateCSIGroupSnapshot',
  async run({ args, kube, heartbeat, signal, resourceName, log }) {
    const pvcs = [...new Set(typeof args.pvcs === 'string' ? args.pvcs.split(/[\s,]+/) : (args.pvcs as string[]).map(String))].filter(Boolean);
    if (pvcs.length === 0) throw new PermanentFunctionError('pvcs: no PVC named');
    const clients = kube();
    const group: Group = {
      clients,
      namespace: String(args.namespace),
      name: args.name === undefined ? resourceName('group') : String(args.name),
      pvcs,
      owner: resourceName('phase'),
      labels: { ...MANAGED_BY_LABELS, ...((args.labels ?? {}) as Record<string, string>) },
      waiter: { signal, heartbeat },
      log,
    };
    const wanted = String(args.method ?? 'auto');
    const apiServed = await groupSnapshotApiServed(clients);

    // What an earlier attempt made decides the method.
    const earlierGroup = apiServed ? await readGroupSnapshot(clients, group.namespace, group.name) : undefined;
    if (earlierGroup) {
      requireOwn(earlierGroup.metadata.annotations, group, `VolumeGroupSnapshot ${group.namespace}/${group.name}`);
      log('found the group snapshot of an earlier attempt', { group: group.name });
      return viaGroupSnapshot(group, undefined);
    }
    const earlierSnapshots = await labelledMembers(clients, group.namespace, group.name);
    if (earlierSnapshots.length > 0) {
      for (const snapshot of earlierSnapshots) requireOwn(snapshot.metadata.annotations, group, `VolumeSnapshot ${group.namespace}/${snapshot.metadata.name}`);
      log('found the snapshots of an earlier attempt', { group: group.name, snapshots: earlierSnapshots.length });
      return viaSnapshots(group, earlierSnapshots[0]!.spec.volumeSnapshotClassName);
    }

    // Nothing yet: every PVC is checked before anything is created.
    const claims = await Promise.all(pvcs.map((pvc) => requireBoundClaim(clients, group.namespace, pvc, 'pvcs')));
    const drivers = [...new Set(claims.map((claim) => claim.driver ?? '(not CSI)'))];
    if (drivers.length !== 1 || drivers[0] === '(not CSI)') {
      throw new PermanentFunctionError(`pvcs: one group snapshot needs PVCs of one CSI driver; these are on ${claims.map((c) => `${c.claim.metadata?.name}: ${c.driver ?? 'not CSI'}`).join(', ')}`);
    }
    const driver = drivers[0]!;
    const namedGroupClass = args.groupSnapshotClass === undefined ? undefined : String(args.groupSnapshotClass);
    if (wanted !== 'VolumeSnapshots') {
      if (!apiServed && (wanted === 'VolumeGroupSnapshot' || namedGroupClass)) {
        throw new PermanentFunctionError(`the cluster does not serve ${GROUP_SNAPSHOT_API.group}/${GROUP_SNAPSHOT_API.version}: no VolumeGroupSnapshot can be taken (method: VolumeSnapshots takes one snapshot per PVC)`);
      }
      const groupClass = apiServed ? await findClass(clients, 'VolumeGroupSnapshotClass', namedGroupClass, driver, 'groupSnapshotClass') : undefined;
      if (groupClass) return viaGroupSnapshot(group, groupClass);
      if (wanted === 'VolumeGroupSnapshot') throw new PermanentFunctionError(`groupSnapshotClass: not given, and driver ${driver} has no default VolumeGroupSnapshotClass`);
    }
    const snapshotClass = await findClass(clients, 'VolumeSnapshotClass', args.snapshotClass === undefined ? undefined : String(args.snapshotClass), driver, 'snapshotClass');
    if (!snapshotClass) throw new PermanentFunctionError(`snapshotClass: not given, and driver ${driver} has no default VolumeSnapshotClass`);
    return viaSnapshots(group, snapshotClass);
  },
};

function requireOwn(annotations: Record<string, string> | undefined, group: Group, what: string): void {
  if (annotations?.[CREATED_BY_ANNOTATION] !== group.owner) throw new PermanentFunctionError(`${what} already exists and was not created by this phase; choose another name`);
}

/** `groupClass` undefined: the VolumeGroupSnapshot exists already (a retry). */
async function viaGroupSnapshot(group: Group, groupClass: string | undefined): Promise<FunctionOutputs> {
  const { clients, namespace, name, pvcs, waiter } = group;
  const what = `VolumeGroupSnapshot ${namespace}/${name}`;
  const selection = selectionLabel(namespace, name);
  let owned = groupClass === undefined;
  try {
    if (groupClass !== undefined) {
      await labelClaims(clients, namespace, pvcs, selection, 'true');
      const body: VolumeGroupSnapshot = {
        apiVersion: `${GROUP_SNAPSHOT_API.group}/${GROUP_SNAPSHOT_API.version}`,
        kind: 'VolumeGroupSnapshot',
        metadata: { name, namespace, labels: group.labels, annotations: { [CREATED_BY_ANNOTATION]: group.owner } },
        spec: { volumeGroupSnapshotClassName: groupClass, source: { selector: { matchLabels: { [selection]: 'true' } } } },
      };
      try {
        await clients.custom.createNamespacedCustomObject({ ...GROUP_SNAPSHOT_API, namespace, plural: 'volumegroupsnapshots', body });
        owned = true;
        group.log('group snapshot created', { group: name, pvcs: pvcs.join(',') });
      } catch (error) {
        if (!isConflict(error)) throw new Error(`cannot create ${what}: ${apiMessage(error)}`);
        requireOwn((await readGroupSnapshot(clients, namespace, name))?.metadata.annotations, group, what);
        owned = true;
      }
    }
    const members = await waitForMembersReady(
      what,
      pvcs.length,
      async () => {
        const current = await readGroupSnapshot(clients, namespace, name);
        if (!current) throw new Error(`${what} disappeared while it was being taken`);
        return { groupStatus: current.status ?? {}, members: await groupMembers(clients, namespace, name) };
      },
      waiter,
    );
    const outputs = describe(group, 'VolumeGroupSnapshot', members);
    await labelClaims(clients, namespace, pvcs, selection, null);
    return outputs;
  } catch (error) {
    // The members go with the group (owner references); the selection labels go too.
    if (owned) await deleteQuietly(what, () => clients.custom.deleteNamespacedCustomObject({ ...GROUP_SNAPSHOT_API, namespace, plural: 'volumegroupsnapshots', name }), group.log);
    await labelClaims(clients, namespace, pvcs, selection, null).catch(() => undefined);
    throw error;
  }
}

/** `snapshotClass`: for the snapshots still to create (a retry may find some made already). */
async function viaSnapshots(group: Group, snapshotClass: string | undefined): Promise<FunctionOutputs> {
  const { clients, namespace, name, pvcs, waiter } = group;
  const what = `group ${namespace}/${name} (one VolumeSnapshot per PVC)`;
  const existing = await labelledMembers(clients, namespace, name);
  const missing = pvcs.filter((pvc) => !existing.some((snapshot) => snapshot.spec.source.persistentVolumeClaimName === pvc));
  try {
    if (missing.length > 0) await Promise.all(missing.map((pvc) => requireBoundClaim(clients, namespace, pvc, 'pvcs')));
    // All requested at once: the driver takes them back to back, within the quiesce that brackets this phase.
    await Promise.all(
      missing.map(async (pvc) => {
        const snapshotName = memberSnapshotName(name, pvc);
        const body: VolumeSnapshot = {
          apiVersion: `${SNAPSHOT_API.group}/${SNAPSHOT_API.version}`,
          kind: 'VolumeSnapshot',
          metadata: {
            name: snapshotName,
            namespace,
            labels: { ...group.labels, [GROUP_LABEL]: groupLabelValue(name) },
            annotations: { [CREATED_BY_ANNOTATION]: group.owner, [GROUP_NAME_ANNOTATION]: name },
          },
          spec: { ...(snapshotClass ? { volumeSnapshotClassName: snapshotClass } : {}), source: { persistentVolumeClaimName: pvc } },
        };
        try {
          await clients.custom.createNamespacedCustomObject({ ...SNAPSHOT_API, namespace, plural: 'volumesnapshots', body });
        } catch (error) {
          if (!isConflict(error)) throw new Error(`cannot create VolumeSnapshot ${namespace}/${snapshotName}: ${apiMessage(error)}`);
          throw new PermanentFunctionError(`VolumeSnapshot ${namespace}/${snapshotName} already exists and is not part of group ${name}; choose another name`);
        }
      }),
    );
    if (missing.length > 0) group.log('group snapshots created', { group: name, pvcs: missing.join(',') });
    const members = await waitForMembersReady(what, pvcs.length, async () => ({ members: await labelledMembers(clients, namespace, name) }), waiter);
    return describe(group, 'VolumeSnapshots', members);
  } catch (error) {
    for (const snapshot of await labelledMembers(clients, namespace, name).catch(() => [])) {
      const member = snapshot.metadata.name!;
      await deleteQuietly(`VolumeSnapshot ${namespace}/${member}`, () => clients.custom.deleteNamespacedCustomObject({ ...SNAPSHOT_API, namespace, plural: 'volumesnapshots', name: member }), group.log);
    }
    throw error;
  }
}

/** The outputs, after checking that the members are exactly the PVCs asked for. */
function describe(group: Group, method: Method, members: VolumeSnapshot[]): FunctionOutputs {
  const snapshots: Record<string, string> = {};
  const restoreSizes: Record<string, string> = {};
  for (const member of members) {
    const pvc = member.spec.source.persistentVolumeClaimName ?? '';
    snapshots[pvc] = member.metadata.name!;
    restoreSizes[pvc] = member.status?.restoreSize ?? '';
  }
  const got = Object.keys(snapshots).sort();
  const asked = [...group.pvcs].sort();
  if (got.join('\n') !== asked.join('\n')) {
    throw new Error(`group ${group.namespace}/${group.name} holds snapshots of ${got.join(', ')}, not of ${asked.join(', ')}`);
  }
  return { name: group.name, namespace: group.namespace, method, snapshots, restoreSizes };
}

/** Sets (or, with null, removes) the selection label on each PVC: a merge patch, so nothing else changes. */
async function labelClaims(clients: KubeClients, namespace: string, pvcs: string[], key: string, value: string | null): Promise<void> {
  for (const name of pvcs) {
    await clients.core.patchNamespacedPersistentVolumeClaim(
      { namespace, name, body: { metadata: { labels: { [key]: value } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
  }
}
