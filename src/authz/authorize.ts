/**
 * The authorization check every run passes before its first phase (called from the compileAction activity):
 * a SubjectAccessReview asks the cluster's own authorizer (RBAC, webhooks) whether the requester may do the
 * action's verb on `runs.cairn.io` in the target's namespace. The worker's ServiceAccount needs `create` on
 * `subjectaccessreviews` for this; the decision and its reason come from the API server, not from Cairn.
 */
import * as k8s from '@kubernetes/client-node';
import type { RunRequester } from '../run/types.ts';
import { describeRequester, subjectOf } from './identity.ts';
import { CAIRN_API_GROUP, roleGranting, RUNS_RESOURCE, verbFor } from './verbs.ts';

export interface AuthorizationSettings {
  /** When false, runs are not checked (the local dev worker's default); the chart turns it on. */
  enforce: boolean;
}

export interface RunAccess {
  action: string;
  namespace: string;
  requestedBy?: RunRequester;
}

export type AuthorizationDecision = { allowed: true; subject: string } | { allowed: false; message: string };


export async function authorizeRun(config: k8s.KubeConfig, access: RunAccess): Promise<AuthorizationDecision> {
  const verb = verbFor(access.action);
  const what = `${verb} runs.${CAIRN_API_GROUP} in namespace "${access.namespace}"`;
  if (!access.requestedBy) return { allowed: false, message: `forbidden: the run names no requester (requestedBy), and this worker requires one to ${what}` };
  const subject = subjectOf(access.requestedBy);
  if (!subject) return { allowed: false, message: `forbidden: requestedBy ${JSON.stringify(access.requestedBy)} names no user or ServiceAccount (<namespace>/<name>)` };
  const review = await config.makeApiClient(k8s.AuthorizationV1Api).createSubjectAccessReview({
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: subject.user,
        groups: subject.groups,
        resourceAttributes: { group: CAIRN_API_GROUP, resource: RUNS_RESOURCE, verb, namespace: access.namespace },
      },
    },
  });
  if (review.status?.allowed) return { allowed: true, subject: subject.user };
  const role = roleGranting(verb);
  const hint = role ? ` (bind the ClusterRole ${role}, or admin/edit, in that namespace)` : ` (grant verb "${verb}" on runs.${CAIRN_API_GROUP} in that namespace)`;
  const reason = review.status?.reason ? `: ${review.status.reason}` : '';
  return { allowed: false, message: `forbidden: ${describeRequester(access.requestedBy)} cannot ${what}${hint}${reason}` };
}
