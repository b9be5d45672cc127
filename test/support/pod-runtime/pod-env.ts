import type * as k8s from '@kubernetes/client-node';

/** Reads the Secrets and ConfigMaps a container's env refers to; `undefined` when the object does not exist. */
export interface EnvSources {
  secret(namespace: string, name: string): Promise<k8s.V1Secret | undefined>;
  configMap(namespace: string, name: string): Promise<k8s.V1ConfigMap | undefined>;
}

/** What the kubelet would call CreateContainerConfigError: a required Secret, ConfigMap or key is missing. */
export class ContainerConfigError extends Error {
  override name = 'ContainerConfigError';
}

export interface PodAddresses {
  /** The pod's loopback address (stands for status.podIP). */
  podIp: string;
  /** What status.hostIP stands for. */
  hostIp: string;
}

/**
 * A container's environment as the kubelet builds it: `envFrom` first, then `env` in order (later wins),
 * `$(VAR)` references to earlier variables expanded, values from Secrets, ConfigMaps and the downward API.
 */
export async function containerEnv(
  pod: k8s.V1Pod,
  container: k8s.V1Container,
  sources: EnvSources,
  addresses: PodAddresses,
): Promise<Record<string, string>> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const map = await sources.configMap(namespace, from.configMapRef.name ?? '');
      if (map === undefined) {
        if (from.configMapRef.optional) continue;
        throw new ContainerConfigError(`configmap "${from.configMapRef.name}" not found`);
      }
      for (const [key, value] of Object.entries(map.data ?? {})) env[prefix + key] = value;
    }
    if (from.secretRef) {
      const secret = await sources.secret(namespace, from.secretRef.name ?? '');
      if (secret === undefined) {
        if (from.secretRef.optional) continue;
        throw new ContainerConfigError(`secret "${from.secretRef.name}" not found`);
      }
      for (const [key, value] of Object.entries(secret.data ?? {})) env[prefix + key] = decodeSecretValue(value);
      for (const [key, value] of Object.entries(secret.stringData ?? {})) env[prefix + key] = value;
    }
  }
  for (const variable of container.env ?? []) {
    if (variable.valueFrom === undefined) {
      env[variable.name] = expandReferences(variable.value ?? '', env);
      continue;
    }
    const value = await valueFrom(pod, variable.valueFrom, sources, addresses);
    if (value !== undefined) env[variable.name] = value;
  }
  return env;
}

async function valueFrom(
  pod: k8s.V1Pod,
  source: k8s.V1EnvVarSource,
  sources: EnvSources,
  addresses: PodAddresses,
): Promise<string | undefined> {
  const namespace = pod.metadata?.namespace ?? 'default';
  if (source.secretKeyRef) {
    const { name, key, optional } = source.secretKeyRef;
    const secret = await sources.secret(namespace, name ?? '');
    const value = secret?.data?.[key] !== undefined ? decodeSecretValue(secret.data[key]) : secret?.stringData?.[key];
    if (value === undefined && !optional) {
      throw new ContainerConfigError(secret ? `key "${key}" not found in secret "${name}"` : `secret "${name}" not found`);
    }
    return value;
  }
  if (source.configMapKeyRef) {
    const { name, key, optional } = source.configMapKeyRef;
    const map = await sources.configMap(namespace, name ?? '');
    const value = map?.data?.[key];
    if (value === undefined && !optional) {
      throw new ContainerConfigError(map ? `key "${key}" not found in configmap "${name}"` : `configmap "${name}" not found`);
    }
    return value;
  }
  if (source.fieldRef) return fieldValue(pod, source.fieldRef.fieldPath, addresses);
  if (source.resourceFieldRef) return '0';
  return undefined;
}

/** The downward API's pod fields, with this runtime's addresses standing for the pod and host IPs. */
export function fieldValue(pod: k8s.V1Pod, fieldPath: string, addresses: PodAddresses): string {
  const labelOrAnnotation = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (labelOrAnnotation) {
    const map = labelOrAnnotation[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations;
    return map?.[labelOrAnnotation[2]!] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? 'default';
    case 'status.podIP':
    case 'status.podIPs':
      return addresses.podIp;
    case 'status.hostIP':
    case 'status.hostIPs':
      return addresses.hostIp;
    default:
      throw new ContainerConfigError(`unsupported fieldRef ${fieldPath}`);
  }
}

/** `$(NAME)` becomes the earlier variable's value, `$$(NAME)` the literal `$(NAME)`; unknown names stay as written. */
export function expandReferences(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (name === undefined) return '$';
    return env[name] ?? match;
  });
}

function decodeSecretValue(value: string): string {
  return Buffer.from(value, 'base64').toString('utf8');
}
