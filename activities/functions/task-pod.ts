/**
 * The life of a one-off pod that runs to completion (KubeTask, MultiContainerRun, PrepareData): create it
 * under its run-and-phase name (a retried attempt finds the pod of the attempt before and waits for it), wait
 * until it has Succeeded or Failed, take the phase outputs from one container's log (`###Phase-output###`
 * lines, as `kando output` prints them), and always delete it.
 */
import type * as k8s from '@kubernetes/client-node';
import type { JsonObject, JsonValue } from '../../src/json.ts';
import { isNotFound } from '../../src/kube/clients.ts';
import { deepMerge } from '../kube/pod-override.ts';
import { tail } from '../kube/exec.ts';
import { injectSecretEnv, kandoLocation, ownSecretByPod, withKandoSecret } from './kando-location.ts';
import { pause } from './pause.ts';
import { parsePhaseOutputs } from './phase-output.ts';
import type { FunctionContext, FunctionOutputs } from './types.ts';

export interface TaskPodOptions {
  /** The container whose log holds the phase outputs (default: the first). */
  outputContainer?: string;
  /** What the pod is, in messages: `task pod`. */
  label?: string;
  /** Applied to every log before it is parsed or quoted (hides injected credentials a command echoed). */
  scrub?: (text: string) => string;
  /** Called once the pod exists (created now or by an earlier attempt). */
  onCreated?: (pod: k8s.V1Pod) => Promise<void>;
}

const POLL_MS = 500;

/**
 * A task pod's manifest: `spec` with `restartPolicy: Never`, labelled as Cairn's, with the function's
 * `podLabels`/`podAnnotations` and its `podOverride` merged in (Kanister's semantics, pod-override.ts).
 */
export function taskPodManifest(
  name: string,
  namespace: string,
  spec: k8s.V1PodSpec,
  args: { podOverride?: JsonValue; podLabels?: JsonValue; podAnnotations?: JsonValue },
  annotations: Record<string, string> = {},
): k8s.V1Pod {
  return deepMerge(
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace,
        labels: { 'app.kubernetes.io/managed-by': 'cairn', ...((args.podLabels ?? {}) as Record<string, string>) },
        annotations: { ...annotations, ...((args.podAnnotations ?? {}) as Record<string, string>) },
      },
      spec: { ...spec, restartPolicy: 'Never' },
    },
    { spec: (args.podOverride ?? {}) as JsonObject },
  ) as k8s.V1Pod;
}

/**
 * `runTaskPod`, with the run's location in the containers' environment when `withLocation` (for kando): a
 * Secret of the phase, owned by the pod, deleted when the phase ends (kando-location.ts).
 */
export async function runTaskPodWithLocation(context: FunctionContext, manifest: k8s.V1Pod, withLocation: boolean, options: TaskPodOptions = {}): Promise<FunctionOutputs> {
  if (!withLocation) return runTaskPod(context, manifest, options);
  const location = await kandoLocation(context);
  return withKandoSecret(context, manifest.metadata!.namespace!, location, (secretName) => {
    injectSecretEnv(manifest, secretName);
    return runTaskPod(context, manifest, { ...options, scrub: location.scrub, onCreated: (pod) => ownSecretByPod(context, secretName, pod) });
  });
}

export async function runTaskPod(context: FunctionContext, manifest: k8s.V1Pod, options: TaskPodOptions = {}): Promise<FunctionOutputs> {
  const { core } = context.kube();
  const namespace = manifest.metadata!.namespace!;
  const name = manifest.metadata!.name!;
  const label = options.label ?? 'task pod';
  const scrub = options.scrub ?? ((text: string) => text);
  const outputContainer = options.outputContainer ?? manifest.spec!.containers[0]!.name;
  try {
    let created: k8s.V1Pod;
    try {
      created = await core.createNamespacedPod({ namespace, body: manifest });
      context.log(`${label} created`, { pod: name });
    } catch (error) {
      if ((error as { code?: number }).code !== 409) throw new Error(`cannot create pod ${namespace}/${name}: ${(error as Error).message}`);
      context.log(`${label} of an earlier attempt found; waiting for it`, { pod: name });
      created = await core.readNamespacedPod({ namespace, name });
    }
    await options.onCreated?.(created);
    let pod = created;
    for (;;) {
      pod = await core.readNamespacedPod({ namespace, name });
      const phase = pod.status?.phase ?? 'Pending';
      context.heartbeat({ pod: name, phase, ...waitingReason(pod) });
      if (phase === 'Succeeded' || phase === 'Failed') break;
      await pause(POLL_MS, context.signal, `cancelled while pod ${namespace}/${name} was ${phase}`);
    }
    const output = scrub(await core.readNamespacedPodLog({ namespace, name, container: outputContainer }).catch(() => ''));
    if (pod.status?.phase === 'Failed') throw new Error(await failure(context, pod, label, outputContainer, output, scrub));
    return parsePhaseOutputs(output);
  } finally {
    await core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 }).catch((error: unknown) => {
      if (!isNotFound(error)) context.log(`could not delete the ${label}`, { pod: name, error: (error as Error).message });
    });
  }
}

function waitingReason(pod: k8s.V1Pod): { waiting?: string } {
  const waiting = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].map((s) => s.state?.waiting?.reason).find(Boolean);
  return waiting ? { waiting } : {};
}

/** Names each container that failed with its exit code and log tail; the output container's log otherwise. */
async function failure(context: FunctionContext, pod: k8s.V1Pod, label: string, outputContainer: string, output: string, scrub: (text: string) => string): Promise<string> {
  const namespace = pod.metadata!.namespace!;
  const name = pod.metadata!.name!;
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const failed = statuses.filter((s) => (s.state?.terminated?.exitCode ?? 0) !== 0);
  const several = pod.spec!.containers.length + (pod.spec!.initContainers?.length ?? 0) > 1;
  if (!several || failed.length === 0) return `${label} ${namespace}/${name} failed${output ? `; log:\n${tail(output)}` : ''}`;
  const parts: string[] = [];
  for (const status of failed) {
    const log = status.name === outputContainer ? output : scrub(await context.kube().core.readNamespacedPodLog({ namespace, name, container: status.name }).catch(() => ''));
    parts.push(`container ${status.name} exited ${status.state!.terminated!.exitCode}${log ? `; log:\n${tail(log)}` : ''}`);
  }
  return `${label} ${namespace}/${name} failed: ${parts.join('\n')}`;
}
