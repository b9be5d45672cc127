/**
 * authorizeApplication: the first step of an Application backup, restore or drill when the worker enforces
 * authorization. Component runs are checked again by their own compileAction, but resources are captured and
 * recreated by the application workflow itself, so the requester is checked here before anything is touched:
 * verb `backup` in the application's namespace, `restore` in the namespace restored into.
 */
import { requireAccess, type AuthorizeDeps } from '../authorize.ts';
import type { AuthorizeApplicationInput } from '../../src/application/types.ts';

export function createAuthorizeApplication(deps: AuthorizeDeps) {
  return async function authorizeApplication(input: AuthorizeApplicationInput): Promise<void> {
    await requireAccess(deps, {
      action: input.action,
      namespace: input.namespace,
      ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
      what: { application: input.application },
      where: {},
    });
  };
}
