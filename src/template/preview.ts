/**
 * A template context for previews (`cairn render`): what is known before the run (target, namespace,
 * options, anything given with --context) is real; everything else is a placeholder that renders as
 * `<runtime:Phases.dump.Output.snapshotID>`, so a preview shows where run-time values will go without
 * touching the cluster or any Secret.
 */
import type { JsonObject } from '../json.ts';
import type { TargetRef } from '../target.ts';

export const RUNTIME_VALUE = Symbol('cairn.runtimeValue');

export function runtimeLabel(value: unknown): string | undefined {
  if ((typeof value === 'object' || typeof value === 'function') && value !== null) {
    const label = (value as { [RUNTIME_VALUE]?: unknown })[RUNTIME_VALUE];
    if (typeof label === 'string') return label;
  }
  return undefined;
}

/** A value known only at run time: any property of it is another such value. */
export function runtimePlaceholder(path: string): object {
  const label = `<runtime:${path}>`;
  const render = () => label;
  return new Proxy(Object.create(null) as object, {
    get(_target, property) {
      if (property === RUNTIME_VALUE) return label;
      if (property === 'toString' || property === 'toJSON' || property === Symbol.toPrimitive) return render;
      if (typeof property === 'symbol') return undefined;
      return runtimePlaceholder(`${path}.${property}`);
    },
    has: (_target, property) => typeof property === 'string',
    getOwnPropertyDescriptor: (_target, property) =>
      typeof property === 'string' ? { configurable: true, enumerable: true, writable: false, value: runtimePlaceholder(`${path}.${property}`) } : undefined,
    ownKeys: () => [],
  });
}

export interface PreviewInput {
  target: TargetRef;
  options: JsonObject;
  /** Partial context from `--context file.json`, merged over the defaults. */
  known?: JsonObject;
}

export function previewContext(input: PreviewInput): Record<string, unknown> {
  const { target, options, known = {} } = input;
  const targetKnown = (known.Target ?? {}) as JsonObject;
  const base: Record<string, unknown> = {
    Target: {
      kind: target.kind,
      namespace: target.namespace,
      name: target.name,
      pods: targetKnown.pods ?? runtimePlaceholder('Target.pods'),
      containers: targetKnown.containers ?? runtimePlaceholder('Target.containers'),
      pvcs: targetKnown.pvcs ?? runtimePlaceholder('Target.pvcs'),
      object: targetKnown.object ?? runtimePlaceholder('Target.object'),
    },
    Object: known.Object ?? targetKnown.object ?? runtimePlaceholder('Object'),
    Namespace: target.namespace,
    Phases: known.Phases ?? runtimePlaceholder('Phases'),
    ArtifactsIn: known.ArtifactsIn ?? runtimePlaceholder('ArtifactsIn'),
    Profile: known.Profile ?? runtimePlaceholder('Profile'),
    Options: { ...((known.Options ?? {}) as JsonObject), ...options },
    Time: known.Time ?? runtimePlaceholder('Time'),
  };
  return base;
}
