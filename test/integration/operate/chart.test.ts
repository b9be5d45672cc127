import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, it } from 'node:test';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { ensureHelm } from '../../../scripts/stack/helm.ts';
import { KUSTOMIZE_FILES, renderKustomizeManifests } from '../../../scripts/deploy/render.ts';
import { waitUntil } from '../../../scripts/stack/process.ts';
import type { AuditLine } from '../../../src/audit/audit-log.ts';
import { execUntilSuccess, waitForPod } from '../../support/pod-runtime/testing.ts';
import { ensureStack, kubeClients, testNamespace, uniqueTaskQueue, type KubeClients, type StackInfo, type TestNamespace } from '../../support/stack.ts';
import { createKubeUser, type KubeUser } from './kube-users.ts';

// The Helm chart installed into the local cluster; the stack's pod runtime runs its worker pods from this
// checkout (test/support/pod-runtime/in-cluster.ts), with the chart's ServiceAccount token. A user who is
// `edit` in an application namespace backs it up through the CLI; the run is executed by an in-cluster worker
// with the chart's least-privilege RBAC (a phase reaching beyond it is forbidden until an upgrade grants it).
const ROOT = resolve(import.meta.dirname, '../../..');
const CHART = join(ROOT, 'deploy/helm/cairn');
const run = promisify(execFile);
let stack: StackInfo;
let kube: KubeClients;
let helm: string;
let release: TestNamespace;
let app: TestNamespace;
let bob: KubeUser;
let valuesFile: string;
let installed = false;
const name = `cairn-${randomBytes(3).toString('hex')}`;
const taskQueue = uniqueTaskQueue('in-cluster');

const probeBlueprint = `apiVersion: cairn.io/v1alpha1
kind: Blueprint
metadata: {name: in-cluster-probe}
actions:
  backup:
    kinds: [Namespace]
    phases:
      - name: greet
        func: KubeExec
        args:
          namespace: "{{Namespace}}"
          pod: app
          command: [sh, -c, 'echo "###Phase-output###: {\\"key\\": \\"greeting\\", \\"value\\": \\"hello from $HOSTNAME\\"}"']
  inspect:
    kinds: [Namespace]
    phases:
      - name: peek
        func: KubeOps
        retry: {maxAttempts: 1}
        args:
          operation: get
          objectReference: {apiVersion: v1, resource: services, name: probe, namespace: "{{Namespace}}"}
`;

before(async () => {
  [stack, helm] = await Promise.all([ensureStack(), ensureHelm()]);
  kube = kubeClients(stack);
  [release, app] = await Promise.all([testNamespace('cairn-system'), testNamespace('chart-app')]);
  await kube.core.createNamespacedSecret({ namespace: release.name, body: { metadata: { name: 'cairn-kek' }, stringData: { kek: randomBytes(32).toString('hex') } } });
  await kube.core.createNamespacedPod({ namespace: app.name, body: { metadata: { name: 'app' }, spec: { containers: [{ name: 'main', image: 'busybox' }] } } });
  await kube.core.createNamespacedService({ namespace: app.name, body: { metadata: { name: 'probe' }, spec: { ports: [{ port: 80 }], selector: { app: 'none' } } } });
  bob = createKubeUser(stack, `bob-${app.name.slice(-8)}`, ['app-team']);
  const rbac = kube.config.makeApiClient(k8s.RbacAuthorizationV1Api);
  // `edit` in the app namespace: backup and restore come with it (aggregated); the custom action needs its own verb.
  await rbac.createNamespacedRoleBinding({ namespace: app.name, body: { metadata: { name: 'bob-edit' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: bob.name }] } });
  await rbac.createNamespacedRole({ namespace: app.name, body: { metadata: { name: 'inspector' }, rules: [{ apiGroups: ['cairn.io'], resources: ['runs'], verbs: ['inspect'] }] } });
  await rbac.createNamespacedRoleBinding({ namespace: app.name, body: { metadata: { name: 'bob-inspect' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'inspector' }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: bob.name }] } });
  valuesFile = join(mkdtempSync(join(tmpdir(), 'cairn-chart-')), 'values.yaml');
  writeFileSync(
    valuesFile,
    stringify({
      temporal: { address: stack.temporal.address, namespace: stack.temporal.namespace, taskQueue },
      // Pods of the local runtime share the host's network: each worker serves metrics on its own loopback address.
      metrics: { listenOnPodIP: true },
      blueprints: { 'in-cluster-probe': probeBlueprint },
      worker: { shutdownGraceSeconds: 20 },
      // The blueprint-only role: the Application role would grant reads of every kind, and the test below shows
      // that a phase beyond the worker's rules is forbidden until a rule is added.
      rbac: { applications: false },
    }),
  );
});

after(async () => {
  if (installed) await run(helm, ['uninstall', name, '--namespace', release.name, '--kubeconfig', stack.kube.kubeconfig, '--wait', '--timeout', '2m']).catch(() => undefined);
  await Promise.all([release?.cleanup(), app?.cleanup()]);
});

function helmArgs(...args: string[]): string[] {
  return [...args, '--namespace', release.name, '--kubeconfig', stack.kube.kubeconfig];
}

async function cairnAs(user: KubeUser, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'bin/cairn.js'), ...argv, '--address', stack.temporal.address, '--task-queue', taskQueue], { cwd: ROOT, env: { ...process.env, KUBECONFIG: user.kubeconfig } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

async function workerPods(): Promise<k8s.V1Pod[]> {
  return (await kube.core.listNamespacedPod({ namespace: release.name, labelSelector: `app.kubernetes.io/instance=${name},app.kubernetes.io/component=worker` })).items.filter((pod) => !pod.metadata?.deletionTimestamp);
}

/** Audit lines the in-cluster workers wrote to stdout (their pod logs). */
async function workerAudit(): Promise<AuditLine[]> {
  const lines: AuditLine[] = [];
  for (const pod of await workerPods()) {
    const log = await kube.core.readNamespacedPodLog({ namespace: release.name, name: pod.metadata!.name!, container: 'worker' }).catch(() => '');
    for (const line of log.split('\n')) if (line.includes('"cairn.audit"')) lines.push(JSON.parse(line) as AuditLine);
  }
  return lines;
}

it('helm lints the chart, the kustomize manifests are the chart rendered, and a grace shorter than the shutdown is refused', async () => {
  await run(helm, ['lint', CHART, '--strict']);
  const rendered = await renderKustomizeManifests(ROOT);
  assert.equal(readFileSync(join(ROOT, KUSTOMIZE_FILES.base), 'utf8'), rendered.base, 'deploy/kustomize/base is stale: npm run deploy:render');
  assert.equal(readFileSync(join(ROOT, KUSTOMIZE_FILES.monitoring), 'utf8'), rendered.monitoring, 'deploy/kustomize/monitoring is stale: npm run deploy:render');
  await assert.rejects(run(helm, ['template', 'x', CHART, '--kube-version', '1.34.0', '--set', 'worker.terminationGraceMarginSeconds=0']), /must outlive the worker's shutdown grace/);
});

it('installs into the cluster; a user who is edit in a namespace backs it up through an in-cluster worker', async () => {
  await run(helm, helmArgs('install', name, CHART, '--values', valuesFile, '--take-ownership', '--wait', '--timeout', '4m'));
  installed = true;
  const pods = await workerPods();
  assert.equal(pods.length, 2, 'two worker replicas');
  const deployment = await kube.apps.readNamespacedDeployment({ namespace: release.name, name: `${name}-worker` });
  assert.equal(deployment.spec?.template.spec?.terminationGracePeriodSeconds, 50, 'shutdown grace 20 s + 30 s margin');
  const pdb = await kube.config.makeApiClient(k8s.PolicyV1Api).readNamespacedPodDisruptionBudget({ namespace: release.name, name: `${name}-worker` });
  assert.equal(pdb.spec?.minAvailable, 1);
  await waitForPod(kube, app.name, 'app', 'Running', (pod) => pod.status?.phase === 'Running');
  await execUntilSuccess(kube, app.name, 'app', 'main', ['true']);

  const backup = await cairnAs(bob, 'run', 'in-cluster-probe', '--action', 'backup', '--target', `namespace/${app.name}`, '--wait', '--output', 'json');
  assert.equal(backup.code, 0, `${backup.stdout}\n${backup.stderr}`);
  const report = JSON.parse(backup.stdout) as { workflowId: string; outcome: string; phaseOutputs: { greet: { greeting: string } } };
  assert.equal(report.outcome, 'succeeded');
  assert.equal(report.phaseOutputs.greet.greeting, 'hello from app');

  // An in-cluster worker ran it: its audit lines (pod log) name the run, the requester and the outcome.
  let audit: AuditLine[] = [];
  await waitUntil('the in-cluster audit line of the backup', async () => {
    audit = (await workerAudit()).filter((line) => line.what.workflowId === report.workflowId);
    return audit.some((line) => line.action === 'run.end');
  }, 30_000);
  assert.deepEqual(audit.map((line) => [line.action, line.outcome, line.who.user]), [
    ['run.authorize', 'allowed', bob.name],
    ['run.start', 'allowed', bob.name],
    ['run.end', 'succeeded', bob.name],
  ]);
});

it("the workers act with the chart's ServiceAccount: a phase beyond its ClusterRole is forbidden until an upgrade adds a rule", async () => {
  const denied = await cairnAs(bob, 'run', 'in-cluster-probe', '--action', 'inspect', '--target', `namespace/${app.name}`, '--wait', '--output', 'json');
  assert.equal(denied.code, 1, denied.stderr);
  const error = (JSON.parse(denied.stdout) as { error: string }).error;
  assert.match(error, new RegExp(`system:serviceaccount:${release.name}:${name}`), error);
  assert.match(error, /forbidden|403/i);

  await run(helm, helmArgs('upgrade', name, CHART, '--values', valuesFile, '--set-json', 'rbac.extraRules=[{"apiGroups":[""],"resources":["services"],"verbs":["get"]}]', '--wait', '--timeout', '4m'));
  const allowed = await cairnAs(bob, 'run', 'in-cluster-probe', '--action', 'inspect', '--target', `namespace/${app.name}`, '--wait', '--output', 'json');
  assert.equal(allowed.code, 0, `${allowed.stdout}\n${allowed.stderr}`);
  assert.equal((JSON.parse(allowed.stdout) as { phaseOutputs: { peek: { name: string } } }).phaseOutputs.peek.name, 'probe');

  const elsewhere = await cairnAs(bob, 'run', 'in-cluster-probe', '--action', 'backup', '--target', `namespace/${release.name}`, '--wait', '--output', 'json');
  assert.equal(elsewhere.code, 1);
  assert.match((JSON.parse(elsewhere.stdout) as { error: string }).error, new RegExp(`^forbidden: user "${bob.name}" cannot backup runs\\.cairn\\.io in namespace "${release.name}"`));
});
