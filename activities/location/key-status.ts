/** Which repositories of a location a KEK opens (`cairn keys status`): checks key files, never prints keys. */
import { keyFileKey, repositoryIdentity } from '../../src/location/layout.ts';
import { parseWrappedKey, unwrapKey } from './envelope.ts';
import type { OpenedLocation } from './location.ts';
import { repositoriesWithKeys } from './rotate.ts';

export interface KeyStatus {
  application: string;
  opens: boolean;
  /** The id of the KEK the key file says it is wrapped under. */
  wrappedUnder?: string;
  error?: string;
}

export async function checkKeys(location: OpenedLocation, kek: Buffer): Promise<KeyStatus[]> {
  const statuses: KeyStatus[] = [];
  for (const application of await repositoriesWithKeys(location)) {
    const key = keyFileKey(application);
    const status: KeyStatus = { application, opens: false };
    try {
      const wrapped = parseWrappedKey((await location.store.read(key))?.toString('utf8') ?? '', key);
      if (wrapped.kek) status.wrappedUnder = wrapped.kek;
      unwrapKey(kek, wrapped, repositoryIdentity(application));
      status.opens = true;
    } catch (error) {
      status.error = location.scrub((error as Error).message);
    }
    statuses.push(status);
  }
  return statuses;
}
