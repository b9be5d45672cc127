/**
 * Builds a phase's template context from the live cluster: the target object, its running pods, their
 * containers and PVCs. Built afresh for every phase (pods may be gone after a scale to zero).
 */
import type * as k8s from '@kubernetes/client-node';
import { isNotFound, type KubeClients } from '../src/kube/clients.ts';
import type { JsonObject, JsonValue } from '../src/json.ts';
import type { ArtifactValue } from '../src/run/types.ts';
import type { TargetRef } from '../src/target.ts';
import type { PhaseContext, TargetContext, TemplateContext } from '../src/template/context.ts';
import { analyzeTemplate } from '../src/template/references.ts';

export interface ContextInput {
  target: TargetRef;
  /** False when no template of the phase reads Target or Object: the cluster is then not asked. */
  needsTarget?: boolean;
  runTime: string;
  options: JsonObject;
  phaseOutputs: Record<string, Record<string, JsonValue>>;
  artifacts: Record<string, ArtifactValue>;
}

export async function buildTemplateContext(input: ContextInput, kube: () => KubeClients): Promise<TemplateContext> {
  const targetContext = input.needsTarget === false ? emptyTarget(input.target) : await describeTarget(input.target, kube);
  const phases: Record<string, PhaseContext> = {};
  for (const [id, outputs] of Object.entries(input.phaseOutputs)) phases[id] = { Output: outputs, Secrets: {}, ConfigMaps: {} };
  const artifacts: TemplateContext['ArtifactsIn'] = {};
  for (const [name, artifact] of Object.entries(input.artifacts)) {
    artifacts[name] = { KeyValue: { ...artifact.KeyValue }, ...(artifact.KopiaSnapshot ? { KopiaSnapshot: artifact.KopiaSnapshot } : {}) };
  }
  return {
    Target: targetContext,
    Object: targetContext.object,
    Namespace: input.target.namespace,
    Phases: phases,
    ArtifactsIn: artifacts,
    Options: input.options,
    Time: input.runTime,
  };
}

/** A target that does not exist (yet: a restore may create it) has an empty object and no pods. */
function emptyTarget(target: TargetRef): TargetContext {
  return { kind: target.kind, namespace: target.namespace, name: target.name, pods: [], containers: {}, pvcs: {}, object: {} };
}

/** Whether any template among `values` reads the live target (`Target.pods`, `Object`, ...). */
export function readsTarget(values: unknown): boolean {
  let found = false;
  const visit = (value: unknown) => {
    if (found) return;
    if (typeof value === 'string') {
      found = analyzeTemplate(value).references.some((r) => r.parts[0] === 'Object' || (r.parts[0] === 'Target' && !['kind', 'namespace', 'name'].includes(r.parts[1] ?? '')));
    } else if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(visit);
  };
  visit(values);
  return found;
}

export async function describeTarget(target: TargetRef, kube: () => KubeClients): Promise<TargetContext> {
  const empty = emptyTarget(target);
  const { apps, core } = kube();
  try {
    let object: { metadata?: k8s.V1ObjectMeta; spec?: object } | undefined;
    let pods: k8s.V1Pod[] = [];
    if (target.kind === 'StatefulSet' || target.kind === 'Deployment') {
      const workload = target.kind === 'StatefulSet'
        ? await apps.readNamespacedStatefulSet({ name: target.name, namespace: target.namespace })
        : await apps.readNamespacedDeployment({ name: target.name, namespace: target.namespace });
      object = workload;
      const selector = labelSelector(workload.spec?.selector);
      if (selector) pods = (await core.listNamespacedPod({ namespace: target.namespace, labelSelector: selector })).items;
    } else if (target.kind === 'PersistentVolumeClaim') {
      object = await core.readNamespacedPersistentVolumeClaim({ name: target.name, namespace: target.namespace });
      pods = (await core.listNamespacedPod({ namespace: target.namespace })).items.filter((pod) =>
        (pod.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === target.name),
      );
    } else {
      object = await core.readNamespace({ name: target.name });
    }
    const running = pods
      .filter((pod) => pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp)
      .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    const containers: Record<string, string[]> = {};
    const pvcs: Record<string, string[]> = {};
    for (const pod of running) {
      const name = pod.metadata!.name!;
      containers[name] = (pod.spec?.containers ?? []).map((c) => c.name);
      pvcs[name] = (pod.spec?.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : []));
    }
    return { ...empty, pods: running.map((p) => p.metadata!.name!), containers, pvcs, object: JSON.parse(JSON.stringify(object)) as JsonObject };
  } catch (error) {
    if (isNotFound(error)) return empty;
    throw error;
  }
}

function labelSelector(selector: k8s.V1LabelSelector | undefined): string | undefined {
  if (!selector) return undefined;
  const parts = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`);
  for (const expression of selector.matchExpressions ?? []) {
    const values = (expression.values ?? []).join(',');
    if (expression.operator === 'In') parts.push(`${expression.key} in (${values})`);
    else if (expression.operator === 'NotIn') parts.push(`${expression.key} notin (${values})`);
    else if (expression.operator === 'Exists') parts.push(expression.key);
    else if (expression.operator === 'DoesNotExist') parts.push(`!${expression.key}`);
  }
  return parts.join(',') || undefined;
}
