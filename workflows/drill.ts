/**
 * drillApplication: a DR drill. Restores an application restore point (the latest by default) into an
 * isolated namespace `<source namespace>-<suffix>` through the real restore (a child restoreApplication, with
 * each component's readiness and blueprint `validate` action), reports RTO and checks, then deletes the
 * namespace, also when the restore failed or the drill was cancelled. The source is never written to: the
 * restore refuses any object that exists (policy `fail`), and its resourceVersions are compared before/after.
 * Deterministic code only.
 */
import { ActivityCancellationType, ApplicationFailure, CancellationScope, defineQuery, executeChild, isCancellation, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { innermostMessage } from '../src/diagnostics.ts';
import {
  DRILL_LABEL,
  sourceKey,
  type ApplicationActivities,
  type ApplicationRestoreInput,
  type ApplicationRestoreResult,
  type DrillActivities,
  type DrillCheck,
  type DrillInput,
  type DrillReport,
  type DrillSourceState,
  type TransformSpec,
} from '../src/application/types.ts';

export interface DrillProgress {
  stage: 'reading restore point' | 'isolating' | 'restoring' | 'checking source' | 'cleaning up' | 'done';
  namespace?: string;
  restoreWorkflowId?: string;
  report?: DrillReport;
}

export const drillProgressQuery = defineQuery<DrillProgress>('drillProgress');

/** An IngressClass no controller serves: restored Ingresses exist but route nothing. */
export const DRILL_INGRESS_CLASS = 'cairn-drill-unserved';
const CLEANUP_TIMEOUT_MS = 10 * 60_000;

const activities = proxyActivities<Pick<ApplicationActivities, 'readApplicationRestorePoint' | 'authorizeApplication'> & DrillActivities>({
  startToCloseTimeout: '2 minutes',
  // A cancelled drill waits for a namespace being created to exist before it deletes it, never racing it.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { maximumAttempts: 5, initialInterval: '1 second', nonRetryableErrorTypes: ['CairnError', 'Forbidden'] },
});

const cleanup = proxyActivities<DrillActivities>({
  startToCloseTimeout: CLEANUP_TIMEOUT_MS + 60_000,
  heartbeatTimeout: '30 seconds',
  retry: { maximumAttempts: 5, initialInterval: '2 seconds', nonRetryableErrorTypes: ['CairnError'] },
});

/** `<source>-<suffix>`, cut to a DNS label (63 characters) by shortening the source part. */
export function drillNamespace(source: string, suffix: string): string {
  const room = 63 - suffix.length - 1;
  return `${source.slice(0, room).replace(/-+$/, '')}-${suffix}`;
}

/** What keeps a restored copy from being reached as, or acting as, the production application. */
export function isolationTransforms(drill: string, ingressHosts: string[]): TransformSpec {
  return {
    labels: { set: { [DRILL_LABEL]: drill } },
    annotations: { remove: ['kubernetes.io/ingress.class', 'external-dns.alpha.kubernetes.io/*'] },
    services: {
      type: { LoadBalancer: 'ClusterIP', NodePort: 'ClusterIP' },
      dropNodePorts: true,
      removeAnnotations: ['service.beta.kubernetes.io/*', 'service.kubernetes.io/*', 'cloud.google.com/*', 'metallb.universe.tf/*', 'external-dns.alpha.kubernetes.io/*'],
    },
    ingressHosts: Object.fromEntries(ingressHosts.map((host) => [host, host.startsWith('*.') ? `*.${drill}.${host.slice(2)}` : `${drill}.${host}`])),
    patches: [{ kind: 'Ingress', operations: [{ op: 'add', path: '/spec/ingressClassName', value: DRILL_INGRESS_CLASS }] }],
  };
}

/** The source objects whose resourceVersion moved (or that appeared or vanished) during the drill. */
export function changedObjects(before: DrillSourceState['resourceVersions'], after: DrillSourceState['resourceVersions']): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.filter((key) => before[key] !== after[key]).map((key) => `${key} (${before[key] ?? 'unread'} → ${after[key] ?? 'unread'})`);
}

const SUFFIX = /^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/;

export async function drillApplication(input: DrillInput): Promise<DrillReport> {
  const info = workflowInfo();
  const drill = input.suffix ?? `drill-${info.runId.replace(/-/g, '').slice(-8)}`;
  if (!SUFFIX.test(drill)) throw ApplicationFailure.nonRetryable(`drill suffix "${drill}" must be a DNS label of at most 32 characters`, 'CairnError');
  const progress: DrillProgress = { stage: 'reading restore point' };
  setHandler(drillProgressQuery, () => progress);

  const point = await activities.readApplicationRestorePoint({ application: input.application, ...(input.restorePoint ? { id: input.restorePoint } : {}), ...(input.profile ? { profile: input.profile } : {}) });
  const sourceNamespace = point.spec?.spec.namespace ?? point.target.replace(/^namespace\//, '');
  const namespace = drillNamespace(sourceNamespace, drill);
  progress.namespace = namespace;
  // A drill restores a copy of the source: its requester must be allowed to restore the source namespace.
  await activities.authorizeApplication({
    action: 'restore',
    application: input.application,
    namespace: sourceNamespace,
    ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
  });
  const sourceItems = (point.resources?.items ?? []).filter((item) => item.namespace === sourceNamespace);
  const before = await activities.inspectDrillSource({ namespace: sourceNamespace, items: sourceItems });

  const checks: DrillCheck[] = [];
  let restored: ApplicationRestoreResult | undefined;
  let failure: unknown;
  try {
    progress.stage = 'isolating';
    await activities.createDrillNamespace({
      namespace,
      drill,
      application: input.application,
      sourceNamespace,
      workflowId: info.workflowId,
      ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
    });
    checks.push({ name: 'isolated namespace', passed: true, detail: `${namespace}, deny-all NetworkPolicies in place before the restore` });
    progress.stage = 'restoring';
    progress.restoreWorkflowId = `${info.workflowId}-restore`;
    const restoreInput: ApplicationRestoreInput = {
      application: input.application,
      restorePoint: point.id,
      ...(input.profile ? { profile: input.profile } : {}),
      targetNamespace: namespace,
      transforms: isolationTransforms(drill, before.ingressHosts),
      existing: 'fail',
      ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
    };
    restored = await executeChild<(input: ApplicationRestoreInput) => Promise<ApplicationRestoreResult>>('restoreApplication', {
      workflowId: progress.restoreWorkflowId,
      args: [restoreInput],
    });
    for (const component of restored.components) {
      checks.push({ name: `ready: ${component.name}`, passed: true, detail: `ready ${((component.readyAtMs - component.startedAtMs) / 1000).toFixed(1)}s after it started, ${(component.readyAtMs / 1000).toFixed(1)}s into the restore` });
      if (component.validated) checks.push({ name: `validate: ${component.name}`, passed: true, detail: "the blueprint's validate action passed" });
    }
  } catch (error) {
    failure = error;
    checks.push({ name: progress.stage === 'isolating' ? 'isolated namespace' : 'restore', passed: false, detail: innermostMessage(error) });
  }

  // Everything below runs even when the drill is being cancelled: a drill never leaves its namespace behind.
  return CancellationScope.nonCancellable(async () => {
    progress.stage = 'checking source';
    try {
      const after = await activities.inspectDrillSource({ namespace: sourceNamespace, items: sourceItems });
      const changed = changedObjects(before.resourceVersions, after.resourceVersions);
      checks.push({
        name: 'source untouched',
        passed: changed.length === 0,
        detail: changed.length ? `changed during the drill: ${changed.join(', ')}` : `${Object.keys(before.resourceVersions).length} objects in ${sourceNamespace}, resourceVersions unchanged`,
      });
    } catch (error) {
      checks.push({ name: 'source untouched', passed: false, detail: `could not read the source again: ${innermostMessage(error)}` });
    }

    let cleanedUp = false;
    if (input.keep) {
      checks.push({ name: 'cleanup', passed: true, detail: `kept ${namespace} (--keep): delete it with 'kubectl delete namespace ${namespace}'` });
    } else {
      progress.stage = 'cleaning up';
      try {
        const deleted = await cleanup.deleteDrillNamespace({ namespace, drill, timeoutMs: CLEANUP_TIMEOUT_MS });
        cleanedUp = true;
        checks.push({ name: 'cleanup', passed: true, detail: deleted.skipped ?? `${namespace} ${deleted.deleted ? 'deleted' : 'was never created'}` });
      } catch (error) {
        checks.push({ name: 'cleanup', passed: false, detail: `${namespace} may remain: ${innermostMessage(error)}` });
      }
    }

    const report: DrillReport = {
      application: input.application,
      restorePoint: point.id,
      namespace,
      rtoMs: restored?.rtoMs ?? 0,
      checks,
      dataVerified: restored !== undefined && restored.components.some((component) => component.validated),
      cleanedUp,
      passed: failure === undefined && checks.every((check) => check.passed),
    };
    progress.report = report;
    progress.stage = 'done';
    if (failure !== undefined && isCancellation(failure)) throw failure;
    if (!report.passed) {
      const failed = checks.filter((check) => !check.passed).map((check) => `${check.name}: ${check.detail ?? 'failed'}`);
      throw ApplicationFailure.create({ type: 'DrillFailed', message: `drill of ${input.application} failed: ${failed.join('; ')}`, nonRetryable: true, details: [report] });
    }
    return report;
  });
}
