/**
 * Key rotation: every repository's DEK in a location re-wrapped under a new KEK, without touching the data
 * (the DEK, kopia's password, stays the same). Crash-safe: each key file is replaced whole (a new file written
 * beside it and renamed over it on a filesystem, one PUT on S3) only after the new wrapping was checked, so
 * every key file is always wrapped under exactly one of the two KEKs, and a rotation that was interrupted is
 * finished by running it again with the same two KEKs.
 */
import { keyFileKey, REPOSITORIES_DIR, repositoryIdentity } from '../../src/location/layout.ts';
import { kekId, parseWrappedKey, serializeWrappedKey, unwrapKey, wrapKey, WrongKekError } from './envelope.ts';
import type { OpenedLocation } from './location.ts';

export type RotationState = 'rotated' | 'already-rotated' | 'failed';

export interface RotatedRepository {
  application: string;
  state: RotationState;
  /** Why it failed (never a key). */
  error?: string;
}

export interface RotationResult {
  /** Ids (kekId) of the KEKs, never the keys. */
  oldKek: string;
  newKek: string;
  repositories: RotatedRepository[];
}

/** The applications that have a key file in the location, sorted. */
export async function repositoriesWithKeys(location: OpenedLocation): Promise<string[]> {
  const files = await location.store.list(`${REPOSITORIES_DIR}/`);
  return files.flatMap((f) => /^repositories\/([^/]+)\/key\.json$/.exec(f.key)?.[1] ?? []).sort();
}

export async function rotateKeys(
  location: OpenedLocation,
  oldKek: Buffer,
  newKek: Buffer,
  onProgress: (done: number, total: number, repository: RotatedRepository) => void = () => undefined,
): Promise<RotationResult> {
  if (oldKek.equals(newKek)) throw new Error('the new KEK is the current KEK: nothing to rotate');
  const applications = await repositoriesWithKeys(location);
  const result: RotationResult = { oldKek: kekId(oldKek), newKek: kekId(newKek), repositories: [] };
  for (const [index, application] of applications.entries()) {
    let outcome: RotatedRepository;
    try {
      outcome = { application, state: await rotateOne(location, application, oldKek, newKek) };
    } catch (error) {
      outcome = { application, state: 'failed', error: location.scrub((error as Error).message) };
    }
    result.repositories.push(outcome);
    onProgress(index + 1, applications.length, outcome);
  }
  return result;
}

async function rotateOne(location: OpenedLocation, application: string, oldKek: Buffer, newKek: Buffer): Promise<RotationState> {
  const key = keyFileKey(application);
  const identity = repositoryIdentity(application);
  const bytes = await location.store.read(key);
  if (!bytes) throw new Error(`${key} disappeared during the rotation`);
  const wrapped = parseWrappedKey(bytes.toString('utf8'), key);
  const under = (kek: Buffer): Buffer | undefined => {
    try {
      return unwrapKey(kek, wrapped, identity);
    } catch (error) {
      if (error instanceof WrongKekError) return undefined;
      throw error;
    }
  };
  // Already under the new KEK: a re-run after an interruption skips it.
  if (under(newKek)) return 'already-rotated';
  const dek = under(oldKek);
  if (!dek) throw new Error(`${key} is wrapped under KEK ${wrapped.kek ?? '(unknown id)'}: neither the old KEK (${kekId(oldKek)}) nor the new one (${kekId(newKek)}) opens it`);
  const rewrapped = wrapKey(newKek, dek, identity);
  if (!unwrapKey(newKek, rewrapped, identity).equals(dek)) throw new Error(`${key}: the new wrapping does not unwrap to the same key`);
  await location.store.write(key, serializeWrappedKey(rewrapped));
  const stored = await location.store.read(key);
  if (!stored || !unwrapKey(newKek, parseWrappedKey(stored.toString('utf8'), key), identity).equals(dek)) {
    throw new Error(`${key}: read back after writing, it does not hold the re-wrapped key (another writer?)`);
  }
  return 'rotated';
}
