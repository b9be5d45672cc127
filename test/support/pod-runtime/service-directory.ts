import type * as k8s from '@kubernetes/client-node';

/**
 * Service discovery without cluster DNS: every container's view has its own `/etc/hosts` (bind-mounted in its
 * mount namespace) naming each Service after the loopback address of a ready pod behind it. Since servers
 * listen on their pod's address at the container port, a client reaches `postgres:5432` as it would in a
 * cluster — as long as the Service's port equals its target port (there is no proxy to rewrite ports).
 * The kubelet's `<NAME>_SERVICE_HOST`/`_SERVICE_PORT` variables are given the same address.
 */
export interface PlayedPod {
  namespace: string;
  name: string;
  ip: string;
  labels: Record<string, string>;
  /** `spec.hostname` and `spec.subdomain` (a StatefulSet's pod: `<pod>.<headless service>`). */
  hostname?: string;
  subdomain?: string;
  ready: boolean;
}

const CLUSTER_DOMAIN = 'cluster.local';

function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/** The ready pods behind a Service, by name so the choice is stable. */
export function backingPods(service: k8s.V1Service, pods: PlayedPod[]): PlayedPod[] {
  return pods
    .filter((pod) => pod.ready && pod.namespace === service.metadata?.namespace && selects(service.spec?.selector, pod.labels))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** `/etc/hosts` for a pod in `namespace`: short Service names resolve in its own namespace only. */
export function hostsFile(self: PlayedPod, services: k8s.V1Service[], pods: PlayedPod[]): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
  const ownNames = [self.hostname ?? self.name];
  if (self.hostname && self.subdomain) ownNames.unshift(`${self.hostname}.${self.subdomain}.${self.namespace}.svc.${CLUSTER_DOMAIN}`);
  lines.push(`${self.ip}\t${ownNames.join(' ')}`);
  for (const service of services) {
    const name = service.metadata?.name;
    const namespace = service.metadata?.namespace;
    if (!name || !namespace) continue;
    const backing = backingPods(service, pods);
    if (backing.length === 0) continue;
    const names = [`${name}.${namespace}.svc.${CLUSTER_DOMAIN}`, `${name}.${namespace}.svc`, `${name}.${namespace}`];
    if (namespace === self.namespace) names.push(name);
    lines.push(`${backing[0]!.ip}\t${names.join(' ')}`);
    for (const pod of backing) {
      if (pod.subdomain === name && pod.hostname && pod !== self) {
        lines.push(`${pod.ip}\t${pod.hostname}.${name}.${namespace}.svc.${CLUSTER_DOMAIN} ${pod.hostname}.${name}.${namespace}.svc`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `<NAME>_SERVICE_HOST` and `<NAME>_SERVICE_PORT` for the Services of the pod's namespace that have a ready pod. */
export function serviceLinkEnv(namespace: string, services: k8s.V1Service[], pods: PlayedPod[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const service of services) {
    if (service.metadata?.namespace !== namespace || !service.metadata.name) continue;
    const backing = backingPods(service, pods);
    if (backing.length === 0) continue;
    const prefix = service.metadata.name.toUpperCase().replaceAll('-', '_');
    env[`${prefix}_SERVICE_HOST`] = backing[0]!.ip;
    const port = service.spec?.ports?.[0];
    if (port) env[`${prefix}_SERVICE_PORT`] = String(typeof port.targetPort === 'number' ? port.targetPort : port.port);
  }
  return env;
}
