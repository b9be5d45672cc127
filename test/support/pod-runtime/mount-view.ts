import { existsSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

/**
 * A container's view of the filesystem: the host's root with the pod's volumes (and a few per-pod files)
 * bind-mounted where the container expects them, in a private mount namespace so the host's view is
 * untouched. A shell script sets it up inside `unshare --mount`; then the namespace is held open by the
 * same process (`exec sleep infinity`) so containers and `kubectl exec` can `nsenter` it.
 *
 * A mount point that does not exist on the host is created inside an overlay of its deepest existing
 * ancestor (upper layer in the pod's directory), so `/var/lib/postgresql/data` needs no change to the host.
 * Only a missing top-level directory (`/data`) cannot be overlaid (that would be an overlay of `/`): it is
 * created, empty, on the host, and the volume is mounted over it in the namespace only.
 */
export interface BindMount {
  source: string;
  target: string;
  readOnly: boolean;
}

export interface MountView {
  binds: BindMount[];
  /** A directory of the runtime's for the overlays' layers: `<n>/upper`, `<n>/work`. */
  overlayRoot: string;
}

export interface PathProbe {
  exists(path: string): boolean;
  isFile(path: string): boolean;
}

export const hostPaths: PathProbe = {
  exists: (path) => existsSync(path),
  isFile: (path) => {
    try {
      return statSync(path).isFile();
    } catch {
      return false;
    }
  },
};

export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

function depth(path: string): number {
  return path.split('/').filter(Boolean).length;
}

function deepestExisting(path: string, probe: PathProbe): string {
  let current = path;
  while (current !== '/' && !probe.exists(current)) current = dirname(current);
  return current;
}

/** The ancestors that need an overlay so that every missing mount point can be created privately. */
export function overlaysFor(targets: string[], probe: PathProbe): string[] {
  const overlays = new Set<string>();
  for (const target of targets) {
    if (probe.exists(target)) continue;
    const ancestor = deepestExisting(target, probe);
    if (ancestor !== '/') overlays.add(ancestor);
  }
  return [...overlays].sort((a, b) => depth(a) - depth(b));
}

/** File descriptors from 10 up hold the sources; bash (not dash) takes descriptors above 9. */
const FIRST_FD = 10;

/**
 * The `bash` script that builds the view; its last act is to print `ready` and become the namespace holder.
 * Every source is opened first and mounted from `/proc/self/fd/<n>`, so a target that covers another bind's
 * source (a volume at `/tmp` while the stack's state is under `/tmp`) cannot hide it.
 */
export function mountScript(view: MountView, probe: PathProbe = hostPaths): string {
  const binds = view.binds
    .map((bind) => ({ ...bind, target: normalize(bind.target).replace(/(.)\/$/, '$1') }))
    .sort((a, b) => depth(a.target) - depth(b.target));
  const lines = ['set -e'];
  binds.forEach((bind, index) => lines.push(`exec ${FIRST_FD + index}<${shellQuote(bind.source)}`));
  overlaysFor(
    binds.map((bind) => bind.target),
    probe,
  ).forEach((lower, index) => {
    const upper = join(view.overlayRoot, String(index), 'upper');
    const work = join(view.overlayRoot, String(index), 'work');
    lines.push(`mkdir -p ${shellQuote(upper)} ${shellQuote(work)}`);
    lines.push(
      `mount -t overlay overlay -o ${shellQuote(`lowerdir=${lower},upperdir=${upper},workdir=${work}`)} ${shellQuote(lower)}`,
    );
  });
  binds.forEach((bind, index) => {
    const target = shellQuote(bind.target);
    if (probe.isFile(bind.source)) {
      lines.push(`[ -e ${target} ] || { mkdir -p ${shellQuote(dirname(bind.target))}; : > ${target}; }`);
    } else {
      lines.push(`mkdir -p ${target}`);
    }
    // mount(8) would canonicalize the fd link back to a path, which an earlier bind (a private /tmp) may cover.
    lines.push(`mount --no-canonicalize --bind /proc/self/fd/${FIRST_FD + index} ${target}`);
    if (bind.readOnly) lines.push(`mount -o remount,bind,ro ${target}`);
  });
  if (binds.length > 0) lines.push(`exec ${binds.map((_bind, index) => `${FIRST_FD + index}<&-`).join(' ')}`);
  lines.push('echo ready', 'exec sleep infinity');
  return `${lines.join('\n')}\n`;
}
