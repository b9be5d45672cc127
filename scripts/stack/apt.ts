import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProgressLog } from './component.ts';
import type { StackPaths } from './paths.ts';

/** The Debian packages named in `scripts/stack/apt-packages.txt` (one per line, `#` starts a comment). */
export function aptPackages(paths: StackPaths): string[] {
  const text = readFileSync(join(paths.root, 'scripts', 'stack', 'apt-packages.txt'), 'utf8');
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line.length > 0);
}

function installed(pkg: string): boolean {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

/**
 * Installs the listed packages that are missing. Runs `apt-get update` only when an install fails, so a
 * warm machine pays one `dpkg-query` per package and nothing else.
 */
export function ensureAptPackages(paths: StackPaths, log: ProgressLog): void {
  const missing = aptPackages(paths).filter((pkg) => !installed(pkg));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing Debian packages: ${missing.join(' ')} (run as root, or: sudo apt-get install -y ${missing.join(' ')})`);
  }
  log(`installing Debian packages: ${missing.join(' ')}…`);
  // Packages such as postgresql try to start system services; policy-rc.d refuses that here, harmlessly.
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  let result = install();
  if (result.status !== 0) {
    log('apt-get install failed; running apt-get update and retrying…');
    execFileSync('apt-get', ['update'], { env, stdio: 'ignore' });
    result = install();
  }
  if (result.status !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed:\n${result.stderr}`);
}
