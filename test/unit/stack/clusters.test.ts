import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { clusterSpec, MAIN_CLUSTER, SECOND_CLUSTERS } from '../../../scripts/stack/clusters.ts';
import { clusterPaths, stackPaths } from '../../../scripts/stack/paths.ts';
import { LoopbackIpAllocator, preferredLoopbackIp } from '../../support/pod-runtime/loopback-ip.ts';

const dr = SECOND_CLUSTERS.dr!;
const octet = (ip: string) => Number(ip.split('.')[1]);

test('the main cluster keeps its pod addresses; the dr cluster hands out addresses from a disjoint range', () => {
  // What the main runtime has always derived (127.64.0.0/10), so running pods and tests see no change.
  for (const name of ['postgres-0', 'api-7d9f', 'etcd-0']) {
    const digest = createHash('sha256').update(`shop/${name}/0`).digest();
    assert.equal(preferredLoopbackIp('shop', name), `127.${64 + (digest[0]! & 63)}.${digest[1]}.${1 + (digest[2]! % 254)}`);
  }
  const main = new LoopbackIpAllocator();
  const second = new LoopbackIpAllocator(dr.podAddresses);
  for (let i = 0; i < 500; i++) {
    const a = main.allocate('shop', `pod-${i}`, `main-${i}`);
    const b = second.allocate('shop', `pod-${i}`, `dr-${i}`);
    assert.ok(octet(a) >= 64 && octet(a) < 128, a);
    assert.ok(octet(b) >= 32 && octet(b) < 64, b);
  }
});

test('a second cluster has its own state, kubeconfig, ports and classes; an unknown one is refused by name', () => {
  const main = stackPaths();
  const paths = clusterPaths(main, 'dr');
  assert.equal(paths.state, join(main.state, 'clusters', 'dr'));
  assert.equal(paths.kubeconfig, join(main.state, 'clusters', 'dr', 'kubeconfig'));
  assert.equal(paths.pids, join(main.state, 'clusters', 'dr', 'pids'));
  assert.equal(paths.cache, main.cache, 'binaries are shared');
  assert.equal(paths.cluster.storageClass, 'dr-csi');
  assert.notEqual(paths.cluster.apiPort, MAIN_CLUSTER.apiPort);
  assert.equal(MAIN_CLUSTER.ports, undefined, 'the main cluster lets kwokctl pick its ports, as before');
  assert.equal(clusterSpec(undefined), MAIN_CLUSTER);
  assert.equal(clusterSpec('dr'), dr);
  assert.throws(() => clusterSpec('elsewhere'), /unknown cluster "elsewhere" \(known: cairn, dr\)/);
  assert.throws(() => clusterPaths(main, 'cairn'), /unknown second cluster "cairn"/);
});
