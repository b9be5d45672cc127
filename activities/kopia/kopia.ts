/**
 * The one kopia wrapper. Every call gets the repository password through the environment (never argv, so
 * it shows in no process list or log) and its own config and cache directories.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
export const KOPIA_VERSION = 'v0.23.1';

export function kopiaBinary(): string {
  if (process.env.CAIRN_KOPIA) return process.env.CAIRN_KOPIA;
  const cached = join(process.env.CAIRN_CACHE_DIR ?? join(homedir(), '.cache', 'cairn'), 'bin', `kopia-${KOPIA_VERSION}`, 'kopia');
  return existsSync(cached) ? cached : 'kopia';
}

export interface KopiaSession {
  password: string;
  configDir: string;
  /** More variables for kopia, such as a location's S3 credentials: the environment, never argv. */
  env?: Readonly<Record<string, string>>;
}

function environment(session: KopiaSession): NodeJS.ProcessEnv {
  return {
    ...session.env,
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    KOPIA_PASSWORD: session.password,
    KOPIA_CONFIG_PATH: join(session.configDir, 'repository.config'),
    KOPIA_CACHE_DIRECTORY: join(session.configDir, 'cache'),
    KOPIA_LOG_DIR: join(session.configDir, 'logs'),
    KOPIA_CHECK_FOR_UPDATES: 'false',
    KOPIA_PERSIST_CREDENTIALS_ON_CONNECT: 'false',
  };
}

export function spawnKopia(session: KopiaSession, args: string[], stdio: ('pipe' | 'ignore')[] = ['ignore', 'pipe', 'pipe']): ChildProcess {
  return spawn(kopiaBinary(), args, { env: environment(session), stdio: stdio as ['pipe', 'pipe', 'pipe'], cwd: REPO_ROOT });
}

export interface KopiaResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runKopia(session: KopiaSession, args: string[]): Promise<KopiaResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawnKopia(session, args);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolveRun({ code: code ?? 1, stdout, stderr }));
  });
}

export async function kopiaOrThrow(session: KopiaSession, args: string[], what: string): Promise<string> {
  const result = await runKopia(session, args);
  if (result.code !== 0) throw new Error(`kopia ${what} failed (exit ${result.code}): ${result.stderr.trim().split('\n').slice(-5).join(' | ')}`);
  return result.stdout;
}
