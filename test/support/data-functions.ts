/**
 * Helpers for the data-function tests (BackupData, RestoreData, CopyVolumeData, DeleteData, LocationDelete):
 * a directory tree with the awkward cases, a manifest of a tree to compare (content, modes, owners, links),
 * one-phase blueprints run through a real worker, and the application's kopia repository as the functions see it.
 */
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowFailedError } from '@temporalio/client';
import { repositoryFor } from '../../activities/functions/exec-target.ts';
import type { FunctionContext } from '../../activities/functions/types.ts';
import type { Repository } from '../../activities/kopia/repository.ts';
import { listSnapshotEntries, type SnapshotEntry } from '../../activities/kopia/snapshots.ts';
import type { JsonValue } from '../../src/json.ts';
import type { RunActionResult } from '../../src/run/types.ts';
import type { TemplateContext } from '../../src/template/context.ts';
import type { KubeClients } from './stack.ts';
import type { TemporalFixture } from './temporal.ts';

/**
 * Writes under `root`: nested directories (one 0700, one empty), text, a binary file, an executable, a
 * 0640 file owned by uid/gid 1234, a name with a space, a relative symlink and a dangling one.
 */
export function writeAwkwardTree(root: string, seed = 'tree'): void {
  mkdirSync(join(root, 'nested', 'deeper', 'deepest'), { recursive: true });
  mkdirSync(join(root, 'private'), { recursive: true });
  mkdirSync(join(root, 'empty'), { recursive: true });
  writeFileSync(join(root, 'a.txt'), `hello from ${seed}\n`);
  writeFileSync(join(root, 'nested', 'deeper', 'b.bin'), pseudoRandom(`${seed}-b`, 300_000));
  writeFileSync(join(root, 'nested', 'deeper', 'deepest', 'c.txt'), 'deep\n'.repeat(1000));
  writeFileSync(join(root, 'run.sh'), '#!/bin/sh\necho run\n');
  chmodSync(join(root, 'run.sh'), 0o755);
  writeFileSync(join(root, 'private', 'secret.conf'), 'owned by 1234\n');
  chmodSync(join(root, 'private', 'secret.conf'), 0o640);
  chownSync(join(root, 'private', 'secret.conf'), 1234, 1234);
  chmodSync(join(root, 'private'), 0o700);
  writeFileSync(join(root, 'with space.txt'), 'spaced\n');
  symlinkSync('nested/deeper/b.bin', join(root, 'link-to-b'));
  symlinkSync('does-not-exist', join(root, 'dangling'));
}

/** Deterministic incompressible bytes. */
export function pseudoRandom(seed: string, size: number): Buffer {
  const chunks: Buffer[] = [];
  let block = createHash('sha256').update(seed).digest();
  for (let total = 0; total < size; total += block.length) {
    chunks.push(block);
    block = createHash('sha256').update(block).digest();
  }
  return Buffer.concat(chunks).subarray(0, size);
}

export interface TreeEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  mode: string;
  uid: number;
  gid: number;
  sha256?: string;
  target?: string;
  mtime?: number;
}

/** Every entry under `root` (not `root` itself), sorted: what a byte-for-byte restore must reproduce. */
export function treeManifest(root: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const rel = prefix ? `${prefix}/${name}` : name;
      const stat = lstatSync(path);
      const base = { path: rel, mode: (stat.mode & 0o7777).toString(8), uid: stat.uid, gid: stat.gid };
      if (stat.isSymbolicLink()) entries.push({ ...base, type: 'symlink', target: readlinkSync(path) });
      else if (stat.isDirectory()) {
        entries.push({ ...base, type: 'dir' });
        walk(path, rel);
      } else entries.push({ ...base, type: 'file', sha256: createHash('sha256').update(readFileSync(path)).digest('hex'), mtime: Math.floor(stat.mtimeMs / 1000) });
    }
  };
  walk(root, '');
  return entries;
}

/** A blueprint whose `backup` action is one phase calling `func` with `args` (no retries: failures show at once). */
export function oneStepBlueprint(func: string, args: Record<string, JsonValue>): string {
  return `apiVersion: cairn.io/v1alpha1
kind: Blueprint
metadata: {name: data-functions}
actions:
  backup:
    kinds: [Namespace]
    phases:
      - name: step
        func: ${func}
        retry: {maxAttempts: 1}
        args: ${JSON.stringify(args)}
  restore:
    kinds: [Namespace]
    phases: [{name: r, func: Sleep, args: {duration: 1ms}}]
`;
}

export type StepOutcome = { ok: true; outputs: Record<string, JsonValue> } | { ok: false; message: string };

let runs = 0;

/** Runs one phase of `func` in `namespace` through the worker of `fixture`; its outputs, or the failure's message. */
export async function runStep(fixture: TemporalFixture, namespace: string, func: string, args: Record<string, JsonValue>): Promise<StepOutcome> {
  const workflowId = `${fixture.taskQueue}-${func}-${++runs}`;
  try {
    const result = (await fixture.client.workflow.execute('runAction', {
      taskQueue: fixture.taskQueue,
      workflowId,
      args: [{ blueprint: { inline: oneStepBlueprint(func, args) }, action: 'backup', target: `namespace/${namespace}` }],
    })) as RunActionResult;
    return { ok: true, outputs: result.phaseOutputs.step ?? {} };
  } catch (error) {
    const cause = (error as WorkflowFailedError).cause as Error | undefined;
    return { ok: false, message: String(cause?.message ?? (error as Error).message) };
  }
}

/** The repository the functions use for `namespace` (the application, until Application specs exist). */
export function applicationRepository(clients: KubeClients, namespace: string): Promise<Repository> {
  const template = { Namespace: namespace, Time: new Date(0).toISOString(), Phases: {}, ArtifactsIn: {}, Options: {}, Object: {} } as unknown as TemplateContext;
  return repositoryFor({ template, kube: () => clients } as unknown as FunctionContext);
}

/** Snapshots of the repository whose source path is `path` (a backupArtifactPrefix). */
export async function snapshotsUnder(repository: Repository, path: string): Promise<SnapshotEntry[]> {
  const wanted = `/${path.replace(/^\/+|\/+$/g, '')}`;
  return (await listSnapshotEntries(repository)).filter((snapshot) => snapshot.source.path === wanted);
}
