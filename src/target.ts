/**
 * Targets are written `<kind>/<namespace>/<name>` everywhere (CLI, workflow inputs, docs), for example
 * `statefulset/shop/postgres`, and `namespace/<name>` for a whole namespace.
 */
export type WorkloadKind = 'StatefulSet' | 'Deployment' | 'PersistentVolumeClaim' | 'Namespace';

export const WORKLOAD_KINDS: readonly WorkloadKind[] = ['StatefulSet', 'Deployment', 'PersistentVolumeClaim', 'Namespace'];

export interface TargetRef {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

const KIND_BY_SPELLING: Record<string, WorkloadKind> = {
  statefulset: 'StatefulSet',
  sts: 'StatefulSet',
  deployment: 'Deployment',
  deploy: 'Deployment',
  persistentvolumeclaim: 'PersistentVolumeClaim',
  pvc: 'PersistentVolumeClaim',
  namespace: 'Namespace',
  ns: 'Namespace',
};

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export type TargetParseResult = { ok: true; target: TargetRef } | { ok: false; message: string };

export function parseTarget(text: string): TargetParseResult {
  const parts = text.split('/');
  const kind = KIND_BY_SPELLING[(parts[0] ?? '').toLowerCase()];
  const usage = 'write <kind>/<namespace>/<name> (kind: statefulset, deployment, pvc) or namespace/<name>';
  if (kind === undefined) return { ok: false, message: `unknown target kind "${parts[0] ?? ''}" in "${text}": ${usage}` };
  if (kind === 'Namespace') {
    if (parts.length !== 2) return { ok: false, message: `"${text}" is not a namespace target: ${usage}` };
    const name = parts[1]!;
    if (!DNS_LABEL.test(name) || name.length > 63) return { ok: false, message: `"${name}" is not a valid namespace name` };
    return { ok: true, target: { kind, namespace: name, name } };
  }
  if (parts.length !== 3) return { ok: false, message: `"${text}" is not a target: ${usage}` };
  const [, namespace, name] = parts as [string, string, string];
  if (!DNS_LABEL.test(namespace) || namespace.length > 63) return { ok: false, message: `"${namespace}" is not a valid namespace name` };
  if (!DNS_SUBDOMAIN.test(name) || name.length > 253) return { ok: false, message: `"${name}" is not a valid object name` };
  return { ok: true, target: { kind, namespace, name } };
}

export function formatTarget(target: TargetRef): string {
  if (target.kind === 'Namespace') return `namespace/${target.name}`;
  const kind = target.kind === 'PersistentVolumeClaim' ? 'pvc' : target.kind.toLowerCase();
  return `${kind}/${target.namespace}/${target.name}`;
}
