/** Helpers of the location tests: real kopia, the stack's S3 gateway, throwaway profiles, KEKs and caches. */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnKopia } from '../../../activities/kopia/kopia.ts';
import { createKekFile } from '../../../activities/location/envelope.ts';
import { listSnapshots, type Repository } from '../../../activities/kopia/repository.ts';
import type { StackInfo } from '../../support/stack.ts';

export async function scratchDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `cairn-${prefix}-`));
}

/** A fresh state: its own profiles directory, kopia cache and KEK file, set in the environment of this process. */
export async function freshState(prefix: string): Promise<{ dir: string; profiles: string; kekFile: string }> {
  const dir = await scratchDir(prefix);
  process.env.CAIRN_STATE_DIR = dir;
  process.env.CAIRN_CACHE_DIR = join(dir, 'cache');
  process.env.CAIRN_PROFILES_DIR = join(dir, 'profiles');
  process.env.CAIRN_KEK_FILE = join(dir, 'kek');
  delete process.env.CAIRN_KEK;
  delete process.env.CAIRN_LOCATION;
  await createKekFile(join(dir, 'kek'));
  return { dir, profiles: join(dir, 'profiles'), kekFile: join(dir, 'kek') };
}

export function uniquePrefix(name: string): string {
  return `${name}-${randomBytes(4).toString('hex')}/`;
}

/** Deletes what a test wrote under a prefix of a bucket (the gateway's posix backend: a bucket is a directory). */
export async function removeS3Prefix(stack: StackInfo, bucket: string, prefix: string): Promise<void> {
  await rm(join(stack.s3.rootDir, bucket, prefix), { recursive: true, force: true });
}

export function s3ProfileYaml(name: string, stack: StackInfo, prefix: string, credentials: string, extra = '', bucket = stack.s3.testBucket): string {
  return `apiVersion: cairn.io/v1alpha1
kind: Profile
metadata: {name: ${name}}
location:
  type: s3
  endpoint: ${stack.s3.endpoint}
  bucket: ${bucket}
  prefix: ${prefix}
  region: ${stack.s3.region}
  credentials: ${credentials}
${extra}`;
}

export async function writeProfile(directory: string, name: string, yaml: string): Promise<void> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, `${name}.yaml`), yaml);
}

/** A kopia snapshot of `bytes` as one file `stream` (what BackupStream writes); returns its id. */
export async function snapshotBytes(repository: Repository, bytes: Buffer, path = 'test/stream'): Promise<string> {
  const child = spawnKopia(repository.session, ['snapshot', 'create', '--json', '--stdin-file', 'stream', '--override-source', `cairn@${repository.application}:/${path}`, '-'], ['pipe', 'pipe', 'pipe']);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin!.end(bytes);
  const [code] = (await once(child, 'close')) as [number];
  if (code !== 0) throw new Error(`kopia snapshot create failed: ${stderr}`);
  return (JSON.parse(stdout) as { id: string }).id;
}

/** Reads a snapshot's `stream` back: the exit code and the bytes kopia produced (RestoreStream's path). */
export async function readSnapshot(repository: Repository, snapshotID: string): Promise<{ code: number; bytes: Buffer; stderr: string }> {
  const snapshot = (await listSnapshots(repository)).find((s) => s.id === snapshotID);
  if (!snapshot) throw new Error(`no snapshot ${snapshotID}`);
  const child = spawnKopia(repository.session, ['show', `${snapshot.rootObject}/stream`]);
  const chunks: Buffer[] = [];
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => chunks.push(c));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'close')) as [number];
  return { code, bytes: Buffer.concat(chunks), stderr };
}
