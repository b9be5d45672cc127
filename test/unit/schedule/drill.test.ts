import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { drillNetworkPolicies } from '../../../activities/application/drill.ts';
import { transformObject } from '../../../src/application/resources/transform.ts';
import { sourceKey } from '../../../src/application/types.ts';
import { describeReport } from '../../../src/cli/drill.ts';
import { changedObjects, DRILL_INGRESS_CLASS, drillNamespace, isolationTransforms } from '../../../workflows/drill.ts';

// The pure parts of a DR drill: what the restored copy looks like after the isolation transforms, the
// namespace name, the source comparison, the network policies and the printed report.
const transforms = { ...isolationTransforms('drill-1a2b3c4d', ['shop.example.com', '*.shop.example.com']), namespaces: { shop: 'shop-drill-1a2b3c4d' } };

describe('drill isolation transforms', () => {
  it('turns LoadBalancer and NodePort Services into ClusterIP without node ports or cloud annotations', () => {
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'shop', annotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb', keep: 'me' } },
      spec: { type: 'LoadBalancer', loadBalancerSourceRanges: ['0.0.0.0/0'], externalTrafficPolicy: 'Local', ports: [{ port: 80, nodePort: 30080 }] },
    };
    const restored = transformObject(service, transforms);
    assert.deepEqual(restored.metadata, { name: 'web', namespace: 'shop-drill-1a2b3c4d', labels: { 'cairn.io/drill': 'drill-1a2b3c4d' }, annotations: { keep: 'me' } });
    assert.deepEqual(restored.spec, { type: 'ClusterIP', ports: [{ port: 80 }] });
    const nodePort = transformObject({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'n', namespace: 'shop' }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30081 }] } }, transforms);
    assert.deepEqual(nodePort.spec, { type: 'ClusterIP', ports: [{ port: 80 }] });
  });

  it('gives Ingresses a class no controller serves and drill hosts, wildcards included', () => {
    const ingress = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'web', namespace: 'shop', annotations: { 'kubernetes.io/ingress.class': 'nginx', 'external-dns.alpha.kubernetes.io/hostname': 'shop.example.com' } },
      spec: { ingressClassName: 'nginx', rules: [{ host: 'shop.example.com' }, { host: '*.shop.example.com' }], tls: [{ hosts: ['shop.example.com'] }] },
    };
    const restored = transformObject(ingress, transforms);
    assert.equal((restored.metadata as { annotations?: unknown }).annotations, undefined);
    assert.deepEqual(restored.spec, {
      ingressClassName: DRILL_INGRESS_CLASS,
      rules: [{ host: 'drill-1a2b3c4d.shop.example.com' }, { host: '*.drill-1a2b3c4d.shop.example.com' }],
      tls: [{ hosts: ['drill-1a2b3c4d.shop.example.com'] }],
    });
    const classless = transformObject({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'x', namespace: 'shop' }, spec: { rules: [] } }, transforms);
    assert.equal((classless.spec as { ingressClassName?: string }).ingressClassName, DRILL_INGRESS_CLASS);
  });

  it('labels every restored object as the drill’s, leaving shared cluster objects alone', () => {
    const deployment = transformObject({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api', namespace: 'shop', labels: { app: 'api' } }, spec: {} }, transforms);
    assert.deepEqual((deployment.metadata as { labels: unknown }).labels, { app: 'api', 'cairn.io/drill': 'drill-1a2b3c4d' });
    const storageClass = transformObject({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'fast' } }, transforms);
    assert.equal((storageClass.metadata as { labels?: unknown }).labels, undefined);
  });
});

describe('drill namespace and source comparison', () => {
  it('names the namespace <source>-<suffix>, shortening the source to fit 63 characters', () => {
    assert.equal(drillNamespace('shop', 'drill-1a2b3c4d'), 'shop-drill-1a2b3c4d');
    const long = drillNamespace(`${'a'.repeat(40)}-${'b'.repeat(30)}`, 'drill-1a2b3c4d');
    assert.equal(long.length <= 63, true);
    assert.match(long, /^a{40}-b+-drill-1a2b3c4d$/);
    assert.equal(drillNamespace(`${'a'.repeat(47)}-x`, 'drill-1a2b3c4d'), `${'a'.repeat(47)}-drill-1a2b3c4d`);
  });

  it('reports every object whose resourceVersion moved, appeared or vanished', () => {
    assert.deepEqual(changedObjects({ 'ConfigMap/a': '1', 'Secret/b': '2' }, { 'ConfigMap/a': '1', 'Secret/b': '2' }), []);
    assert.deepEqual(changedObjects({ 'ConfigMap/a': '1', 'Secret/b': '2' }, { 'ConfigMap/a': '5', 'Secret/b': 'absent' }), ['ConfigMap/a (1 → 5)', 'Secret/b (2 → absent)']);
    assert.equal(sourceKey({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'web' }), 'Ingress.networking.k8s.io/web');
    assert.equal(sourceKey({ apiVersion: 'v1', kind: 'ConfigMap', name: 'a' }), 'ConfigMap/a');
  });

  it('denies all traffic to and from outside the namespace, allowing only its own pods, DNS and Cairn data movers', () => {
    const [deny, internal, movers] = drillNetworkPolicies('shop-drill-1', 'drill-1');
    assert.deepEqual(deny!.spec, { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    assert.deepEqual((internal!.spec as { ingress: unknown }).ingress, [{ from: [{ podSelector: {} }] }]);
    assert.deepEqual((movers!.spec as { podSelector: unknown }).podSelector, { matchLabels: { 'app.kubernetes.io/managed-by': 'cairn' } });
    for (const policy of [deny, internal, movers]) assert.equal((policy!.metadata as { namespace: string }).namespace, 'shop-drill-1');
  });
});

it('prints a report a person reads at 2 a.m.', () => {
  const text = describeReport('drill-shop-x', {
    application: 'shop',
    restorePoint: '20261122T020000.000Z-1a2b3c4d',
    namespace: 'shop-drill-1',
    rtoMs: 42_300,
    checks: [
      { name: 'ready: postgres', passed: true, detail: 'ready 12.0s after it started' },
      { name: 'source untouched', passed: false, detail: 'changed during the drill: ConfigMap/a (1 → 5)' },
    ],
    dataVerified: true,
    cleanedUp: true,
    passed: false,
  });
  assert.match(text, /^drill of shop: FAILED/);
  assert.match(text, /RTO: +42\.3s/);
  assert.match(text, /FAIL {2}source untouched — changed during the drill/);
  assert.match(text, /namespace: +shop-drill-1 \(deleted\)/);
});
