import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StackPaths } from './paths.ts';

/**
 * The contents of `.cairn/stack.json`: how to reach every piece of a running local stack. `stack:up` writes
 * it; tests (through `test/support/stack.ts`), the CLI and the demo read it. Each component's section is
 * what its `info()` returns; the typed sections below are the core components'.
 */
export interface StackInfo {
  root: string;
  state: string;
  temporal: { address: string; namespace: string; uiUrl: string; dbFile: string };
  kube: { kubeconfig: string; cluster: string; version: string; server: string; workdir: string };
  s3: { endpoint: string; region: string; bucket: string; testBucket: string; accessKey: string; secretKey: string; rootDir: string };
  kopia: { binary: string; version: string };
  /** Every binary the stack installed, by name (temporal, kwokctl, kube-apiserver, etcd, kopia, versitygw, …). */
  binaries: Record<string, string>;
  /** Sections contributed by other components (csi, pod-runtime, …), under their component names. */
  [component: string]: unknown;
}

export function stackInfoFile(paths: StackPaths): string {
  return join(paths.state, 'stack.json');
}

export function readStackInfo(paths: StackPaths): StackInfo | undefined {
  const file = stackInfoFile(paths);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as StackInfo;
}

export function writeStackInfo(paths: StackPaths, info: StackInfo): void {
  mkdirSync(paths.state, { recursive: true });
  const file = stackInfoFile(paths);
  // Written through a rename so a concurrent reader never sees half a file.
  const scratch = `${file}.${process.pid}.tmp`;
  writeFileSync(scratch, `${JSON.stringify(info, null, 2)}\n`);
  renameSync(scratch, file);
}
