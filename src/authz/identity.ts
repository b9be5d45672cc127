/**
 * Who is asking, as the Kubernetes API server sees them. The CLI asks the API server itself (a
 * SelfSubjectReview, authentication.k8s.io/v1, GA since Kubernetes 1.28) rather than reading names out of
 * the kubeconfig: a client certificate, an OIDC token or an exec plugin all come back as the same user/groups.
 */
import * as k8s from '@kubernetes/client-node';
import type { RunRequester } from '../run/types.ts';

/** The caller of `config`, as the API server authenticated them. */
export async function selfIdentity(config: k8s.KubeConfig): Promise<RunRequester> {
  const review = await config.makeApiClient(k8s.AuthenticationV1Api).createSelfSubjectReview({
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });
  const user = review.status?.userInfo;
  if (!user?.username) throw new Error('the API server returned no user name for this kubeconfig');
  return { user: user.username, ...(user.groups?.length ? { groups: user.groups } : {}) };
}

/** The subject a SubjectAccessReview checks: a ServiceAccount becomes its user name and groups. */
export function subjectOf(requester: RunRequester): { user: string; groups: string[] } | undefined {
  if (requester.serviceAccount) {
    const [namespace, name, ...rest] = requester.serviceAccount.split('/');
    if (!namespace || !name || rest.length) return undefined;
    return {
      user: `system:serviceaccount:${namespace}:${name}`,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
    };
  }
  if (!requester.user) return undefined;
  return { user: requester.user, groups: requester.groups ?? [] };
}

/** `alice`, `alice (groups team-a)`, `serviceaccount shop/ui`: how messages and the audit log name someone. */
export function describeRequester(requester: RunRequester | undefined): string {
  if (!requester) return 'nobody (the run names no requester)';
  if (requester.serviceAccount) return `serviceaccount ${requester.serviceAccount}`;
  return `user "${requester.user ?? '?'}"`;
}

/**
 * The CLI's requester: whoever the current kubeconfig authenticates as. Never fails a command: without a
 * cluster (or on an API server older than 1.28) the run carries no requester and a worker that enforces
 * authorization rejects it, saying why.
 */
export async function callerRequester(loadConfig: () => k8s.KubeConfig, timeoutMs = 5000): Promise<{ requester?: RunRequester; warning?: string }> {
  try {
    const requester = await Promise.race([
      selfIdentity(loadConfig()),
      new Promise<never>((_, reject) => {
        setTimeout(() => reject(new Error(`no answer in ${timeoutMs / 1000} s`)), timeoutMs).unref();
      }),
    ]);
    return { requester };
  } catch (error) {
    const code = (error as { code?: number }).code;
    return { warning: `could not tell who you are from your kubeconfig (SelfSubjectReview: ${code ? `HTTP ${code}` : (error as Error).message}); the run names no requester` };
  }
}
