import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * How `kubectl exec` gets a pod's mount view. kwok v0.8.0 runs an exec as `exec.CommandContext(cmd[0], …)`
 * with `Dir` = the Exec's `workDir` and `Env` = its own environment plus the Exec's `envs`: a bare command name
 * is looked up in the **kwok controller's own PATH**, before the Exec's env applies. So when a directory of
 * shims leads the kwok controller's PATH, every bare name (`sh`, `psql`, `tar`, …) runs the dispatcher below,
 * which reads the pod's `CAIRN_POD_MOUNT_NS_PID` from the Exec env and `nsenter`s that container's mount
 * namespace (held open by the runtime) before running the real command there. Without the shims (or for an
 * absolute path like `/bin/sh`) the command runs in the host's view, in `workDir`, with the same env.
 */
export const EXEC_SHIM = `#!/bin/sh
# Written by Cairn's pod runtime (test/support/pod-runtime/exec-shim.ts): kwok's exec of a bare command name
# lands here when this directory leads the kwok controller's PATH. In a container the runtime plays, the
# command runs in that container's mount namespace; anywhere else it runs as if this shim were not there.
name=\${0##*/}
shims=\${0%/*}
kept=
saved_ifs=$IFS
IFS=:
for dir in $PATH; do
  [ "$dir" = "$shims" ] || kept=\${kept:+$kept:}$dir
done
IFS=$saved_ifs
PATH=$kept
export PATH
if [ -n "\${CAIRN_POD_MOUNT_NS_PID:-}" ]; then
  exec nsenter --target "$CAIRN_POD_MOUNT_NS_PID" --mount --wdns="\${CAIRN_POD_WORKDIR:-/}" -- "$name" "$@"
fi
exec "$name" "$@"
`;

export const STANDARD_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** `<cache>/bin/<tool>-<version>/`: the stack's built tools (kopia, etcd, …) stand in for their images too. */
export function toolDirs(cacheDir: string): string[] {
  const bin = join(cacheDir, 'bin');
  if (!existsSync(bin)) return [];
  return readdirSync(bin)
    .map((name) => join(bin, name))
    .filter((path) => statSync(path).isDirectory())
    .sort();
}

/** Cairn's kando (a shell script over kopia): what a tools image has in /usr/local/bin, from this checkout. */
export const KANDO_DIR = resolve(import.meta.dirname, '../../../deploy/kando');

/** The PATH containers and exec'd commands get: the host's standard directories, the stack's tools, then kando. */
export function podPath(cacheDir: string): string {
  return [...STANDARD_PATH, ...toolDirs(cacheDir), KANDO_DIR].join(':');
}

/**
 * (Re)creates `<dir>/` with the dispatcher and one symlink to it per command name found on `searchPath`;
 * returns how many names it covers.
 */
export function writeExecShims(dir: string, searchPath: string[]): number {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const dispatcher = join(dir, '.cairn-exec-shim');
  writeFileSync(dispatcher, EXEC_SHIM);
  chmodSync(dispatcher, 0o755);
  const names = new Set<string>();
  for (const searchDir of searchPath) {
    let entries: string[] = [];
    try {
      entries = readdirSync(searchDir);
    } catch {
      continue;
    }
    for (const name of entries) {
      if (names.has(name) || name.startsWith('.')) continue;
      try {
        const stat = statSync(join(searchDir, name));
        if (!stat.isFile() || (stat.mode & 0o111) === 0) continue;
      } catch {
        continue;
      }
      names.add(name);
      symlinkSync('.cairn-exec-shim', join(dir, name));
    }
  }
  return names.size;
}
