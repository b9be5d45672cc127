/**
 * The kopia repository of an application in a location profile, opened inside an activity (credentials are
 * resolved here, each time; only the profile's name travels in workflow history).
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { KubeClients } from '../../src/kube/clients.ts';
import { openRepository, type Repository } from '../kopia/repository.ts';
import { openLocation } from '../location/location.ts';
import { profileSources, resolveProfile, type ProfileSources } from '../location/profiles.ts';

export interface ApplicationActivityDeps {
  kube: () => KubeClients;
  /** Where location profiles are found; default from the environment (activities/location/profiles.ts). */
  profiles?: (kube: () => KubeClients) => ProfileSources;
}

export async function openApplicationRepository(deps: ApplicationActivityDeps, profileName: string | undefined, application: string): Promise<Repository> {
  const profile = await resolveProfile(profileName, (deps.profiles ?? profileSources)(deps.kube)).catch((error: Error) => {
    throw ApplicationFailure.nonRetryable(error.message, 'CairnError');
  });
  const location = await openLocation(profile, { kube: deps.kube });
  return openRepository(location, application);
}
