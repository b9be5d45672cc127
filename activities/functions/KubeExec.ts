/**
 * KubeExec: runs a command in a container of a running pod. Phase outputs are the
 * `###Phase-output###` lines of its stdout. A non-zero exit fails the phase with the stderr tail. A command
 * that runs `kando location` (or `locationCredentials: true`) gets the run's location on its stdin, exported
 * into its environment before it starts (kando-location.ts): exec cannot set a running container's env.
 */
import { execInPod, tail } from '../kube/exec.ts';
import { parsePhaseOutputs } from './phase-output.ts';
import { resolveEndpoint } from './exec-target.ts';
import { execWithKandoLocation, kandoLocation, wantsKandoLocation } from './kando-location.ts';
import type { CairnFunction } from './types.ts';

export const KubeExec: CairnFunction = {
  name: 'KubeExec',
  async run(context) {
    const { kube, heartbeat, signal, args } = context;
    const endpoint = await resolveEndpoint(context);
    const location = wantsKandoLocation(args, [args.command]) ? await kandoLocation(context) : undefined;
    const withLocation = location ? execWithKandoLocation(endpoint.command, location) : undefined;
    const scrub = location?.scrub ?? ((text: string) => text);
    let bytes = 0;
    try {
      const result = await execInPod(kube().config, {
        ...endpoint,
        ...(withLocation ?? {}),
        signal,
        onData: (n) => {
          bytes += n;
          heartbeat({ stdoutBytes: bytes });
        },
      });
      if (result.exitCode !== 0) {
        throw new Error(`command exited ${result.exitCode} in ${endpoint.namespace}/${endpoint.pod} (${endpoint.container})${result.stderr ? `; stderr:\n${tail(scrub(result.stderr))}` : ''}`);
      }
      return parsePhaseOutputs(scrub(result.stdout));
    } finally {
      withLocation?.stdin.destroy();
    }
  },
};
