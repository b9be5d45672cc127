/**
 * Envelope encryption of repository passwords. Each kopia repository gets its own random password (the data
 * encryption key, DEK), stored in the location next to the repository, wrapped with AES-256-GCM under the
 * key-encryption key (KEK) with the repository's identity as associated data, so a wrapped DEK copied to
 * another repository does not unwrap there. The KEK lives with the worker (a file or an environment
 * variable), never only in the cluster being protected, and is never logged or printed: only its id (a hash)
 * appears in key files and messages.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface WrappedKey {
  version: 1;
  algorithm: 'AES-256-GCM';
  /** The repository identity the key is bound to (the GCM associated data). */
  repository: string;
  /** Id of the KEK that wrapped it (kekId): tells a wrong KEK from a tampered file. Absent in early files. */
  kek?: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

/** Thrown when a key file is not wrapped under the KEK given. */
export class WrongKekError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WrongKekError';
  }
}

/** A public fingerprint of a KEK: 16 hex digits of a domain-separated SHA-256; reveals nothing of the key. */
export function kekId(kek: Buffer): string {
  return createHash('sha256').update('cairn-kek-id\0').update(kek).digest('hex').slice(0, 16);
}

export function wrapKey(kek: Buffer, dek: Buffer, repository: string): WrappedKey {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv);
  cipher.setAAD(Buffer.from(repository, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(dek), cipher.final()]);
  return { version: 1, algorithm: 'AES-256-GCM', repository, kek: kekId(kek), iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ciphertext: ciphertext.toString('base64') };
}

export function unwrapKey(kek: Buffer, wrapped: WrappedKey, repository: string): Buffer {
  if (wrapped.repository !== repository) throw new Error(`the key file belongs to repository ${wrapped.repository}, not ${repository}`);
  if (wrapped.kek !== undefined && wrapped.kek !== kekId(kek)) {
    throw new WrongKekError(`cannot unwrap the key of repository ${repository}: wrong KEK (the key file is wrapped under KEK ${wrapped.kek}, the KEK given is ${kekId(kek)})`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(wrapped.iv, 'base64'));
    decipher.setAAD(Buffer.from(repository, 'utf8'));
    decipher.setAuthTag(Buffer.from(wrapped.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(wrapped.ciphertext, 'base64')), decipher.final()]);
  } catch {
    throw new WrongKekError(`cannot unwrap the key of repository ${repository}: wrong KEK or tampered key file`);
  }
}

/** Parses a key file's text; a malformed one is named as such (not as a wrong KEK). */
export function parseWrappedKey(text: string, where: string): WrappedKey {
  let value: Partial<WrappedKey>;
  try {
    value = JSON.parse(text) as Partial<WrappedKey>;
  } catch {
    throw new Error(`${where} is not a Cairn key file (not JSON)`);
  }
  for (const field of ['repository', 'iv', 'tag', 'ciphertext'] as const) {
    if (typeof value[field] !== 'string') throw new Error(`${where} is not a Cairn key file (no "${field}")`);
  }
  if (value.version !== 1 || value.algorithm !== 'AES-256-GCM') throw new Error(`${where}: unsupported key file version ${String(value.version)} / ${String(value.algorithm)}`);
  return value as WrappedKey;
}

export function serializeWrappedKey(wrapped: WrappedKey): Buffer {
  return Buffer.from(`${JSON.stringify(wrapped, null, 2)}\n`);
}

/**
 * The worker's KEK: CAIRN_KEK (64 hex characters), else the file CAIRN_KEK_FILE, else `defaultFile`. With
 * `create`, a missing default file is created with a new random KEK (mode 0600); without it (opening data
 * that exists), a missing KEK is an error rather than a new key that could never open that data.
 */
export async function loadKek(defaultFile: string, options: { create?: boolean } = { create: true }): Promise<Buffer> {
  const fromEnv = process.env.CAIRN_KEK;
  if (fromEnv) return parseKek(fromEnv, 'CAIRN_KEK');
  const file = process.env.CAIRN_KEK_FILE ?? defaultFile;
  try {
    return await readKekFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (process.env.CAIRN_KEK_FILE) throw new Error(`no KEK: CAIRN_KEK_FILE names ${file}, which does not exist (create one with 'cairn keys generate ${file}')`);
    if (!options.create) throw new Error(`no KEK: ${file} does not exist; set CAIRN_KEK_FILE (or CAIRN_KEK) to the KEK that wrapped this location's keys`);
    await createKekFile(file).catch((writeError: NodeJS.ErrnoException) => {
      if (writeError.code !== 'EEXIST') throw writeError;
    });
    return readKekFile(file);
  }
}

export async function readKekFile(file: string): Promise<Buffer> {
  return parseKek((await readFile(file, 'utf8')).trim(), file);
}

/** Writes a new random KEK to `file` (mode 0600), refusing to replace an existing file. */
export async function createKekFile(file: string): Promise<Buffer> {
  await mkdir(dirname(file), { recursive: true });
  const kek = randomBytes(32);
  await writeFile(file, `${kek.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(file, 0o600);
  return kek;
}

function parseKek(text: string, source: string): Buffer {
  if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new Error(`the KEK in ${source} must be 64 hexadecimal characters (32 bytes)`);
  return Buffer.from(text, 'hex');
}
