/** What the exec-based functions share: the pod and container a command runs in, and the repository. */
import { defaultLocation, openRepository, type Repository } from '../kopia/repository.ts';
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

/** One repository per application; until Application specs exist, the application is the target's namespace. */
export function repositoryFor(context: FunctionContext): Promise<Repository> {
  return openRepository(defaultLocation(), context.template.Namespace);
}

export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
