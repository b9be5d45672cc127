import type { StackPaths } from './paths.ts';

export type ComponentState = 'running' | 'stopped' | 'degraded' | 'not-installed';

export interface ComponentStatus {
  name: string;
  version: string;
  /** Where it listens (host:port, socket path, URL) or what it manages. */
  address: string;
  state: ComponentState;
  detail?: string;
}

export type ProgressLog = (message: string) => void;

/**
 * One piece of the local stack. Every method is idempotent: install reuses the cache, start does nothing
 * when the component already runs, stop kills only processes recorded in this stack's PID files.
 */
export interface StackComponent {
  name: string;
  version: string;
  /** Names of components that must be running before this one starts. */
  after: string[];
  install(paths: StackPaths, log: ProgressLog): Promise<void>;
  start(paths: StackPaths, log: ProgressLog): Promise<void>;
  stop(paths: StackPaths, log: ProgressLog): Promise<void>;
  status(paths: StackPaths): Promise<ComponentStatus>;
  /**
   * What clients need to reach this component (addresses, credentials, paths); `stack:up` writes it into
   * `.cairn/stack.json` under the component's `name`. Optional.
   */
  info?(paths: StackPaths): Record<string, unknown>;
  /** The binaries this component installed, by name; `stack:up` lists them in `.cairn/stack.json`. Optional. */
  binaries?(paths: StackPaths): Record<string, string>;
}
