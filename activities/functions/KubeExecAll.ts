/**
 * KubeExecAll: runs one command in every given container of every given pod, in parallel (at most
 * PARALLELISM at a time). `pods` and `containers` are Kanister's space-separated strings or lists; without
 * `containers`, each pod's first container. Every pod and container is checked before anything runs, so a
 * missing one fails the phase without having run the command anywhere. The phase fails if the command fails in
 * any container, naming each one with its stderr tail, after all have finished (as Kanister waits for all).
 *
 * Outputs: Kanister concatenates the stdout of all containers and reads its `###Phase-output###` lines, so the
 * outputs of all pods land in one map. Cairn does the same in a fixed order — pods as listed, then containers as
 * listed — so when several containers print the same key, the last in that order wins (in Kanister it is
 * whichever finished last).
 */
import { execInPod, tail, type ExecResult } from '../kube/exec.ts';
import { parsePhaseOutputs } from './phase-output.ts';
import { PermanentFunctionError, type CairnFunction, type FunctionContext } from './types.ts';

const PARALLELISM = 8;

interface Target {
  pod: string;
  container: string;
}

export const KubeExecAll: CairnFunction = {
  name: 'KubeExecAll',
  async run(context) {
    const { args, kube, heartbeat, signal, log } = context;
    const namespace = String(args.namespace);
    const command = (args.command as unknown[]).map(String);
    const targets = await resolveTargets(context, namespace, names(args.pods, 'pods'), args.containers === undefined ? undefined : names(args.containers, 'containers'));

    const results: (ExecResult | Error | undefined)[] = new Array<ExecResult | Error | undefined>(targets.length);
    let bytes = 0;
    let finished = 0;
    const report = () => heartbeat({ containers: targets.length, finished, failed: results.filter((r) => r instanceof Error || (r && r.exitCode !== 0)).length, stdoutBytes: bytes });
    report();
    let next = 0;
    const worker = async () => {
      while (next < targets.length && !signal.aborted) {
        const index = next++;
        const { pod, container } = targets[index]!;
        try {
          results[index] = await execInPod(kube().config, { namespace, pod, container, command, signal, onData: (n) => {
            bytes += n;
            report();
          } });
        } catch (error) {
          results[index] = error instanceof Error ? error : new Error(String(error));
        }
        finished += 1;
        log('command finished', { pod, container, exitCode: results[index] instanceof Error ? null : (results[index] as ExecResult).exitCode });
        report();
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLELISM, targets.length) }, worker));
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('cancelled');

    const failures = targets.flatMap((target, index) => {
      const result = results[index]!;
      if (result instanceof Error) return [`${namespace}/${target.pod} (${target.container}): ${result.message}`];
      if (result.exitCode === 0) return [];
      return [`${namespace}/${target.pod} (${target.container}): exited ${result.exitCode}${result.stderr ? `; stderr:\n${tail(result.stderr)}` : ''}`];
    });
    if (failures.length > 0) throw new Error(`command failed in ${failures.length} of ${targets.length} containers:\n${failures.join('\n')}`);
    return Object.assign({}, ...results.map((result) => parsePhaseOutputs((result as ExecResult).stdout)));
  },
};

/** Kanister passes `"pod-0 pod-1"`; Cairn also takes a list. */
function names(value: unknown, arg: string): string[] {
  const list = Array.isArray(value) ? value.map(String).flatMap((item) => item.split(/\s+/)) : String(value ?? '').split(/\s+/);
  const unique = [...new Set(list.filter((name) => name !== ''))];
  if (unique.length === 0) throw new PermanentFunctionError(`args.${arg} names no ${arg.replace(/s$/, '')}`);
  return unique;
}

async function resolveTargets(context: FunctionContext, namespace: string, pods: string[], containers: string[] | undefined): Promise<Target[]> {
  const { core } = context.kube();
  const problems: string[] = [];
  const targets: Target[] = [];
  for (const podName of pods) {
    let pod;
    try {
      pod = await core.readNamespacedPod({ name: podName, namespace });
    } catch (error) {
      if ((error as { code?: number }).code !== 404) throw error;
      problems.push(`pod ${namespace}/${podName} not found`);
      continue;
    }
    const present = pod.spec?.containers.map((c) => c.name) ?? [];
    const wanted = containers ?? present.slice(0, 1);
    for (const container of wanted) {
      if (present.includes(container)) targets.push({ pod: podName, container });
      else problems.push(`pod ${namespace}/${podName} has no container "${container}" (it has ${present.join(', ')})`);
    }
  }
  if (problems.length > 0) throw new PermanentFunctionError(`${problems.join('; ')}; the command ran nowhere`);
  return targets;
}
