/** What the exec-based functions share: the pod and container a command runs in, and the repository. */
import { openRepository, type Repository } from '../kopia/repository.ts';
import { openLocation } from '../location/location.ts';
import { profileOf } from '../location/run-profile.ts';
import { PermanentFunctionError, type FunctionContext } from './types.ts';

export interface StreamEndpoint {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
}

export async function resolveEndpoint(context: FunctionContext): Promise<StreamEndpoint> {
  const { args, kube } = context;
  const namespace = String(args.namespace);
  const podName = String(args.pod);
  let pod;
  try {
    pod = await kube().core.readNamespacedPod({ name: podName, namespace });
  } catch {
    throw new PermanentFunctionError(`pod ${namespace}/${podName} not found`);
  }
  const containers = pod.spec?.containers.map((c) => c.name) ?? [];
  const container = args.container ? String(args.container) : containers[0];
  if (!container || !containers.includes(container)) {
    throw new PermanentFunctionError(`pod ${namespace}/${podName} has no container "${String(args.container)}" (it has ${containers.join(', ')})`);
  }
  return { namespace, pod: podName, container, command: (args.command as unknown[]).map(String) };
}

/**
 * The repository of (the run's profile, the application): the run's `application` when an Application workflow
 * set it, else the target's namespace. Credentials are resolved here, inside the activity, each time.
 */
export async function repositoryFor(context: FunctionContext): Promise<Repository> {
  const profile = await profileOf(context.template, context.kube);
  const location = await openLocation(profile, { kube: context.kube });
  return openRepository(location, context.application ?? context.template.Namespace);
}

export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
