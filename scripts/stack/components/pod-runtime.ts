import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runtimeDirs } from '../../../test/support/pod-runtime/layout.ts';
import { ensureAptPackages } from '../apt.ts';
import type { ComponentStatus, StackComponent } from '../component.ts';
import type { StackPaths } from '../paths.ts';
import { logFile, runningPid, spawnDaemon, stopDaemon, waitUntil } from '../process.ts';

const DAEMON = 'pod-runtime';
/** What test/support/pod-runtime/main.ts logs once it has listed nodes, Services and pods. */
const READY_LINE = 'watching pods on kwok nodes';

/**
 * The directory of exec shims that must lead the kwok controller's PATH for `kubectl exec` to run in the
 * pod's mount view (see test/support/pod-runtime/exec-shim.ts). Without it, exec runs in the host's view.
 */
export function podExecShimDir(paths: StackPaths): string {
  return runtimeDirs(paths).execShims;
}

function logSize(paths: StackPaths): number {
  const file = logFile(paths, DAEMON);
  return existsSync(file) ? statSync(file).size : 0;
}

function loggedSince(paths: StackPaths, offset: number): string {
  const file = logFile(paths, DAEMON);
  return existsSync(file) ? readFileSync(file).subarray(offset).toString('utf8') : '';
}

function serverVersions(): string {
  const postgres = existsSync('/usr/lib/postgresql') ? 'PostgreSQL (Debian)' : 'no PostgreSQL';
  return `${postgres}, MariaDB, Redis from Debian; etcd from the stack's build`;
}

/**
 * The test-side kubelet (test/support/pod-runtime/): runs the processes of pods on kwok nodes, database
 * images as real servers on their PVC's directory. Runs after `csi`, whose volume directories it mounts.
 */
export const podRuntime: StackComponent = {
  name: 'pod-runtime',
  version: 'local (Debian servers)',
  after: ['kube', 'csi'],

  async install(paths, log) {
    ensureAptPackages(paths, log);
  },

  async start(paths, log) {
    if (runningPid(paths, DAEMON) !== undefined) return;
    const from = logSize(paths);
    spawnDaemon(paths, {
      name: DAEMON,
      command: process.execPath,
      args: ['--import', 'tsx', join(paths.root, 'test/support/pod-runtime/main.ts')],
      cwd: paths.root,
      env: { ...process.env, CAIRN_STATE_DIR: paths.state, CAIRN_CACHE_DIR: paths.cache },
    });
    await waitUntil(
      'the pod runtime to watch pods',
      () => runningPid(paths, DAEMON) === undefined || loggedSince(paths, from).includes(READY_LINE),
      60_000,
      `see ${logFile(paths, DAEMON)}`,
    );
    if (runningPid(paths, DAEMON) === undefined) throw new Error(`pod-runtime exited; see ${logFile(paths, DAEMON)}`);
    log(`pod-runtime: playing pods on kwok nodes; exec shims in ${podExecShimDir(paths)}`);
  },

  async stop(paths, log) {
    // Databases get their clean shutdown inside the runtime's SIGTERM handling; 10 s is stopDaemon's grace.
    if (await stopDaemon(paths, DAEMON, 20_000)) log('pod-runtime: stopped (pod processes stopped with it)');
  },

  async status(paths): Promise<ComponentStatus> {
    const base = { name: 'pod-runtime', version: this.version, address: runtimeDirs(paths).pods };
    const pid = runningPid(paths, DAEMON);
    if (pid === undefined) return { ...base, state: 'stopped' };
    return { ...base, state: 'running', detail: `pid ${pid}; ${serverVersions()}` };
  },

  info(paths) {
    const dirs = runtimeDirs(paths);
    return { pods: dirs.pods, execShims: dirs.execShims, log: logFile(paths, DAEMON) };
  },
};
