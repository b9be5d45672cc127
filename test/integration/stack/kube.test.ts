import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1StatefulSet } from '@kubernetes/client-node';
import { ensureStack, kubeClients, testNamespace } from '../../support/stack.ts';

const CSI_STORAGE_CLASS = 'cairn-csi';

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

test('a StatefulSet in the kwok cluster gets a Running pod (and a Bound PVC when the CSI storage class exists)', async (t) => {
  const stack = await ensureStack();
  const kube = kubeClients(stack);
  const namespace = await testNamespace('stack-kube');
  t.after(() => namespace.cleanup());

  const classes = await kube.storage.listStorageClass();
  const withVolume = classes.items.some((sc) => sc.metadata?.name === CSI_STORAGE_CLASS);
  t.diagnostic(withVolume ? `storage class ${CSI_STORAGE_CLASS} present: checking the PVC too` : `no ${CSI_STORAGE_CLASS} storage class: pod only`);

  const statefulSet: V1StatefulSet = {
    metadata: { name: 'web' },
    spec: {
      serviceName: 'web',
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'busybox:1.36',
              command: ['sleep', 'infinity'],
              ...(withVolume ? { volumeMounts: [{ name: 'data', mountPath: '/data' }] } : {}),
            },
          ],
        },
      },
      ...(withVolume
        ? {
            volumeClaimTemplates: [
              {
                metadata: { name: 'data' },
                spec: { accessModes: ['ReadWriteOnce'], storageClassName: CSI_STORAGE_CLASS, resources: { requests: { storage: '1Gi' } } },
              },
            ],
          }
        : {}),
    },
  };
  await kube.apps.createNamespacedStatefulSet({ namespace: namespace.name, body: statefulSet });

  const pod = await eventually('pod web-0 to be Running', async () => {
    const found = await kube.core.readNamespacedPod({ namespace: namespace.name, name: 'web-0' });
    return found.status?.phase === 'Running' ? found : undefined;
  });
  assert.ok(pod.spec?.nodeName, 'the pod is scheduled on a kwok node');

  if (withVolume) {
    const claim = await eventually('PVC data-web-0 to be Bound', async () => {
      const found = await kube.core.readNamespacedPersistentVolumeClaim({ namespace: namespace.name, name: 'data-web-0' });
      return found.status?.phase === 'Bound' ? found : undefined;
    });
    assert.equal(claim.spec?.storageClassName, CSI_STORAGE_CLASS);
  }
});
