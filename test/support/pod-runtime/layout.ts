import { join } from 'node:path';
import type { StackPaths } from '../../../scripts/stack/paths.ts';

/**
 * Where the pod runtime keeps its state, under `<state>/pod-runtime/`:
 *   pods/<namespace>_<pod>_<uid>/   one pod: `<container>.log` (CRI format, what `kubectl logs` reads),
 *                                   `hosts` (its /etc/hosts), `volumes/` (emptyDir, ConfigMap, Secret files),
 *                                   `<container>/` (its /tmp, overlay layers, data of a database without a volume)
 *   s/<uid prefix>-<index>/         a container's Unix sockets (short: socket paths are limited to 107 bytes)
 *   processes/<pid>.json            every process started, so a restarted runtime can stop what a killed one left
 *   exec-path/                      the exec shims (to lead the kwok controller's PATH)
 */
export function runtimeDirs(paths: StackPaths) {
  const root = join(paths.state, 'pod-runtime');
  return {
    root,
    pods: join(root, 'pods'),
    sockets: join(root, 's'),
    processes: join(root, 'processes'),
    execShims: join(root, 'exec-path'),
  };
}
