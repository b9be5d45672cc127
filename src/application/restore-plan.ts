/**
 * Pure decisions of restoreApplication (workflow code imports this file): which transforms apply, where the
 * application lands, which components and resources a (single-item) restore covers.
 */
import type { ComponentRestorePoint, RestorePoint } from '../location/restore-point.ts';
import type { ApplicationRestoreInput, ComponentSpec, ResourceItem, TransformSpec } from './types.ts';

/** The restore's transforms over the stored spec's: maps merged key by key, lists appended, the restore's value winning. */
export function mergeTransforms(base: TransformSpec = {}, over: TransformSpec = {}): TransformSpec {
  const merged: TransformSpec = { ...base, ...over };
  const record = <K extends 'namespaces' | 'storageClasses' | 'ingressHosts'>(key: K) => {
    if (base[key] || over[key]) merged[key] = { ...base[key], ...over[key] };
  };
  record('namespaces');
  record('storageClasses');
  record('ingressHosts');
  for (const key of ['labels', 'annotations'] as const) {
    if (base[key] || over[key]) {
      merged[key] = {
        ...(base[key]?.set || over[key]?.set ? { set: { ...base[key]?.set, ...over[key]?.set } } : {}),
        ...(base[key]?.remove || over[key]?.remove ? { remove: [...(base[key]?.remove ?? []), ...(over[key]?.remove ?? [])] } : {}),
      };
    }
  }
  if (base.patches || over.patches) merged.patches = [...(base.patches ?? []), ...(over.patches ?? [])];
  if (base.services || over.services) {
    merged.services = {
      ...base.services,
      ...over.services,
      ...(base.services?.type || over.services?.type ? { type: { ...base.services?.type, ...over.services?.type } } : {}),
      ...(base.services?.removeAnnotations || over.services?.removeAnnotations
        ? { removeAnnotations: [...(base.services?.removeAnnotations ?? []), ...(over.services?.removeAnnotations ?? [])] }
        : {}),
    };
  }
  return merged;
}

export interface ComponentPlan {
  name: string;
  spec: ComponentSpec;
  stored?: ComponentRestorePoint;
  /** Its workload as captured (source namespace), when the resources hold it. */
  workloadItem?: ResourceItem;
  /** Dependencies inside this restore (a single-component restore assumes the others are in place). */
  dependsOn: string[];
}

export interface RestorePlan {
  sourceNamespace: string;
  targetNamespace: string;
  transforms: TransformSpec;
  components: ComponentPlan[];
  /** Stage filters for restoreResources: absent = the whole stage, [] = skip the stage. */
  foundationOnly?: ResourceItem[];
  restOnly?: ResourceItem[];
  /** Every component's workload: the `rest` stage leaves them to the components. */
  componentWorkloads: ResourceItem[];
}

export function planRestore(point: RestorePoint, input: ApplicationRestoreInput): RestorePlan {
  const spec = point.spec;
  if (!spec) throw new Error(`restore point ${point.id} of ${point.application} holds no Application spec`);
  const sourceNamespace = spec.spec.namespace;
  const transforms = mergeTransforms(spec.spec.transforms, input.transforms);
  if (input.targetNamespace) transforms.namespaces = { ...transforms.namespaces, [sourceNamespace]: input.targetNamespace };
  const targetNamespace = transforms.namespaces?.[sourceNamespace] ?? sourceNamespace;
  const items = point.resources?.items ?? [];
  const workloadOf = (component: ComponentSpec) =>
    items.find((item) => item.kind === component.workload.kind && item.name === component.workload.name && (item.namespace ?? sourceNamespace) === sourceNamespace);

  const wanted = input.only?.components;
  const unknown = (wanted ?? []).filter((name) => !spec.spec.components.some((c) => c.name === name));
  if (unknown.length) throw new Error(`no component ${unknown.map((n) => `"${n}"`).join(', ')} in ${point.application} (it has ${spec.spec.components.map((c) => c.name).join(', ')})`);
  const single = input.only !== undefined;
  const chosen = spec.spec.components.filter((c) => !single || (wanted ?? []).includes(c.name));
  const chosenNames = new Set(chosen.map((c) => c.name));
  const components = chosen.map((component): ComponentPlan => {
    const stored = point.components?.find((c) => c.name === component.name);
    const workloadItem = workloadOf(component);
    return {
      name: component.name,
      spec: component,
      ...(stored ? { stored } : {}),
      ...(workloadItem ? { workloadItem } : {}),
      dependsOn: (component.dependsOn ?? []).filter((d) => chosenNames.has(d)),
    };
  });
  const componentWorkloads = spec.spec.components.map(workloadOf).filter((item): item is ResourceItem => item !== undefined);
  const only = input.only?.resources;
  return {
    sourceNamespace,
    targetNamespace,
    transforms,
    components,
    ...(single ? { foundationOnly: only ?? [], restOnly: only ?? [] } : {}),
    componentWorkloads,
  };
}

/** `<kind>/<namespace>/<name>` of a component's workload, as runAction takes it. */
export function workloadTarget(component: ComponentSpec, namespace: string): string {
  return `${component.workload.kind.toLowerCase()}/${namespace}/${component.workload.name}`;
}
