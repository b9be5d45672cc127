/**
 * Envelope encryption of repository passwords. Each kopia repository gets its own random password (the data
 * encryption key, DEK), stored in the location next to the repository, wrapped with AES-256-GCM under the
 * key-encryption key (KEK) with the repository's identity as associated data, so a wrapped DEK copied to
 * another repository does not unwrap there. The KEK lives with the worker (a file or an environment
 * variable), never only in the cluster being protected, and is never logged.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface WrappedKey {
  version: 1;
  algorithm: 'AES-256-GCM';
  /** The repository identity the key is bound to (the GCM associated data). */
  repository: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

export function wrapKey(kek: Buffer, dek: Buffer, repository: string): WrappedKey {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv);
  cipher.setAAD(Buffer.from(repository, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(dek), cipher.final()]);
  return { version: 1, algorithm: 'AES-256-GCM', repository, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ciphertext: ciphertext.toString('base64') };
}

export function unwrapKey(kek: Buffer, wrapped: WrappedKey, repository: string): Buffer {
  if (wrapped.repository !== repository) throw new Error(`the key file belongs to repository ${wrapped.repository}, not ${repository}`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(wrapped.iv, 'base64'));
    decipher.setAAD(Buffer.from(repository, 'utf8'));
    decipher.setAuthTag(Buffer.from(wrapped.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(wrapped.ciphertext, 'base64')), decipher.final()]);
  } catch {
    throw new Error(`cannot unwrap the key of repository ${repository}: wrong KEK or tampered key file`);
  }
}

/** The KEK: CAIRN_KEK (64 hex characters) or the file CAIRN_KEK_FILE / `defaultFile`, created on first use. */
export async function loadKek(defaultFile: string): Promise<Buffer> {
  const fromEnv = process.env.CAIRN_KEK;
  if (fromEnv) return parseKek(fromEnv, 'CAIRN_KEK');
  const file = process.env.CAIRN_KEK_FILE ?? defaultFile;
  try {
    return parseKek((await readFile(file, 'utf8')).trim(), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || process.env.CAIRN_KEK_FILE) throw error;
    await mkdir(dirname(file), { recursive: true });
    const kek = randomBytes(32);
    await writeFile(file, `${kek.toString('hex')}\n`, { mode: 0o600, flag: 'wx' }).catch(async (writeError: NodeJS.ErrnoException) => {
      if (writeError.code !== 'EEXIST') throw writeError;
    });
    await chmod(file, 0o600);
    return parseKek((await readFile(file, 'utf8')).trim(), file);
  }
}

function parseKek(text: string, source: string): Buffer {
  if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new Error(`the KEK in ${source} must be 64 hexadecimal characters (32 bytes)`);
  return Buffer.from(text, 'hex');
}
