/**
 * KubeExec: runs a command in a container of a running pod. Phase outputs are the
 * `###Phase-output###` lines of its stdout. A non-zero exit fails the phase with the stderr tail.
 */
import { execInPod, tail } from '../kube/exec.ts';
import { parsePhaseOutputs } from './phase-output.ts';
import { resolveEndpoint } from './exec-target.ts';
import type { CairnFunction } from './types.ts';

export const KubeExec: CairnFunction = {
  name: 'KubeExec',
  async run(context) {
    const { kube, heartbeat, signal } = context;
    const endpoint = await resolveEndpoint(context);
    let bytes = 0;
    const result = await execInPod(kube().config, {
      ...endpoint,
      signal,
      onData: (n) => {
        bytes += n;
        heartbeat({ stdoutBytes: bytes });
      },
    });
    if (result.exitCode !== 0) {
      throw new Error(`command exited ${result.exitCode} in ${endpoint.namespace}/${endpoint.pod} (${endpoint.container})${result.stderr ? `; stderr:\n${tail(result.stderr)}` : ''}`);
    }
    return parsePhaseOutputs(result.stdout);
  },
};
