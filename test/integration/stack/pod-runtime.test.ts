// The test-side pod runtime on the real local stack: one-off pods run to a phase, logs and files, exec.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { isAlive } from '../../../scripts/stack/process.ts';
import { claimVolumeDir, execInPod, execShimsOnKwokPath, waitForDefaultServiceAccount, waitForPod, waitForPodGone } from '../../support/pod-runtime/testing.ts';
import { ensureStack, kubeClients, type KubeClients, type StackInfo, testNamespace, type TestNamespace } from '../../support/stack.ts';

function claim(name: string): k8s.V1PersistentVolumeClaim {
  return { metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'cairn-csi', resources: { requests: { storage: '1Gi' } } } };
}

function podWithVolume(name: string, claimName: string, container: Partial<k8s.V1Container>, restartPolicy = 'Never'): k8s.V1Pod {
  return {
    metadata: { name },
    spec: {
      restartPolicy,
      containers: [{ name: 'main', image: 'busybox:1.36', volumeMounts: [{ name: 'work', mountPath: '/data' }], ...container }],
      volumes: [{ name: 'work', persistentVolumeClaim: { claimName } }],
    },
  };
}

const terminated = (pod: k8s.V1Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

describe('pod runtime', () => {
  let stack: StackInfo;
  let clients: KubeClients;
  let namespace: TestNamespace;

  before(async () => {
    stack = await ensureStack();
    clients = kubeClients(stack);
    namespace = await testNamespace('pod-runtime');
    await waitForDefaultServiceAccount(clients, namespace.name);
  });
  after(() => namespace?.cleanup());

  it('runs a one-off pod whose command writes to its PVC: Succeeded, its log through the API, the file in the volume', async () => {
    const ns = namespace.name;
    await clients.core.createNamespacedPersistentVolumeClaim({ namespace: ns, body: claim('task-work') });
    await clients.core.createNamespacedPod({
      namespace: ns,
      body: podWithVolume('task', 'task-work', {
        command: ['sh', '-c', 'echo "written by $POD_NAME" > /data/result.txt && echo "task done"'],
        env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
      }),
    });

    const pod = await waitForPod(clients, ns, 'task', 'Succeeded or Failed', terminated);
    assert.equal(pod.status?.phase, 'Succeeded');
    assert.equal(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 0);
    const log = await clients.core.readNamespacedPodLog({ namespace: ns, name: 'task', container: 'main' });
    assert.equal(log, 'task done\n');
    const volume = await claimVolumeDir(clients, stack.state, ns, 'task-work');
    assert.equal(readFileSync(join(volume, 'result.txt'), 'utf8'), 'written by task\n');
  });

  it('reports a command that exits non-zero as Failed with its exit code and its stderr in the log', async () => {
    const ns = namespace.name;
    await clients.core.createNamespacedPod({
      namespace: ns,
      body: { metadata: { name: 'failing' }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', 'echo "cannot go on" >&2; exit 3'] }] } },
    });

    const pod = await waitForPod(clients, ns, 'failing', 'Succeeded or Failed', terminated);
    assert.equal(pod.status?.phase, 'Failed');
    assert.equal(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 3);
    assert.equal(await clients.core.readNamespacedPodLog({ namespace: ns, name: 'failing', container: 'main' }), 'cannot go on\n');
  });

  it('execs in a running pod with its env, writes to its volume, and stops its process when the pod is deleted', async () => {
    const ns = namespace.name;
    await clients.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'greeting' }, data: { GREETING: 'hello from a ConfigMap' } } });
    await clients.core.createNamespacedPersistentVolumeClaim({ namespace: ns, body: claim('server-work') });
    await clients.core.createNamespacedPod({
      namespace: ns,
      body: podWithVolume('server', 'server-work', { command: ['sleep', '3600'], envFrom: [{ configMapRef: { name: 'greeting' } }] }, 'Always'),
    });
    await waitForPod(clients, ns, 'server', 'Running', (pod) => pod.status?.phase === 'Running');
    const volume = await claimVolumeDir(clients, stack.state, ns, 'server-work');
    const writers = `${volume}.writers`;
    await waitForPod(clients, ns, 'server', 'listed as a writer of its volume', () => existsSync(writers));

    // /data is the volume's mountPath in the pod's mount view; in the host view (no exec shims) the working
    // directory is the volume itself.
    const result = await execInPod(clients, ns, 'server', 'main', ['sh', '-c', 'echo "$GREETING"; if [ -d /data ] && [ -w /data ]; then cd /data; fi; echo from-exec > written-by-exec.txt']);
    assert.deepEqual(result, { stdout: 'hello from a ConfigMap\n', stderr: '', exitCode: 0 });
    assert.equal(readFileSync(join(volume, 'written-by-exec.txt'), 'utf8'), 'from-exec\n');

    const pid = Number(readFileSync(writers, 'utf8').trim().split('\n')[0]);
    assert.ok(isAlive(pid), `the container process ${pid} runs`);
    await clients.core.deleteNamespacedPod({ namespace: ns, name: 'server' });
    await waitForPodGone(clients, ns, 'server');
    assert.equal(isAlive(pid), false, 'the container process stopped before the pod object went away');
    assert.equal(existsSync(writers), false, 'no writers listed for the volume any more');
  });

  it('execs in the pod mount view: the volume at its mountPath, exit codes passed back', async (t) => {
    if (!execShimsOnKwokPath(stack)) {
      t.skip('the kwok controller was started without the exec shims on its PATH: exec runs in the host view (docs/dev-stack-pods.md, "Exec")');
      return;
    }
    const ns = namespace.name;
    await clients.core.createNamespacedPersistentVolumeClaim({ namespace: ns, body: claim('view-work') });
    await clients.core.createNamespacedPod({
      namespace: ns,
      body: podWithVolume('view', 'view-work', { command: ['sh', '-c', 'echo seen-in-the-view > /data/marker; exec sleep 3600'] }, 'Always'),
    });
    await waitForPod(clients, ns, 'view', 'Running', (pod) => pod.status?.phase === 'Running');
    const volume = await claimVolumeDir(clients, stack.state, ns, 'view-work');
    await waitForPod(clients, ns, 'view', 'done writing its marker', () => existsSync(join(volume, 'marker')));

    assert.deepEqual(await execInPod(clients, ns, 'view', 'main', ['cat', '/data/marker']), { stdout: 'seen-in-the-view\n', stderr: '', exitCode: 0 });
    assert.equal((await execInPod(clients, ns, 'view', 'main', ['sh', '-c', 'exit 7'])).exitCode, 7);
  });
});
