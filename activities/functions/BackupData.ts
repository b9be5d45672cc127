/**
 * BackupData (Kanister's name and args): `includePath` of a running pod's container, as a tar stream exec'd
 * out of the container straight into a kopia snapshot on the worker — nothing staged on disk, nothing needed
 * in the container but `tar`. The snapshot's source is `cairn@<namespace>:/<backupArtifactPrefix>` and it
 * carries the tag `backupTag`; a retried attempt finds its tagged snapshot and returns it. `encryptionKey`
 * is accepted for Kanister blueprints and ignored: the location's repository is encrypted already.
 */
import { repositoryBytes } from '../kopia/repository.ts';
import { artifactSource, completeSnapshots } from '../kopia/snapshots.ts';
import { runTag, snapshotCommandOutput } from './data-stream.ts';
import { repositoryFor, resolveEndpoint } from './exec-target.ts';
import { absolutePathArg, TAR_FILE, tarCreateCommand } from './tar-archive.ts';
import type { CairnFunction } from './types.ts';

export const BackupData: CairnFunction = {
  name: 'BackupData',
  async run(context) {
    const { args, log } = context;
    const includePath = absolutePathArg('includePath', args.includePath);
    const prefix = String(args.backupArtifactPrefix);
    const endpoint = await resolveEndpoint({ ...context, args: { ...args, command: tarCreateCommand(includePath) } });
    const repository = await repositoryFor(context);
    const backupTag = runTag(context, 'backup-data');
    const previous = (await completeSnapshots(repository, { backupTag }))[0];
    if (previous) {
      log('snapshot of an earlier attempt found; not backing up again', { backupID: previous.id });
      return { backupID: previous.id, backupTag, size: previous.size, phySize: 0 };
    }

    const bytesBefore = await repositoryBytes(repository);
    const { snapshotID, bytes } = await snapshotCommandOutput(
      context,
      repository,
      endpoint,
      {
        file: TAR_FILE,
        source: artifactSource(endpoint.namespace, prefix),
        tags: { backupTag, 'cairn-function': 'BackupData', includePath, pod: `${endpoint.namespace}/${endpoint.pod}`, container: endpoint.container },
        description: `BackupData of ${includePath} in ${endpoint.namespace}/${endpoint.pod} (${endpoint.container})`,
      },
      'tar',
    );
    // Growth of the repository after deduplication and compression; approximate when runs share it.
    const phySize = Math.max(0, (await repositoryBytes(repository)) - bytesBefore);
    return { backupID: snapshotID, backupTag, size: bytes, phySize };
  },
};
