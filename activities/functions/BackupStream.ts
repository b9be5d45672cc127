/**
 * BackupStream: the stdout of a command run in a pod (a database dump) streams straight into a kopia
 * snapshot, never staged on disk (data-stream.ts). The snapshot is tagged with the run and phase, so a
 * retried attempt that finds its snapshot complete returns it instead of dumping again.
 */
import { repositoryBytes } from '../kopia/repository.ts';
import { artifactSource, completeSnapshots } from '../kopia/snapshots.ts';
import { snapshotCommandOutput } from './data-stream.ts';
import { repositoryFor, resolveEndpoint } from './exec-target.ts';
import type { CairnFunction } from './types.ts';

export const STREAM_FILE = 'stream';

export const BackupStream: CairnFunction = {
  name: 'BackupStream',
  async run(context) {
    const { args, resourceName, log } = context;
    const endpoint = await resolveEndpoint(context);
    const repository = await repositoryFor(context);
    const runTag = resourceName('stream');
    const previous = (await completeSnapshots(repository, { 'cairn-phase': runTag }))[0];
    if (previous) {
      log('snapshot of an earlier attempt found; not streaming again', { snapshotID: previous.id });
      return { snapshotID: previous.id, logicalBytes: previous.size, storedBytes: 0 };
    }

    const bytesBefore = await repositoryBytes(repository);
    const tags: Record<string, string> = { ...((args.tags ?? {}) as Record<string, string>), 'cairn-phase': runTag };
    const { snapshotID, bytes } = await snapshotCommandOutput(context, repository, endpoint, {
      file: STREAM_FILE,
      source: artifactSource(endpoint.namespace, String(args.path ?? `${endpoint.pod}/${endpoint.container}`)),
      tags,
    });
    // Growth of the repository: after deduplication and compression; approximate when runs share it.
    return { snapshotID, logicalBytes: bytes, storedBytes: Math.max(0, (await repositoryBytes(repository)) - bytesBefore) };
  },
};
