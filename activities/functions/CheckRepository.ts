/**
 * CheckRepository (Kanister's name and args): whether the run's location holds a usable repository for the
 * application, without creating one. Outputs as Kanister's: `repoUnavailable` ("true" when the location has no
 * repository for the application yet) and `passwordIncorrect` ("true" when its key cannot be unwrapped with
 * the worker's KEK or kopia refuses the unwrapped password), both "false" for a good repository, which is
 * then verified (`kopia snapshot verify`: every snapshot's objects are present; a missing one fails the phase)
 * and described by `snapshots` (how many) and `profile`. Cairn keeps one repository per (profile,
 * application); `backupArtifactPrefix` is accepted for Kanister blueprints and does not choose another.
 */
import { kopiaOrThrow } from '../kopia/kopia.ts';
import { openRepository, repositoryPassword } from '../kopia/repository.ts';
import { listSnapshotEntries } from '../kopia/snapshots.ts';
import { WrongKekError } from '../location/envelope.ts';
import { openLocation } from '../location/location.ts';
import { profileOf } from '../location/run-profile.ts';
import { keyFileKey, kopiaDir } from '../../src/location/layout.ts';
import { heartbeatEvery } from './data-stream.ts';
import type { CairnFunction } from './types.ts';

const verdict = (repoUnavailable: boolean, passwordIncorrect: boolean) => ({ repoUnavailable: String(repoUnavailable), passwordIncorrect: String(passwordIncorrect) });

export const CheckRepository: CairnFunction = {
  name: 'CheckRepository',
  async run(context) {
    const { template, kube, log } = context;
    const application = context.application ?? template.Namespace;
    const profile = await profileOf(template, kube);
    const location = await openLocation(profile, { kube });
    const [key, format] = await Promise.all([location.store.read(keyFileKey(application)), kopiaFormatBlob(location, application)]);
    if (!key || !format) {
      log('no repository for the application in the location', { profile: profile.name, key: !!key, repository: format });
      return { ...verdict(true, false), profile: profile.name, snapshots: 0 };
    }
    try {
      await repositoryPassword(location, application);
    } catch (error) {
      if (!(error instanceof WrongKekError)) throw error;
      log('the repository key does not unwrap with this worker\'s KEK', { profile: profile.name });
      return { ...verdict(false, true), profile: profile.name, snapshots: 0 };
    }
    let repository;
    try {
      repository = await openRepository(location, application);
    } catch (error) {
      if (!/does not accept the password/.test((error as Error).message)) throw error;
      return { ...verdict(false, true), profile: profile.name, snapshots: 0 };
    }
    const stopBeating = heartbeatEvery(context, () => ({ verifying: `${profile.name}/${application}` }));
    try {
      await kopiaOrThrow(repository.session, ['snapshot', 'verify', '--verify-files-percent=0'], 'snapshot verify').catch((error: Error) => {
        throw new Error(location.scrub(`${location.label}: the repository of application ${application} is damaged: ${error.message}`));
      });
    } finally {
      stopBeating();
    }
    const snapshots = (await listSnapshotEntries(repository)).length;
    return { ...verdict(false, false), profile: profile.name, snapshots };
  },
};

/**
 * Whether kopia's format blob is there: `kopia.repository` in an object store, `kopia.repository.f` on a
 * filesystem (kopia's sharded filesystem layout adds the suffix). One read, however big the repository.
 */
async function kopiaFormatBlob(location: Awaited<ReturnType<typeof openLocation>>, application: string): Promise<boolean> {
  const dir = kopiaDir(application);
  for (const name of ['kopia.repository', 'kopia.repository.f']) if (await location.store.read(`${dir}${name}`)) return true;
  return false;
}
