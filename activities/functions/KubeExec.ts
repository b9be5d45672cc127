/**
 * KubeExec: runs a command in a container of a running pod. Phase outputs are the
 * `###Phase-output###` lines of its stdout. A non-zero exit fails the phase with the stderr tail.
 */
import { execInPod, tail } from '../kube/exec.ts';
import { parsePhaseOutputs } from './phase-output.ts';
import { PermanentFunctionError, type CairnFunction } from './types.ts';

export const KubeExec: CairnFunction = {
  name: 'KubeExec',
  async run({ args, kube, heartbeat, signal }) {
    const namespace = String(args.namespace);
    const podName = String(args.pod);
    const command = (args.command as string[]).map(String);
    const { core, config } = kube();
    let pod;
    try {
      pod = await core.readNamespacedPod({ name: podName, namespace });
    } catch {
      throw new PermanentFunctionError(`pod ${namespace}/${podName} not found`);
    }
    const container = args.container ? String(args.container) : pod.spec?.containers[0]?.name;
    if (!container || !pod.spec?.containers.some((c) => c.name === container)) {
      throw new PermanentFunctionError(`pod ${namespace}/${podName} has no container "${String(args.container)}" (it has ${pod.spec?.containers.map((c) => c.name).join(', ')})`);
    }
    let bytes = 0;
    const result = await execInPod(config, {
      namespace,
      pod: podName,
      container,
      command,
      signal,
      onData: (n) => {
        bytes += n;
        heartbeat({ stdoutBytes: bytes });
      },
    });
    if (result.exitCode !== 0) {
      throw new Error(`command exited ${result.exitCode} in ${namespace}/${podName} (${container})${result.stderr ? `; stderr:\n${tail(result.stderr)}` : ''}`);
    }
    return parsePhaseOutputs(result.stdout);
  },
};
