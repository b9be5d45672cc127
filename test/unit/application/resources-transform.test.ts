import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { globMatch, rewriteHost, transformObject, TransformError } from '../../../src/application/resources/transform.ts';
import type { JsonObject } from '../../../src/json.ts';

describe('restore transforms', () => {
  it('maps the namespace of objects, of the Namespace itself and of RoleBinding subjects', () => {
    const transforms = { namespaces: { shop: 'shop-dr' } };
    assert.equal((transformObject({ kind: 'ConfigMap', metadata: { name: 'a', namespace: 'shop' } }, transforms).metadata as JsonObject).namespace, 'shop-dr');
    assert.equal((transformObject({ kind: 'Namespace', metadata: { name: 'shop' } }, transforms).metadata as JsonObject).name, 'shop-dr');
    const binding = transformObject(
      { kind: 'RoleBinding', metadata: { name: 'b', namespace: 'shop' }, subjects: [{ kind: 'ServiceAccount', name: 'api', namespace: 'shop' }, { kind: 'ServiceAccount', name: 'x', namespace: 'other' }] },
      transforms,
    );
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'api', namespace: 'shop-dr' }, { kind: 'ServiceAccount', name: 'x', namespace: 'other' }]);
  });

  it('maps storage classes of PVCs, claim templates and the StorageClass, which loses its default mark', () => {
    const transforms = { storageClasses: { 'cairn-csi': 'dr-fast' } };
    const claim = transformObject({ kind: 'PersistentVolumeClaim', metadata: { name: 'd', annotations: { 'volume.beta.kubernetes.io/storage-class': 'cairn-csi' } }, spec: { storageClassName: 'cairn-csi' } }, transforms);
    assert.equal((claim.spec as JsonObject).storageClassName, 'dr-fast');
    assert.equal(((claim.metadata as JsonObject).annotations as JsonObject)['volume.beta.kubernetes.io/storage-class'], 'dr-fast');
    const set = transformObject({ kind: 'StatefulSet', metadata: { name: 'db' }, spec: { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { storageClassName: 'cairn-csi' } }, { metadata: { name: 'x' }, spec: { storageClassName: 'other' } }] } }, transforms);
    assert.deepEqual(((set.spec as JsonObject).volumeClaimTemplates as JsonObject[]).map((t) => (t.spec as JsonObject).storageClassName), ['dr-fast', 'other']);
    const storageClass = transformObject({ kind: 'StorageClass', metadata: { name: 'cairn-csi', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'csi.cairn.dev' }, transforms);
    assert.deepEqual(storageClass.metadata, { name: 'dr-fast' });
  });

  it('sets and removes labels and annotations (globs), but not on cluster-shared kinds', () => {
    const transforms = { labels: { set: { restored: 'yes' }, remove: ['team'] }, annotations: { remove: ['example.com/*'] } };
    const object = transformObject({ kind: 'ConfigMap', metadata: { name: 'a', labels: { team: 'x', app: 'y' }, annotations: { 'example.com/a': '1', 'example.com/b': '2', keep: '3' } } }, transforms);
    assert.deepEqual(object.metadata, { name: 'a', labels: { app: 'y', restored: 'yes' }, annotations: { keep: '3' } });
    const crd = transformObject({ kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com', labels: { team: 'x' } } }, transforms);
    assert.deepEqual(crd.metadata, { name: 'widgets.example.com', labels: { team: 'x' } });
  });

  it('rewrites Ingress hosts: exact, suffix patterns (longest first), TLS hosts too', () => {
    const map = { 'shop.example': 'shop.dr.example', '*.shop.example': '*.dr.example', '*.eu.shop.example': 'eu.dr.example' };
    assert.equal(rewriteHost('shop.example', map), 'shop.dr.example');
    assert.equal(rewriteHost('api.shop.example', map), 'api.dr.example');
    assert.equal(rewriteHost('*.shop.example', map), '*.dr.example');
    assert.equal(rewriteHost('a.eu.shop.example', map), 'eu.dr.example');
    assert.equal(rewriteHost('other.example', map), 'other.example');
    assert.equal(rewriteHost('xshop.example', map), 'xshop.example');
    const ingress = transformObject({ kind: 'Ingress', metadata: { name: 'i' }, spec: { rules: [{ host: 'api.shop.example' }, { http: {} }], tls: [{ hosts: ['api.shop.example'], secretName: 't' }] } }, { ingressHosts: map });
    assert.deepEqual(ingress.spec, { rules: [{ host: 'api.dr.example' }, { http: {} }], tls: [{ hosts: ['api.dr.example'], secretName: 't' }] });
  });

  it('changes a Service type and drops what the old type needed, and removes cloud annotations', () => {
    const service = transformObject(
      {
        kind: 'Service',
        metadata: { name: 'web', annotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb', keep: 'x' } },
        spec: { type: 'LoadBalancer', loadBalancerSourceRanges: ['10.0.0.0/8'], externalTrafficPolicy: 'Local', ports: [{ port: 80, nodePort: 31000 }] },
      },
      { services: { type: { LoadBalancer: 'ClusterIP' }, removeAnnotations: ['service.beta.kubernetes.io/*'] } },
    );
    assert.deepEqual(service, { kind: 'Service', metadata: { name: 'web', annotations: { keep: 'x' } }, spec: { type: 'ClusterIP', ports: [{ port: 80 }] } });
    const untouched = transformObject({ kind: 'Service', metadata: { name: 'a' }, spec: { ports: [] } }, { services: { type: { LoadBalancer: 'ClusterIP' } } });
    assert.deepEqual(untouched.spec, { ports: [] });
  });

  it('applies JSON-patch rules by kind and name glob, in order; a failing test makes a rule not apply', () => {
    const transforms = {
      patches: [
        { kind: 'deployment', name: 'api-*', operations: [{ op: 'replace' as const, path: '/spec/replicas', value: 1 }] },
        { kind: 'Deployment', operations: [{ op: 'test' as const, path: '/spec/replicas', value: 1 }, { op: 'add' as const, path: '/metadata/labels', value: { scaled: 'down' } }] },
        { name: 'worker', operations: [{ op: 'replace' as const, path: '/spec/replicas', value: 0 }] },
      ],
    };
    const api = transformObject({ kind: 'Deployment', metadata: { name: 'api-v2' }, spec: { replicas: 3 } }, transforms);
    assert.deepEqual(api, { kind: 'Deployment', metadata: { name: 'api-v2', labels: { scaled: 'down' } }, spec: { replicas: 1 } });
    const worker = transformObject({ kind: 'Deployment', metadata: { name: 'worker' }, spec: { replicas: 3 } }, transforms);
    assert.deepEqual(worker, { kind: 'Deployment', metadata: { name: 'worker' }, spec: { replicas: 0 } });
  });

  it('names the rule and the object when a patch cannot apply', () => {
    assert.throws(
      () => transformObject({ kind: 'ConfigMap', metadata: { name: 'cfg' } }, { patches: [{ kind: 'ConfigMap', operations: [{ op: 'remove', path: '/data/missing' }] }] }),
      (e: Error) => e instanceof TransformError && /patch rule 1 on ConfigMap cfg: operation 1 \(remove \/data\/missing\)/.test(e.message),
    );
  });

  it('globs match any run of characters and nothing else', () => {
    assert.ok(globMatch('api-*', 'api-v1'));
    assert.ok(globMatch('*', 'anything.at/all'));
    assert.ok(!globMatch('api-*', 'xapi-v1'));
    assert.ok(globMatch('a.b', 'a.b') && !globMatch('a.b', 'axb'));
  });
});
