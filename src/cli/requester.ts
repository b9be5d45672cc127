/** Who runs a command, as the API server knows them: the `requestedBy` of the run it starts. */
import { callerRequester } from '../authz/identity.ts';
import { loadKubeConfig } from '../kube/clients.ts';
import type { RunRequester } from '../run/types.ts';
import type { CommandIO } from './io.ts';

/** `{ requestedBy }` to spread into a run's input, or `{}` (with a warning on stderr) when the caller is unknown. */
export async function requesterOf(command: string, io: CommandIO): Promise<{ requestedBy?: RunRequester }> {
  const identity = await callerRequester(() => loadKubeConfig());
  if (identity.warning) io.stderr(`cairn ${command}: ${identity.warning}\n`);
  return identity.requester ? { requestedBy: identity.requester } : {};
}
