import { createHash } from 'node:crypto';
import { MAIN_CLUSTER, type ClusterSpec } from '../../../scripts/stack/clusters.ts';

type AddressRange = ClusterSpec['podAddresses'];

/**
 * Every pod the runtime plays gets an address of its own in 127.64.0.0/10 (a second cluster's runtime: its own
 * range, scripts/stack/clusters.ts): Linux answers on all of 127.0.0.0/8 without configuration, so servers in different pods can all listen on their standard ports
 * (5432, 3306, …) and a Service name can resolve to an address instead of needing a port rewrite.
 * The address is derived from namespace/name, so a StatefulSet's pod gets the same one back after a
 * scale-down (etcd keeps its peer URL in its data, clients keep working) and a test can predict it.
 */
export function preferredLoopbackIp(namespace: string, name: string, attempt = 0, range: AddressRange = MAIN_CLUSTER.podAddresses): string {
  const digest = createHash('sha256').update(`${namespace}/${name}/${attempt}`).digest();
  // A second cluster's runtime uses a disjoint range (its ClusterSpec), so the same pod can run in both.
  const second = range.first + (digest[0]! & (range.count - 1));
  const third = digest[1]!;
  const fourth = 1 + (digest[2]! % 254);
  return `127.${second}.${third}.${fourth}`;
}

/** Hands out the preferred address unless another live pod holds it, then the next candidate. */
export class LoopbackIpAllocator {
  private readonly owners = new Map<string, string>();

  constructor(private readonly range: AddressRange = MAIN_CLUSTER.podAddresses) {}

  allocate(namespace: string, name: string, owner: string): string {
    for (let attempt = 0; ; attempt++) {
      const ip = preferredLoopbackIp(namespace, name, attempt, this.range);
      const current = this.owners.get(ip);
      if (current === undefined || current === owner) {
        this.owners.set(ip, owner);
        return ip;
      }
    }
  }

  release(ip: string, owner: string): void {
    if (this.owners.get(ip) === owner) this.owners.delete(ip);
  }
}
