/**
 * One kopia repository per (location, application) in a filesystem location, opened with its envelope-
 * encrypted password. Layout under the location root (docs/locations.md):
 *   repositories/<application>/kopia/   the kopia repository (content-addressed, compressed, encrypted)
 *   repositories/<application>/key.json the repository password wrapped under the KEK (see envelope.ts)
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadKek, unwrapKey, wrapKey, type WrappedKey } from '../location/envelope.ts';
import { kopiaOrThrow, runKopia, type KopiaSession } from './kopia.ts';

const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

export interface LocationSettings {
  /** Root directory of the filesystem location. */
  root: string;
  kekFile: string;
}

export function defaultLocation(): LocationSettings {
  const state = process.env.CAIRN_STATE_DIR ?? join(REPO_ROOT, '.cairn');
  return { root: process.env.CAIRN_LOCATION ?? join(state, 'location'), kekFile: join(state, 'kek') };
}

export interface Repository {
  application: string;
  directory: string;
  session: KopiaSession;
}

const opening = new Map<string, Promise<Repository>>();

/** Creates the repository on first use, else connects to it; concurrent callers in one process share the work. */
export function openRepository(location: LocationSettings, application: string): Promise<Repository> {
  if (!/^[a-z0-9][-a-z0-9.]*$/.test(application)) return Promise.reject(new Error(`invalid application name "${application}"`));
  const directory = join(location.root, 'repositories', application);
  let pending = opening.get(directory);
  if (!pending) {
    pending = open(location, application, directory);
    opening.set(directory, pending);
    pending.catch(() => opening.delete(directory));
  }
  return pending;
}

async function open(location: LocationSettings, application: string, directory: string): Promise<Repository> {
  const kek = await loadKek(location.kekFile);
  const identity = `cairn:${application}`;
  const keyFile = join(directory, 'key.json');
  await mkdir(directory, { recursive: true });
  if (!existsSync(keyFile)) {
    const wrapped = wrapKey(kek, randomBytes(32), identity);
    const scratch = `${keyFile}.${process.pid}.tmp`;
    await writeFile(scratch, `${JSON.stringify(wrapped, null, 2)}\n`, { mode: 0o600 });
    // Written whole then renamed, so no reader ever sees half a key file.
    if (!existsSync(keyFile)) await rename(scratch, keyFile);
  }
  const wrapped = JSON.parse(await readFile(keyFile, 'utf8')) as WrappedKey;
  const password = unwrapKey(kek, wrapped, identity).toString('base64url');
  const configDir = join(process.env.CAIRN_CACHE_DIR ?? join(homedir(), '.cache', 'cairn'), 'kopia', createHash('sha256').update(directory).digest('hex').slice(0, 16));
  const session: KopiaSession = { password, configDir };
  const path = join(directory, 'kopia');
  if (!existsSync(join(path, 'kopia.repository.f'))) {
    const result = await runKopia(session, ['repository', 'create', 'filesystem', '--path', path, '--description', identity]);
    if (result.code !== 0 && !/already (exists|initialized)/i.test(result.stderr)) {
      throw new Error(`kopia repository create failed: ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    }
  }
  await kopiaOrThrow(session, ['repository', 'connect', 'filesystem', '--path', path], 'repository connect');
  return { application, directory, session };
}

export interface SnapshotInfo {
  id: string;
  rootObject: string;
  size: number;
  tags: Record<string, string>;
}

interface KopiaManifest {
  id: string;
  rootEntry: { obj: string; summ?: { size?: number } };
  tags?: Record<string, string>;
}

export async function listSnapshots(repository: Repository, tag?: string): Promise<SnapshotInfo[]> {
  const args = ['snapshot', 'list', '--all', '--json', ...(tag ? ['--tags', tag] : [])];
  const manifests = JSON.parse((await kopiaOrThrow(repository.session, args, 'snapshot list')) || '[]') as KopiaManifest[];
  return manifests.map((m) => ({ id: m.id, rootObject: m.rootEntry.obj, size: m.rootEntry.summ?.size ?? 0, tags: m.tags ?? {} }));
}

/** Bytes the repository occupies in the location (what a snapshot added is the difference before/after). */
export async function repositoryBytes(repository: Repository): Promise<number> {
  const walk = async (dir: string): Promise<number> => {
    let total = 0;
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) total += await walk(path);
      else if (entry.isFile()) total += (await stat(path)).size;
    }
    return total;
  };
  return walk(join(repository.directory, 'kopia'));
}
