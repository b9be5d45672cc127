import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type * as k8s from '@kubernetes/client-node';
import type { CriLogFile } from '../cri-log.ts';
import type { ContainerMount } from '../pod-volumes.ts';

/**
 * A database image played by the real server from Debian (or the stack's build): its data directory is the
 * pod's volume directory, it listens on the pod's loopback address at its standard port, and `kubectl exec`
 * into the pod gets the variables its client reads to reach it.
 */
export interface DatabaseEngine {
  name: string;
  /** Whether an image's repository name (`postgres` in `docker.io/library/postgres:16`) is this database. */
  matches(repository: string): boolean;
  prepare(context: DatabaseContext): Promise<DatabaseServer>;
}

export interface DatabaseContext {
  pod: k8s.V1Pod;
  container: k8s.V1Container;
  /** The container's resolved environment (POSTGRES_PASSWORD, MYSQL_ROOT_PASSWORD, …). */
  env: Record<string, string>;
  mounts: ContainerMount[];
  /** The pod's loopback address. */
  ip: string;
  /** A host directory private to this container: sockets, pid files, data when no volume holds it. */
  runDir: string;
  /** Where data goes when the container mounts no volume at the data path. */
  scratchDir: string;
  log: CriLogFile;
  /** The stack's cache of built binaries (etcd). */
  cacheDir: string;
}

export interface DatabaseServer {
  argv: string[];
  env: Record<string, string>;
  uid?: number;
  gid?: number;
  port: number;
  /** The host directory holding the data (inside the PVC's volume directory when mounted). */
  dataDir: string;
  stopSignal: NodeJS.Signals;
  stopTimeoutMs: number;
  /** Where `runDir` appears in the container's view, so a client's default socket path works in exec. */
  socketMountPath?: string;
  /** What exec'd clients need to reach the server. */
  execEnv: Record<string, string>;
  /** Runs once the port answers (first-start setup such as creating the application database). */
  afterReady?(): Promise<void>;
}

/** `postgres` from `docker.io/library/postgres:16.4@sha256:…`, `bitnami/postgresql` → `postgresql`. */
export function imageRepository(image: string): string {
  const withoutDigest = image.split('@')[0]!;
  const lastSegment = withoutDigest.split('/').pop()!;
  return lastSegment.split(':')[0]!.toLowerCase();
}

/** The first declared container port, else the engine's standard one. */
export function containerPort(container: k8s.V1Container, standard: number): number {
  return container.ports?.[0]?.containerPort ?? standard;
}

export function systemUser(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${name}:`));
  if (!line) throw new Error(`system user ${name} not found (is its Debian package installed?)`);
  const fields = line.split(':');
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** The value of `--name=value` or `--name value` in a server's args. */
export function flagValue(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
    if (arg === name) return args[i + 1];
  }
  return undefined;
}

/** Runs a setup command (initdb, mariadb-install-db) to completion, its output into the container's log. */
export function runSetup(
  argv: string[],
  log: CriLogFile,
  options: { uid?: number; gid?: number; env?: Record<string, string>; input?: string } = {},
): Promise<void> {
  return new Promise((resolveRun, rejectRun) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      uid: options.uid,
      gid: options.gid,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => log.stdout.write(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => log.stderr.write(chunk));
    child.stdin.end(options.input ?? '');
    child.once('error', rejectRun);
    child.once('close', (code) => {
      log.stdout.flush();
      log.stderr.flush();
      if (code === 0) resolveRun();
      else rejectRun(new Error(`${argv.join(' ')} exited with ${code}`));
    });
  });
}

export function firstDefined(env: Record<string, string>, ...names: string[]): string | undefined {
  for (const name of names) if (env[name] !== undefined && env[name] !== '') return env[name];
  return undefined;
}
