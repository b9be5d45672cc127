/**
 * The location for `kando location push|pull|delete` in a container (deploy/kando/kando, docs/kando.md). kando
 * needs the kopia repository of the run's profile and application: its storage arguments, the unwrapped
 * repository password and, for S3, the profile's keys. Those travel only through the container's environment:
 * - pods Cairn creates (KubeTask, MultiContainerRun, PrepareData) get `envFrom` a Secret of the phase
 *   (`resourceName('kando')` in the pod's namespace), owned by the pod and deleted when the phase ends;
 * - a command exec'd into a running pod (KubeExec) reads them from its stdin before it starts (exec has no env).
 * Never through arguments or rendered templates, which reach logs and workflow history. Output and errors
 * that pass back are scrubbed of the values.
 *
 * When: `locationCredentials: true|false` in the function's args decides; when absent, only a command that
 * runs `kando location` gets them.
 */
import type * as k8s from '@kubernetes/client-node';
import { PassThrough, type Readable } from 'node:stream';
import { isNotFound } from '../../src/kube/clients.ts';
import type { JsonObject, JsonValue } from '../../src/json.ts';
import { repositoryFor, shellQuote } from './exec-target.ts';
import type { FunctionContext } from './types.ts';

export interface KandoLocation {
  /** Variable → value, for the container's environment. */
  env: Record<string, string>;
  /** Hides the values in text that goes back to the workflow (a log that echoed one). */
  scrub(text: string): string;
}

const KANDO_LOCATION = /(^|[\s;&|(`'"/])kando\s+location\b/;

/** Whether the phase's containers get the location: the `locationCredentials` arg, else "the command runs kando location". */
export function wantsKandoLocation(args: JsonObject, commands: (JsonValue | undefined)[]): boolean {
  if (typeof args.locationCredentials === 'boolean') return args.locationCredentials;
  return commands.some((command) => Array.isArray(command) && KANDO_LOCATION.test(command.map(String).join(' ')));
}

/** The environment kando reads, resolved now (the key file is unwrapped on every call, as for Cairn's own functions). */
export async function kandoLocation(context: FunctionContext): Promise<KandoLocation> {
  const repository = await repositoryFor(context);
  const env: Record<string, string> = {
    KOPIA_PASSWORD: repository.session.password,
    KANDO_REPOSITORY: repository.location.kopiaStorage(repository.application, false).map(shellQuote).join(' '),
    KANDO_SOURCE_HOST: repository.application,
    KANDO_PROFILE: repository.profile,
    ...repository.location.kopiaEnv,
  };
  const secrets = [env.KOPIA_PASSWORD!, ...Object.values(repository.location.kopiaEnv)].filter((value) => value.length >= 4);
  return { env, scrub: (text) => secrets.reduce((result, secret) => result.split(secret).join('<redacted>'), text) };
}

/**
 * Runs `use` with a Secret holding `location.env` in `namespace`, named after the run and phase (a retried
 * attempt rewrites the same one), and deletes it afterwards whatever happens.
 */
export async function withKandoSecret<T>(context: FunctionContext, namespace: string, location: KandoLocation, use: (secretName: string) => Promise<T>): Promise<T> {
  const { core } = context.kube();
  const name = context.resourceName('kando');
  const body: k8s.V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'cairn', 'cairn.io/kando-location': 'true' } },
    type: 'Opaque',
    stringData: location.env,
  };
  try {
    await core.createNamespacedSecret({ namespace, body });
  } catch (error) {
    if ((error as { code?: number }).code !== 409) throw new Error(`cannot create the kando location Secret ${namespace}/${name}: HTTP ${(error as { code?: number }).code ?? (error as Error).message}`);
    await core.replaceNamespacedSecret({ namespace, name, body });
  }
  try {
    return await use(name);
  } finally {
    await core.deleteNamespacedSecret({ namespace, name }).catch((error: unknown) => {
      if (!isNotFound(error)) context.log('could not delete the kando location Secret; its owner pod takes it along', { secret: name });
    });
  }
}

/** Adds `envFrom` the Secret to every container and init container of the pod. */
export function injectSecretEnv(pod: k8s.V1Pod, secretName: string): void {
  const spec = pod.spec!;
  for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
    container.envFrom = [...(container.envFrom ?? []), { secretRef: { name: secretName } }];
  }
}

/** Makes the pod the Secret's owner, so that the garbage collector removes it with the pod if the worker never can. */
export async function ownSecretByPod(context: FunctionContext, secretName: string, pod: k8s.V1Pod): Promise<void> {
  const namespace = pod.metadata!.namespace!;
  const ownerReferences: k8s.V1OwnerReference[] = [{ apiVersion: 'v1', kind: 'Pod', name: pod.metadata!.name!, uid: pod.metadata!.uid!, blockOwnerDeletion: false }];
  const { core } = context.kube();
  try {
    const secret = await core.readNamespacedSecret({ namespace, name: secretName });
    secret.metadata = { ...secret.metadata, ownerReferences };
    await core.replaceNamespacedSecret({ namespace, name: secretName, body: secret });
  } catch (error) {
    // Only a safety net: the function deletes the Secret itself when the phase ends.
    context.log('could not make the task pod own the kando location Secret', { secret: secretName, error: (error as Error).message });
  }
}

/**
 * A command exec'd into a running pod, given the location on stdin: `sh` reads exactly the payload's bytes
 * (`head -c`, so kwok's exec, which never delivers stdin's end, works as a kubelet's does), exports it and
 * runs the command with stdin from /dev/null, as an exec without stdin would have it. Needs `sh` and `head` in
 * the container, which an image with kando has.
 */
export function execWithKandoLocation(command: string[], location: KandoLocation): { command: string[]; stdin: Readable } {
  const payload = Buffer.from(
    Object.entries(location.env)
      .map(([key, value]) => `export ${key}=${shellQuote(value)}\n`)
      .join(''),
    'utf8',
  );
  const stdin = new PassThrough();
  // Not ended: the framing ends the read; ending the stream would close the whole exec on older servers.
  stdin.write(payload);
  const script = `eval "$(head -c ${payload.length})" && exec "$@" </dev/null`;
  return { command: ['sh', '-c', script, 'kando-location', ...command], stdin };
}
