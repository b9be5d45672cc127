/**
 * RestoreStream: a kopia snapshot streams into the stdin of a command run in a pod (restoreIntoCommand: framed
 * by `head -c <size>` so the command sees the end of its input on kwok, whose exec never delivers stdin's end,
 * as on a real kubelet, and counted in the pod so a cut stream fails instead of passing for a whole restore).
 */
import { findSnapshot } from '../kopia/snapshots.ts';
import { STREAM_FILE } from './BackupStream.ts';
import { restoreIntoCommand } from './data-stream.ts';
import { repositoryFor, resolveEndpoint, shellQuote } from './exec-target.ts';
import { PermanentFunctionError, type CairnFunction } from './types.ts';

export const RestoreStream: CairnFunction = {
  name: 'RestoreStream',
  async run(context) {
    const { args } = context;
    const { command, ...endpoint } = await resolveEndpoint(context);
    const repository = await repositoryFor(context);
    const snapshotID = String(args.snapshotID);
    const snapshot = await findSnapshot(repository, snapshotID);
    if (!snapshot) throw new PermanentFunctionError(`no snapshot ${snapshotID} in repository ${repository.application}`);
    return restoreIntoCommand(context, repository, snapshot, STREAM_FILE, endpoint, command.map(shellQuote).join(' '), 'restore command');
  },
};
