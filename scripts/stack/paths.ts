import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterSpec, secondClusterState, SECOND_CLUSTERS, type ClusterSpec } from './clusters.ts';

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
  /** Which Kubernetes cluster `kube`, `csi` and `pod-runtime` run (the main one unless these are a second cluster's paths). */
  cluster: ClusterSpec;
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
    cluster: clusterSpec(),
  };
}

/**
 * The paths of a second cluster (`dr`) next to the main stack's: the same clone and binary cache, its own
 * state under `<state>/clusters/<name>/` (so its PID files, logs, kubeconfig, kwok workdir, CSI volumes and
 * pod-runtime state never mix with the main cluster's).
 */
export function clusterPaths(main: StackPaths, name: string): StackPaths {
  const cluster = SECOND_CLUSTERS[name];
  if (!cluster) throw new Error(`unknown second cluster "${name}" (known: ${Object.keys(SECOND_CLUSTERS).join(', ')})`);
  const state = secondClusterState(main.state, name);
  return { ...main, state, logs: join(state, 'logs'), pids: join(state, 'pids'), kubeconfig: join(state, 'kubeconfig'), cluster };
}

/** The directory holding one pinned build of a tool, e.g. `~/.cache/cairn/bin/temporal-v1.5.1`. */
export function toolDir(paths: StackPaths, tool: string, version: string): string {
  return join(paths.cache, 'bin', `${tool}-${version}`);
}
