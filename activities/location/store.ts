/**
 * The small files of a location (wrapped keys, restore-point manifests) on either backend, behind one
 * interface. Keys are relative to the location root (see src/location/layout.ts). A write is whole or not at
 * all: on a filesystem a temporary file renamed into place, on S3 a single PUT (atomic by S3's contract), so a
 * listing never shows half a file.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { S3Location } from '../../src/location/profile.ts';
import { S3Client, type S3Credentials, type S3Object } from './s3.ts';

export interface LocationStore {
  read(key: string): Promise<Buffer | undefined>;
  /** Writes the file whole; with `ifAbsent`, leaves an existing one alone and returns false. */
  write(key: string, bytes: Buffer, options?: { ifAbsent?: boolean }): Promise<boolean>;
  /** Every file under `prefix` (a key ending in '/'), recursively, keys relative to the root, sorted. */
  list(prefix: string): Promise<S3Object[]>;
  remove(key: string): Promise<void>;
}

/** Names a filesystem write uses before its rename; listings skip them. */
export function isScratchName(key: string): boolean {
  return /(^|\/)\.[^/]*\.tmp$/.test(key);
}

export class FilesystemStore implements LocationStore {
  readonly root: string;
  constructor(root: string) {
    this.root = root;
  }

  path(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  async read(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.path(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async write(key: string, bytes: Buffer, options: { ifAbsent?: boolean } = {}): Promise<boolean> {
    const target = this.path(key);
    const directory = dirname(target);
    await mkdir(directory, { recursive: true });
    const scratch = join(directory, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const handle = await open(scratch, 'wx', 0o600);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      if (options.ifAbsent) {
        // link() fails when the name exists: an atomic create-if-absent, unlike rename.
        try {
          await link(scratch, target);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
          throw error;
        }
      } else {
        await rename(scratch, target);
      }
      await syncDirectory(directory);
      return true;
    } finally {
      await unlink(scratch).catch(() => undefined);
    }
  }

  async list(prefix: string): Promise<S3Object[]> {
    const found: S3Object[] = [];
    const walk = async (directory: string, keyPrefix: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(directory, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const key = `${keyPrefix}${entry.name}`;
        if (entry.isDirectory()) await walk(join(directory, entry.name), `${key}/`);
        else if (entry.isFile() && !isScratchName(key)) found.push({ key, size: (await stat(join(directory, entry.name)).catch(() => ({ size: 0 }))).size });
      }
    };
    await walk(this.path(prefix.replace(/\/$/, '')), prefix.endsWith('/') || prefix === '' ? prefix : `${prefix}/`);
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async remove(key: string): Promise<void> {
    await unlink(this.path(key)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}

export class S3Store implements LocationStore {
  readonly client: S3Client;
  readonly prefix: string;

  constructor(location: S3Location, credentials: S3Credentials) {
    this.client = new S3Client({ endpoint: location.endpoint, region: location.region, bucket: location.bucket, skipTLSVerify: location.skipTLSVerify }, credentials);
    this.prefix = location.prefix;
  }

  read(key: string): Promise<Buffer | undefined> {
    return this.client.get(this.prefix + key);
  }

  write(key: string, bytes: Buffer, options: { ifAbsent?: boolean } = {}): Promise<boolean> {
    return this.client.put(this.prefix + key, bytes, { ...options, contentType: key.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
  }

  async list(prefix: string): Promise<S3Object[]> {
    const objects = await this.client.list(this.prefix + prefix);
    return objects.map((o) => ({ key: o.key.slice(this.prefix.length), size: o.size }));
  }

  remove(key: string): Promise<void> {
    return this.client.delete(this.prefix + key);
  }
}

