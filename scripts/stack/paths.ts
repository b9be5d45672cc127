import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the local stack keeps binaries (shared across clones) and runtime state (per clone, git-ignored). */
export interface StackPaths {
  /** The clone's root directory. */
  root: string;
  /** Runtime state of this clone's stack: `<root>/.cairn`. */
  state: string;
  /** Built binaries, shared by every clone on this machine, keyed by pinned version: `~/.cache/cairn`. */
  cache: string;
  /** `<state>/logs`: one log file per process. */
  logs: string;
  /** `<state>/pids`: one PID file per process this stack started; stop kills only these. */
  pids: string;
  /** `<state>/kubeconfig`: the local cluster's admin kubeconfig. */
  kubeconfig: string;
}

export function stackPaths(root = resolve(fileURLToPath(import.meta.url), '../../..')): StackPaths {
  const state = process.env.CAIRN_STATE_DIR ?? join(root, '.cairn');
  const cache = process.env.CAIRN_CACHE_DIR ?? join(homedir(), '.cache', 'cairn');
  return {
    root,
    state,
    cache,
    logs: join(state, 'logs'),
    pids: join(state, 'pids'),
    kubeconfig: join(state, 'kubeconfig'),
  };
}

/** The directory holding one pinned build of a tool, e.g. `~/.cache/cairn/bin/temporal-v1.5.1`. */
export function toolDir(paths: StackPaths, tool: string, version: string): string {
  return join(paths.cache, 'bin', `${tool}-${version}`);
}
