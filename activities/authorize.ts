/**
 * The authorization gate of every run: before a blueprint run's first phase (compileAction) and before an
 * Application backup, restore or drill touches anything (authorizeApplication). The decision comes from the API
 * server (src/authz/authorize.ts); it is audited either way, and a denial is final.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { AuditLog } from '../src/audit/audit-log.ts';
import { authorizeRun, type AuthorizationSettings } from '../src/authz/authorize.ts';
import type { KubeClients } from '../src/kube/clients.ts';
import type { RunRequester } from '../src/run/types.ts';

export interface AuthorizeDeps {
  kube?: () => KubeClients;
  authorization?: AuthorizationSettings;
  audit?: AuditLog;
}

export interface AccessRequest {
  action: string;
  namespace: string;
  requestedBy?: RunRequester;
  /** What the audit line names besides the workflow: blueprint, application, target. */
  what: Record<string, string>;
  where: Record<string, string>;
}

/** Throws a non-retryable `Forbidden` failure when the worker enforces authorization and the requester may not. */
export async function requireAccess(deps: AuthorizeDeps, request: AccessRequest): Promise<void> {
  if (!deps.authorization?.enforce) return;
  if (!deps.kube) throw ApplicationFailure.nonRetryable('authorization is enforced but this worker has no cluster to ask', 'Forbidden');
  const decision = await authorizeRun(deps.kube().config, {
    action: request.action,
    namespace: request.namespace,
    ...(request.requestedBy ? { requestedBy: request.requestedBy } : {}),
  });
  const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
  deps.audit?.record({
    who: request.requestedBy ?? {},
    action: 'run.authorize',
    what: { workflowId, action: request.action, ...request.what },
    where: { namespace: request.namespace, ...request.where },
    outcome: decision.allowed ? 'allowed' : 'denied',
    ...(decision.allowed ? {} : { reason: decision.message }),
  });
  if (!decision.allowed) throw ApplicationFailure.nonRetryable(decision.message, 'Forbidden');
}
