/**
 * One kopia repository per (location profile, application), opened with its envelope-encrypted password.
 * Layout, the same on a filesystem and in S3 (src/location/layout.ts, docs/locations.md):
 *   repositories/<application>/kopia/   the kopia repository (content-addressed, compressed, encrypted)
 *   repositories/<application>/key.json the repository password (DEK) wrapped under the KEK (envelope.ts)
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { checkApplication, keyFileKey, kopiaDir, repositoryIdentity } from '../../src/location/layout.ts';
import { loadKek, parseWrappedKey, serializeWrappedKey, unwrapKey, wrapKey, WrongKekError } from '../location/envelope.ts';
import type { OpenedLocation } from '../location/location.ts';
import { defaultKekFile } from '../location/profiles.ts';
import { kopiaOrThrow, runKopia, type KopiaSession } from './kopia.ts';

export interface Repository {
  application: string;
  /** The profile's name. */
  profile: string;
  /** `profile "x" (s3 ... / filesystem ...)`, for messages. */
  label: string;
  session: KopiaSession;
  location: OpenedLocation;
  /** Filesystem locations only: `<root>/repositories/<application>`. */
  directory?: string;
}

export interface OpenOptions {
  /** The KEK to unwrap with; default the worker's (CAIRN_KEK, CAIRN_KEK_FILE, `.cairn/kek`). */
  kek?: Buffer;
}

const opening = new Map<string, Promise<Repository>>();

/**
 * Creates the repository on first use, else connects to it. The key file is read and unwrapped on every call
 * (a wrong or rotated-away KEK fails at once, in a long-running worker too); the kopia connection is shared by
 * the callers of one process that arrive at the same password.
 */
export async function openRepository(location: OpenedLocation, application: string, options: OpenOptions = {}): Promise<Repository> {
  checkApplication(application);
  const password = await repositoryPassword(location, application, options.kek);
  const cacheKey = [location.identity, application, location.credentialsHash, createHash('sha256').update(password).digest('hex')].join('|');
  let pending = opening.get(cacheKey);
  if (!pending) {
    pending = open(location, application, password);
    opening.set(cacheKey, pending);
    pending.catch(() => opening.delete(cacheKey));
  }
  return pending;
}

/** The repository's password: its key file unwrapped, the key file created first when there is none. */
export async function repositoryPassword(location: OpenedLocation, application: string, kek?: Buffer): Promise<string> {
  const identity = repositoryIdentity(application);
  const key = keyFileKey(application);
  let text = await location.store.read(key);
  if (!text) {
    const creating = kek ?? (await loadKek(defaultKekFile(), { create: true }));
    // Whoever writes first wins (create-if-absent); everyone then uses the file as stored.
    await location.store.write(key, serializeWrappedKey(wrapKey(creating, randomBytes(32), identity)), { ifAbsent: true });
    text = await location.store.read(key);
    if (!text) throw new Error(`${location.label}: ${key} vanished right after it was written`);
  }
  const wrapped = parseWrappedKey(text.toString('utf8'), `${location.label}: ${key}`);
  const unwrapping = kek ?? (await loadKek(defaultKekFile(), { create: false }));
  try {
    return unwrapKey(unwrapping, wrapped, identity).toString('base64url');
  } catch (error) {
    if (error instanceof WrongKekError) throw new WrongKekError(`${location.label}: ${error.message}`);
    throw error;
  }
}

async function open(location: OpenedLocation, application: string, password: string): Promise<Repository> {
  const identity = repositoryIdentity(application);
  const cacheRoot = process.env.CAIRN_CACHE_DIR ?? join(homedir(), '.cache', 'cairn');
  const configDir = join(cacheRoot, 'kopia', createHash('sha256').update(`${location.identity}${kopiaDir(application)}`).digest('hex').slice(0, 16));
  const session: KopiaSession = { password, configDir, env: location.kopiaEnv };
  const fail = (what: string, stderr: string) => new Error(location.scrub(`${location.label}: kopia ${what} failed for application ${application}: ${lastLines(stderr)}`));

  let connect = await runKopia(session, ['repository', 'connect', ...location.kopiaStorage(application, false)]);
  if (connect.code !== 0 && /not initialized|no such file or directory/i.test(connect.stderr)) {
    if (location.root) await mkdir(join(location.root, kopiaDir(application)), { recursive: true });
    const create = await runKopia(session, ['repository', 'create', ...location.kopiaStorage(application, true), '--description', identity]);
    // Another worker may have created it in between: connecting is then the right thing.
    connect = create.code === 0 ? create : await runKopia(session, ['repository', 'connect', ...location.kopiaStorage(application, false)]);
    if (connect.code !== 0 && create.code !== 0) throw fail('repository create', create.stderr);
  }
  if (connect.code !== 0) {
    if (/invalid repository password/i.test(connect.stderr)) {
      throw new Error(`${location.label}: the kopia repository of application ${application} does not accept the password in its key.json (key file replaced or repository re-created)`);
    }
    throw fail('repository connect', connect.stderr);
  }
  if (Object.keys(location.kopiaEnv).length) await scrubStoredCredentials(configDir);
  const repository: Repository = { application, profile: location.profile.name, label: location.label, session, location };
  if (location.root) repository.directory = join(location.root, 'repositories', application);
  return repository;
}

/**
 * kopia writes the S3 keys it connected with into its config file; Cairn blanks them there and passes them
 * in the environment of every call instead (kopia's S3 backend then reads AWS_ACCESS_KEY_ID and friends), so
 * no credential rests on the worker's disk.
 */
async function scrubStoredCredentials(configDir: string): Promise<void> {
  const file = join(configDir, 'repository.config');
  const config = JSON.parse(await readFile(file, 'utf8')) as { storage?: { config?: Record<string, unknown> } };
  const storage = config.storage?.config;
  if (!storage) return;
  for (const field of ['accessKeyID', 'secretAccessKey', 'sessionToken']) if (field in storage) storage[field] = '';
  const scratch = `${file}.${process.pid}.tmp`;
  await writeFile(scratch, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await rename(scratch, file);
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ');
}

export interface SnapshotInfo {
  id: string;
  rootObject: string;
  size: number;
  source: string;
  tags: Record<string, string>;
}

interface KopiaManifest {
  id: string;
  source?: { host?: string; userName?: string; path?: string };
  rootEntry: { obj: string; summ?: { size?: number } };
  tags?: Record<string, string>;
}

export async function listSnapshots(repository: Repository, tag?: string): Promise<SnapshotInfo[]> {
  const args = ['snapshot', 'list', '--all', '--json', ...(tag ? ['--tags', tag] : [])];
  let text: string;
  try {
    text = await kopiaOrThrow(repository.session, args, 'snapshot list');
  } catch (error) {
    throw new Error(repository.location.scrub(`${repository.label}: ${(error as Error).message}`));
  }
  const manifests = JSON.parse(text || '[]') as KopiaManifest[];
  return manifests.map((m) => ({
    id: m.id,
    rootObject: m.rootEntry.obj,
    size: m.rootEntry.summ?.size ?? 0,
    source: `${m.source?.userName ?? ''}@${m.source?.host ?? ''}:${m.source?.path ?? ''}`,
    tags: m.tags ?? {},
  }));
}

/** Bytes the repository occupies in the location (what a snapshot added is the difference before/after). */
export async function repositoryBytes(repository: Repository): Promise<number> {
  const files = await repository.location.store.list(kopiaDir(repository.application));
  return files.reduce((total, file) => total + file.size, 0);
}
