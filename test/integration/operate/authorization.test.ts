import assert from 'node:assert/strict';
import type { DrillReport } from '../../../src/application/types.ts';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, it } from 'node:test';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { parseAllDocuments } from 'yaml';
import type { AuditLine } from '../../../src/audit/audit-log.ts';
import { innermostMessage } from '../../../src/diagnostics.ts';
import type { RunActionInput, RunActionResult } from '../../../src/run/types.ts';
import { ensureStack, kubeClients, testNamespace, type KubeClients, type StackInfo, type TestNamespace } from '../../support/stack.ts';
import { inProcessWorker, phaseEvents, temporalFixture, type TemporalFixture } from '../../support/temporal.ts';
import { createKubeUser, type KubeUser } from './kube-users.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const run = promisify(execFile);
let stack: StackInfo;
let kube: KubeClients;
let fixture: TemporalFixture;
let worker: Worker;
let running: Promise<void>;
let own: TestNamespace;
let other: TestNamespace;
let alice: KubeUser;
let workerAudit: string;

/** The shipped operator ClusterRoles' rules, bound in one namespace only (as a namespace-scoped Role). */
function shippedRules(name: string): { apiGroups: string[]; resources: string[]; verbs: string[] }[] {
  for (const document of parseAllDocuments(readFileSync(join(ROOT, 'deploy/kustomize/base/cairn.yaml'), 'utf8'))) {
    const object = document.toJS() as { kind: string; metadata: { name: string }; rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
    if (object?.kind === 'ClusterRole' && object.metadata.name === name) return object.rules;
  }
  throw new Error(`no ClusterRole ${name} in deploy/kustomize/base/cairn.yaml`);
}

async function grant(namespace: string, subject: { kind: 'User' | 'ServiceAccount'; name: string; namespace?: string }, roles: string[]): Promise<void> {
  const rbac = kube.config.makeApiClient((await import('@kubernetes/client-node')).RbacAuthorizationV1Api);
  for (const role of roles) {
    await rbac.createNamespacedRole({ namespace, body: { metadata: { name: role }, rules: shippedRules(role) } }).catch(() => undefined);
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: `${role}-${subject.name}` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role },
        subjects: [subject.kind === 'User' ? { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: subject.name } : { kind: 'ServiceAccount', name: subject.name, namespace: subject.namespace! }],
      },
    });
  }
}

before(async () => {
  stack = await ensureStack();
  kube = kubeClients(stack);
  [own, other] = await Promise.all([testNamespace('authz-own'), testNamespace('authz-other')]);
  alice = createKubeUser(stack, `alice-${own.name.slice(-8)}`, ['team-a']);
  await grant(own.name, { kind: 'User', name: alice.name }, ['cairn-backup-operator', 'cairn-restore-operator']);
  workerAudit = join(mkdtempSync(join(tmpdir(), 'cairn-audit-')), 'worker.jsonl');
  fixture = await temporalFixture('authz');
  worker = await inProcessWorker(fixture, {
    blueprintDirs: [join(ROOT, 'test/fixtures/run-blueprints')],
    activities: { kube: () => kube },
    authorization: { enforce: true },
    auditLog: workerAudit,
  });
  running = worker.run();
});

after(async () => {
  worker?.shutdown();
  await running;
  await fixture?.close();
  await Promise.all([own?.cleanup(), other?.cleanup()]);
});

/** The real CLI, as the user of `kubeconfig` runs it. */
async function cairnAs(user: KubeUser, audit: string, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'bin/cairn.js'), ...argv, '--address', fixture.address, '--task-queue', fixture.taskQueue], {
      cwd: ROOT,
      env: { ...process.env, KUBECONFIG: user.kubeconfig, CAIRN_AUDIT_LOG: audit },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

function auditLines(file: string): AuditLine[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as AuditLine);
}

it('a user with the operator roles in their namespace backs it up and restores it through the CLI; the run names them', async () => {
  const audit = join(mkdtempSync(join(tmpdir(), 'cairn-audit-')), 'cli.jsonl');
  const backup = await cairnAs(alice, audit, 'run', 'sleepy', '--action', 'backup', '--target', `statefulset/${own.name}/db`, '--wait', '--output', 'json');
  assert.equal(backup.code, 0, backup.stderr);
  const { workflowId, outcome } = JSON.parse(backup.stdout) as { workflowId: string; outcome: string };
  assert.equal(outcome, 'succeeded');

  const input = (await fixture.client.workflow.getHandle(workflowId).fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
  const requestedBy = (JSON.parse(Buffer.from(input!).toString('utf8')) as RunActionInput).requestedBy;
  assert.deepEqual(requestedBy, { user: alice.name, groups: ['team-a', 'system:authenticated'] });

  const restore = await cairnAs(alice, audit, 'run', 'sleepy', '--action', 'restore', '--target', `statefulset/${own.name}/db`, '--from', workflowId, '--wait', '--output', 'json');
  assert.equal(restore.code, 0, restore.stderr);
  assert.equal((JSON.parse(restore.stdout) as { outcome: string }).outcome, 'succeeded');

  const cli = auditLines(audit);
  assert.deepEqual(cli.map((line) => [line.source, line.action, line.outcome, line.who.user, line.where.namespace]), [
    ['cli', 'run.start', 'requested', alice.name, own.name],
    ['cli', 'restore', 'requested', alice.name, own.name],
  ]);
  const decisions = auditLines(workerAudit).filter((line) => line.action === 'run.authorize' && line.what.workflowId === workflowId);
  assert.deepEqual(decisions.map((line) => [line.outcome, line.who.user, line.where.namespace]), [['allowed', alice.name, own.name]]);
});

it('the same user is forbidden in another namespace, for backup and for restore, before any phase runs', async () => {
  const audit = join(mkdtempSync(join(tmpdir(), 'cairn-audit-')), 'cli.jsonl');
  for (const action of ['backup', 'restore']) {
    const result = await cairnAs(alice, audit, 'run', 'sleepy', '--action', action, '--target', `statefulset/${other.name}/db`, '--id', `${action}-forbidden-${other.name}`, '--wait', '--output', 'json');
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout) as { outcome: string; error: string };
    assert.equal(report.outcome, 'failed');
    assert.match(report.error, new RegExp(`^forbidden: user "${alice.name}" cannot ${action} runs\\.cairn\\.io in namespace "${other.name}"`));
    assert.match(report.error, new RegExp(`cairn-${action === 'backup' ? 'backup' : 'restore'}-operator`));
    const history = await fixture.client.workflow.getHandle(`${action}-forbidden-${other.name}`).fetchHistory();
    assert.deepEqual(phaseEvents(history, 'scheduled'), [], 'no phase was scheduled');
  }
  const denied = auditLines(workerAudit).filter((line) => line.action === 'run.authorize' && line.where.namespace === other.name);
  assert.deepEqual(denied.map((line) => [line.outcome, line.who.user, line.what.action]), [['denied', alice.name, 'backup'], ['denied', alice.name, 'restore']]);
});

it('a run without a requester is rejected; one naming an allowed ServiceAccount (a UI-started run) runs', async () => {
  const start = (requestedBy: RunActionInput['requestedBy'], id: string) =>
    fixture.client.workflow.execute('runAction', {
      taskQueue: fixture.taskQueue,
      workflowId: id,
      args: [{ blueprint: { name: 'sleepy' }, action: 'backup', target: `statefulset/${own.name}/db`, ...(requestedBy ? { requestedBy } : {}) } satisfies RunActionInput],
    }) as Promise<RunActionResult>;
  const nobody = await start(undefined, `anonymous-${own.name}`).catch((error: unknown) => error);
  assert.ok(nobody instanceof WorkflowFailedError);
  assert.match(innermostMessage(nobody), /^forbidden: the run names no requester \(requestedBy\)/);

  await kube.core.createNamespacedServiceAccount({ namespace: own.name, body: { metadata: { name: 'ui' } } });
  await grant(own.name, { kind: 'ServiceAccount', name: 'ui', namespace: own.name }, ['cairn-backup-operator']);
  const allowed = await start({ serviceAccount: `${own.name}/ui` }, `ui-allowed-${own.name}`);
  assert.equal(allowed.outcome, 'succeeded');

  const stranger = await start({ serviceAccount: `${other.name}/ui` }, `ui-forbidden-${own.name}`).catch((error: unknown) => error);
  assert.match(innermostMessage(stranger), new RegExp(`^forbidden: serviceaccount ${other.name}/ui cannot backup runs\\.cairn\\.io in namespace "${own.name}"`));
  const restoreAsBackupOnly = await fixture.client.workflow
    .execute('runAction', {
      taskQueue: fixture.taskQueue,
      workflowId: `ui-restore-${own.name}`,
      args: [{ blueprint: { name: 'sleepy' }, action: 'restore', target: `statefulset/${own.name}/db`, requestedBy: { serviceAccount: `${own.name}/ui` }, artifacts: { marker: { KeyValue: { slept: '1' } } } } satisfies RunActionInput],
    })
    .catch((error: unknown) => error);
  assert.match(innermostMessage(restoreAsBackupOnly), /cannot restore runs\.cairn\.io .*cairn-restore-operator/);
});

it('cairn cancel writes who cancelled which run to the audit log', async () => {
  const audit = join(mkdtempSync(join(tmpdir(), 'cairn-audit-')), 'cli.jsonl');
  const started = await cairnAs(alice, audit, 'run', 'sleepy', '--action', 'backup', '--target', `statefulset/${own.name}/db`, '--option', 'second=5m', '--output', 'json');
  assert.equal(started.code, 0, started.stderr);
  const { workflowId } = JSON.parse(started.stdout) as { workflowId: string };
  const cancelled = await cairnAs(alice, audit, 'cancel', workflowId, '--wait', '--output', 'json');
  assert.equal(cancelled.code, 0, cancelled.stderr);
  assert.equal((JSON.parse(cancelled.stdout) as { status: string }).status, 'CANCELLED');
  const missing = await cairnAs(alice, audit, 'cancel', `no-such-run-${own.name}`);
  assert.equal(missing.code, 1);
  assert.deepEqual(
    auditLines(audit).map((line) => [line.action, line.outcome, line.who.user, line.what.workflowId]),
    [
      ['run.start', 'requested', alice.name, workflowId],
      ['run.cancel', 'requested', alice.name, workflowId],
      ['run.cancel', 'failed', alice.name, `no-such-run-${own.name}`],
    ],
  );
  const ended = auditLines(workerAudit).filter((line) => line.what.workflowId === workflowId && line.action === 'run.end');
  assert.deepEqual(ended.map((line) => line.outcome), ['cancelled']);
});

it('Application backups and restores are checked as a whole, before any resource is captured or recreated', async () => {
  const audit = join(mkdtempSync(join(tmpdir(), 'cairn-audit-')), 'cli.jsonl');
  const dir = mkdtempSync(join(tmpdir(), 'cairn-authz-app-'));
  const applicationFile = (namespace: string) => {
    const file = join(dir, `${namespace}.yaml`);
    writeFileSync(file, `apiVersion: cairn.io/v1alpha1\nkind: Application\nmetadata: {name: ${namespace}}\nspec:\n  namespace: ${namespace}\n  components: [{name: web, workload: {kind: Deployment, name: web}}]\n`);
    return file;
  };
  await kube.core.createNamespacedConfigMap({ namespace: own.name, body: { metadata: { name: 'settings' }, data: { colour: 'blue' } } });

  const denied = await cairnAs(alice, audit, 'backup', applicationFile(other.name), '--wait', '--output', 'json');
  assert.equal(denied.code, 1, denied.stderr);
  const deniedReport = JSON.parse(denied.stdout) as { workflowId: string; outcome: string; error: string };
  assert.match(deniedReport.error, new RegExp(`forbidden: user "${alice.name}" cannot backup runs\\.cairn\\.io in namespace "${other.name}"`));
  const deniedSteps = activityTypes(await fixture.client.workflow.getHandle(deniedReport.workflowId).fetchHistory());
  assert.deepEqual(deniedSteps, ['loadApplication', 'authorizeApplication'], 'nothing was captured');

  const allowed = await cairnAs(alice, audit, 'backup', applicationFile(own.name), '--wait', '--output', 'json');
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.equal((JSON.parse(allowed.stdout) as { outcome: string }).outcome, 'succeeded');

  // Alice's own application, restored into a namespace she may not restore into: refused before the foundation.
  const intoOther = await cairnAs(alice, audit, 'restore', own.name, '--namespace', other.name, '--wait', '--output', 'json');
  assert.equal(intoOther.code, 1, intoOther.stderr);
  const intoOtherReport = JSON.parse(intoOther.stdout) as { workflowId: string; error: string };
  assert.match(intoOtherReport.error, new RegExp(`forbidden: user "${alice.name}" cannot restore runs\\.cairn\\.io in namespace "${other.name}"`));
  assert.ok(!activityTypes(await fixture.client.workflow.getHandle(intoOtherReport.workflowId).fetchHistory()).includes('restoreResources'));
  const configMaps = await kube.core.listNamespacedConfigMap({ namespace: other.name });
  assert.ok(!configMaps.items.some((item) => item.metadata?.name === 'settings'), 'nothing was restored into the other namespace');

  const decisions = auditLines(workerAudit).filter((line) => line.action === 'run.authorize' && line.what.application !== undefined);
  assert.deepEqual(
    decisions.map((line) => [line.outcome, line.what.action, line.where.namespace]),
    [['denied', 'backup', other.name], ['allowed', 'backup', own.name], ['denied', 'restore', other.name]],
  );
});

it('a drill by a namespace-scoped operator runs its restore in the drill namespace under a grant that goes with it', async () => {
  const audit = join(mkdtempSync(join(tmpdir(), 'cairn-audit-')), 'cli.jsonl');
  const name = `drill-${own.name.slice(-8)}`;
  const file = join(mkdtempSync(join(tmpdir(), 'cairn-authz-drill-')), `${name}.yaml`);
  // No workload to wait for: what is restored is the namespace's objects, under the worker's authorization.
  writeFileSync(file, `apiVersion: cairn.io/v1alpha1\nkind: Application\nmetadata: {name: ${name}}\nspec:\n  namespace: ${own.name}\n  components: [{name: web, workload: {kind: Deployment, name: web}, readiness: {workload: false}}]\n  resources: {includeKinds: [ConfigMap]}\n`);
  await kube.core.createNamespacedConfigMap({ namespace: own.name, body: { metadata: { name: 'drilled' }, data: { colour: 'green' } } });
  const backedUp = await cairnAs(alice, audit, 'backup', file, '--wait', '--output', 'json');
  assert.equal(backedUp.code, 0, backedUp.stderr);

  // Alice holds restore rights in her namespace only; the drill namespace is new. The drill grants them there.
  const drill = await cairnAs(alice, audit, 'drill', name, '--output', 'json');
  assert.equal(drill.code, 0, `${drill.stdout}\n${drill.stderr}`);
  const report = { report: JSON.parse(drill.stdout) as DrillReport };
  assert.equal(report.report.passed, true, JSON.stringify(report.report.checks));
  assert.ok(report.report.namespace.startsWith(`${own.name}-drill-`), report.report.namespace);
  assert.equal(report.report.cleanedUp, true);

  const decisions = auditLines(workerAudit).filter((line) => line.action === 'run.authorize' && line.what.application === name);
  assert.deepEqual(
    decisions.map((line) => [line.outcome, line.what.action, line.where.namespace]),
    [['allowed', 'backup', own.name], ['allowed', 'restore', own.name], ['allowed', 'restore', report.report.namespace]],
    'the source was checked for the drill, and the drill\'s own restore passed the check in the drill namespace',
  );
  // The grant went with the namespace: alice holds nothing there any more.
  const review = await kube.config.makeApiClient((await import('@kubernetes/client-node')).AuthorizationV1Api).createSubjectAccessReview({
    body: { spec: { user: alice.name, groups: ['team-a'], resourceAttributes: { group: 'cairn.io', resource: 'runs', verb: 'restore', namespace: report.report.namespace } } },
  });
  assert.equal(review.status?.allowed, false);
});

function activityTypes(history: Awaited<ReturnType<ReturnType<TemporalFixture['client']['workflow']['getHandle']>['fetchHistory']>>): string[] {
  return (history.events ?? []).flatMap((event) => {
    const name = event.activityTaskScheduledEventAttributes?.activityType?.name;
    return name ? [name] : [];
  });
}
