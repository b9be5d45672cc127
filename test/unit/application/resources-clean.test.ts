import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanObject } from '../../../src/application/resources/clean.ts';
import type { JsonObject } from '../../../src/json.ts';

const serverMetadata = {
  uid: '3f1c',
  resourceVersion: '1234',
  creationTimestamp: '2026-11-22T00:00:00Z',
  generation: 4,
  selfLink: '/api/v1/x',
  managedFields: [{ manager: 'kubectl' }],
};

describe('cleaning captured objects', () => {
  it('drops what the API server wrote, status and kubectl noise, keeping the user’s metadata', () => {
    const cleaned = cleanObject({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'app',
        namespace: 'shop',
        labels: { app: 'shop' },
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', note: 'kept' },
        ...serverMetadata,
      },
      data: { a: '1' },
      status: { whatever: true },
    });
    assert.deepEqual(cleaned, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app', namespace: 'shop', labels: { app: 'shop' }, annotations: { note: 'kept' } }, data: { a: '1' } });
  });

  it('keeps a headless Service headless and drops a normal one’s cluster IPs and node ports', () => {
    const headless = cleanObject({ kind: 'Service', metadata: { name: 'db' }, spec: { clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 5432 }] } });
    assert.deepEqual(headless.spec, { clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 5432 }] });
    const nodePort = cleanObject({ kind: 'Service', metadata: { name: 'web' }, spec: { type: 'NodePort', clusterIP: '10.0.0.7', clusterIPs: ['10.0.0.7'], ports: [{ port: 80, nodePort: 30080 }] } });
    assert.deepEqual(nodePort.spec, { type: 'NodePort', ports: [{ port: 80 }] });
    const keptPorts = cleanObject({ kind: 'Service', metadata: { name: 'web' }, spec: { type: 'NodePort', clusterIP: '10.0.0.7', ports: [{ port: 80, nodePort: 30080 }] } }, { dropNodePorts: false });
    assert.deepEqual(keptPorts.spec, { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] });
  });

  it('unbinds a PVC from the old volume, node and provisioner', () => {
    const cleaned = cleanObject({
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: 'data',
        annotations: {
          'pv.kubernetes.io/bind-completed': 'yes',
          'pv.kubernetes.io/bound-by-controller': 'yes',
          'volume.kubernetes.io/selected-node': 'node-1',
          'volume.beta.kubernetes.io/storage-provisioner': 'csi.cairn.dev',
          'volume.kubernetes.io/storage-provisioner': 'csi.cairn.dev',
          team: 'a',
        },
      },
      spec: { storageClassName: 'fast', volumeName: 'pvc-123', resources: { requests: { storage: '1Gi' } }, dataSource: { kind: 'VolumeSnapshot', name: 's' } },
      status: { phase: 'Bound' },
    });
    assert.deepEqual(cleaned, { kind: 'PersistentVolumeClaim', metadata: { name: 'data', annotations: { team: 'a' } }, spec: { storageClassName: 'fast', resources: { requests: { storage: '1Gi' } } } });
  });

  it('cleans a StatefulSet’s claim templates and controller labels its selector does not need', () => {
    const cleaned = cleanObject({
      kind: 'StatefulSet',
      metadata: { name: 'db', ...serverMetadata },
      spec: {
        selector: { matchLabels: { app: 'db' } },
        template: { metadata: { creationTimestamp: null, labels: { app: 'db', 'controller-revision-hash': 'abc' } }, spec: {} },
        volumeClaimTemplates: [{ metadata: { name: 'data', creationTimestamp: null }, spec: { storageClassName: 'fast', volumeName: 'x' }, status: { phase: 'Pending' } }],
      },
      status: { replicas: 1 },
    });
    assert.deepEqual(cleaned.spec, {
      selector: { matchLabels: { app: 'db' } },
      template: { metadata: { labels: { app: 'db' } }, spec: {} },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { storageClassName: 'fast' } }],
    });
    assert.deepEqual(cleaned.metadata, { name: 'db' });
  });

  it('drops the revision annotation of a Deployment and a pod-template-hash its selector does not use', () => {
    const cleaned = cleanObject({
      kind: 'Deployment',
      metadata: { name: 'api', annotations: { 'deployment.kubernetes.io/revision': '3' } },
      spec: { selector: { matchLabels: { app: 'api' } }, template: { metadata: { labels: { app: 'api', 'pod-template-hash': '5d9' } } } },
    });
    assert.deepEqual(cleaned, { kind: 'Deployment', metadata: { name: 'api' }, spec: { selector: { matchLabels: { app: 'api' } }, template: { metadata: { labels: { app: 'api' } } } } });
  });

  it('keeps owner references only to owners that are restored too', () => {
    const object: JsonObject = {
      kind: 'ConfigMap',
      metadata: {
        name: 'x',
        ownerReferences: [
          { apiVersion: 'example.com/v1', kind: 'Widget', name: 'w', uid: 'u1' },
          { apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u2' },
        ],
      },
    };
    const cleaned = cleanObject(object, { ownerRestored: (owner) => owner.kind === 'Widget' });
    assert.deepEqual((cleaned.metadata as JsonObject).ownerReferences, [{ apiVersion: 'example.com/v1', kind: 'Widget', name: 'w', uid: 'u1' }]);
    assert.equal('ownerReferences' in (cleanObject(object).metadata as JsonObject), false);
  });

  it('lets the API server pick a Job’s selector again and drops a Namespace’s finalizers', () => {
    const job = cleanObject({
      kind: 'Job',
      metadata: { name: 'migrate' },
      spec: { selector: { matchLabels: { 'controller-uid': 'u' } }, template: { metadata: { labels: { 'controller-uid': 'u', 'job-name': 'migrate', app: 'm' } } } },
    });
    assert.deepEqual(job.spec, { template: { metadata: { labels: { app: 'm' } } } });
    const namespace = cleanObject({ kind: 'Namespace', metadata: { name: 'shop', labels: { a: 'b' } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
    assert.deepEqual(namespace, { kind: 'Namespace', metadata: { name: 'shop', labels: { a: 'b' } } });
  });

  it('never changes its input', () => {
    const object: JsonObject = { kind: 'Service', metadata: { name: 'a', uid: 'u' }, spec: { clusterIP: '10.0.0.1' } };
    cleanObject(object);
    assert.deepEqual(object, { kind: 'Service', metadata: { name: 'a', uid: 'u' }, spec: { clusterIP: '10.0.0.1' } });
  });
});
