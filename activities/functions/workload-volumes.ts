/**
 * The target's pods and their PVCs, for the functions that work over a workload's pods (BackupDataAll,
 * RestoreDataAll, PrepareData) whatever their templates read: the phase's context describes the target only
 * when a template reads it, so it is read here when the context has not. A pod's PVCs and mount paths come
 * from the pod when it exists, else from the workload's pod template (after a scale to zero, as a restore
 * wants it): a StatefulSet pod `<set>-<n>` has `<claim template>-<set>-<n>`, as the controller names them.
 */
import type * as k8s from '@kubernetes/client-node';
import { isNotFound } from '../../src/kube/clients.ts';
import type { TargetContext } from '../../src/template/context.ts';
import { describeTarget } from '../context.ts';
import { PermanentFunctionError, type FunctionContext } from './types.ts';

export async function targetOf(context: FunctionContext): Promise<TargetContext> {
  const target = context.template.Target;
  if (Object.keys(target.object ?? {}).length > 0) return target;
  return describeTarget({ kind: target.kind, namespace: target.namespace, name: target.name }, context.kube);
}

/** Kanister's `pods` arg: a space-separated string (`strings.Fields`) or a list; empty when not given. */
export function podsArg(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.map(String).filter((pod) => pod !== '');
  return String(value).split(/\s+/).filter((pod) => pod !== '');
}

/** PVC name → mount path for the pod `pod` of the target, as Kanister's `PersistentVolumeClaims[pod]`. */
export async function podVolumes(context: FunctionContext, namespace: string, pod: string, target: TargetContext): Promise<Record<string, string>> {
  let spec: k8s.V1PodSpec | undefined;
  try {
    spec = (await context.kube().core.readNamespacedPod({ namespace, name: pod })).spec;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const claims = spec ? claimsOf(spec, () => undefined) : fromWorkload(target, pod);
  if (Object.keys(claims).length === 0) {
    throw new PermanentFunctionError(`pod ${namespace}/${pod} ${spec ? 'mounts no PVC' : `does not exist and the target ${target.kind} ${target.name} has no pod template with PVCs to derive its volumes from`}`);
  }
  return claims;
}

function fromWorkload(target: TargetContext, pod: string): Record<string, string> {
  const workload = target.object as { spec?: { template?: { spec?: k8s.V1PodSpec }; volumeClaimTemplates?: { metadata?: { name?: string } }[] } };
  const template = workload.spec?.template?.spec;
  if (!template) return {};
  const claimTemplates = new Set((workload.spec?.volumeClaimTemplates ?? []).map((t) => t.metadata?.name).filter((name): name is string => !!name));
  if (target.kind === 'StatefulSet' && !pod.startsWith(`${target.name}-`)) return {};
  return claimsOf(template, (volume) => (target.kind === 'StatefulSet' && claimTemplates.has(volume) ? `${volume}-${pod}` : undefined));
}

/** Claims of a pod spec with the mount path of the first container that mounts each; `templated` names claims from templates. */
function claimsOf(spec: k8s.V1PodSpec, templated: (volume: string) => string | undefined): Record<string, string> {
  const claimOf = new Map<string, string>();
  for (const volume of spec.volumes ?? []) if (volume.persistentVolumeClaim) claimOf.set(volume.name, volume.persistentVolumeClaim.claimName);
  const claims: Record<string, string> = {};
  for (const container of [...spec.containers, ...(spec.initContainers ?? [])]) {
    for (const mount of container.volumeMounts ?? []) {
      const claim = claimOf.get(mount.name) ?? templated(mount.name);
      if (claim && !(claim in claims)) claims[claim] = mount.mountPath;
    }
  }
  return claims;
}
