/** Temporal helpers for integration tests: a client, a Cairn worker in this process or in a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import { createCairnWorker, type WorkerOptions } from '../../src/worker/worker.ts';
import { stackPaths } from '../../scripts/stack/paths.ts';
import { tcpOpen } from '../../scripts/stack/process.ts';
import { readStackInfo } from '../../scripts/stack/stack-info.ts';
import { ensureStack, uniqueTaskQueue } from './stack.ts';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

export interface TemporalFixture {
  client: Client;
  address: string;
  namespace: string;
  taskQueue: string;
  close(): Promise<void>;
}

/**
 * Temporal of the local stack. When the dev server already answers, tests that need nothing else do not wait
 * for the rest of the stack (a cold Kubernetes build takes many minutes).
 */
async function stackTemporal(): Promise<{ address: string; namespace: string }> {
  const info = readStackInfo(stackPaths());
  if (info?.temporal) {
    const [host = '127.0.0.1', port = '7233'] = info.temporal.address.split(':');
    if (await tcpOpen(host, Number(port))) return info.temporal;
  }
  return (await ensureStack()).temporal;
}

export async function temporalFixture(prefix: string): Promise<TemporalFixture> {
  const stack = { temporal: await stackTemporal() };
  const connection = await Connection.connect({ address: stack.temporal.address });
  return {
    client: new Client({ connection, namespace: stack.temporal.namespace }),
    address: stack.temporal.address,
    namespace: stack.temporal.namespace,
    taskQueue: uniqueTaskQueue(prefix),
    close: () => connection.close(),
  };
}

export async function inProcessWorker(fixture: TemporalFixture, options: Partial<WorkerOptions> = {}): Promise<Worker> {
  return createCairnWorker({
    temporal: { address: fixture.address, namespace: fixture.namespace, taskQueue: fixture.taskQueue },
    logFormat: 'json',
    ...options,
  });
}

/** An in-process worker on its own task queue, serving until `stop()` (which also closes the connection). */
export interface RunningWorker {
  fixture: TemporalFixture;
  stop(): Promise<void>;
}

export async function runningWorker(prefix: string, options: Partial<WorkerOptions> = {}): Promise<RunningWorker> {
  const fixture = await temporalFixture(prefix);
  const worker = await inProcessWorker(fixture, options);
  const running = worker.run();
  return {
    fixture,
    stop: async () => {
      worker.shutdown();
      await running;
      await fixture.close();
    },
  };
}

export interface WorkerProcess {
  child: ChildProcess;
  logFile: string;
  /** Resolves once the worker polls its task queue. */
  ready: Promise<void>;
  log(): Promise<string>;
  exited: Promise<number | null>;
}

/** `cairn worker` as a child process, so a test can SIGKILL it like a crashing pod. */
export async function spawnWorker(
  fixture: Pick<TemporalFixture, 'address' | 'namespace' | 'taskQueue'>,
  options: { args?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<WorkerProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-worker-'));
  const logFile = join(dir, 'worker.log');
  const out = createWriteStream(logFile);
  const child = spawn(process.execPath, [join(ROOT, 'bin/cairn.js'), 'worker', '--address', fixture.address, '--namespace', fixture.namespace, '--task-queue', fixture.taskQueue, ...(options.args ?? [])], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawned.add(child);
  child.once('exit', () => spawned.delete(child));
  child.stdout!.pipe(out, { end: false });
  child.stderr!.pipe(out, { end: false });
  const ready = new Promise<void>((resolveReady, reject) => {
    const onData = (chunk: Buffer) => {
      if (chunk.toString().includes('serving task queue')) resolveReady();
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready; see ${logFile}`)));
  });
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  return { child, logFile, ready, exited, log: () => readFile(logFile, 'utf8') };
}

const spawned = new Set<ChildProcess>();

/** Kills every worker process a test spawned and has not stopped (call it in `after`). */
export async function killSpawnedWorkers(): Promise<void> {
  await Promise.all([...spawned].map((child) => new Promise<void>((resolveExit) => {
    child.once('exit', () => resolveExit());
    child.kill('SIGKILL');
  })));
}

/** The blueprint directories of the test workers: the run fixtures, then the shipped blueprints. */
export const TEST_BLUEPRINT_ARGS = ['--blueprints', join(ROOT, 'test/fixtures/run-blueprints'), '--blueprints', join(ROOT, 'blueprints')];

/** The phase ids (from `phase/<id>` activity ids) that had an event of one type, in history order. */
export function phaseEvents(history: History, eventType: 'scheduled' | 'completed' | 'failed' | 'canceled'): string[] {
  return phaseTimeline(history)
    .filter((event) => event.startsWith(`${eventType}:`))
    .map((event) => event.slice(eventType.length + 1));
}

/** The phase events of a history in order, as `scheduled:<id>`, `completed:<id>`, `failed:<id>`, `canceled:<id>`. */
export function phaseTimeline(history: History): string[] {
  const timeline: string[] = [];
  const scheduled = new Map<string, string>();
  for (const event of history.events ?? []) {
    const attributes = event.activityTaskScheduledEventAttributes;
    if (attributes?.activityId?.startsWith('phase/')) {
      const id = attributes.activityId.slice('phase/'.length);
      scheduled.set(String(event.eventId), id);
      timeline.push(`scheduled:${id}`);
      continue;
    }
    const ends: [string, { scheduledEventId?: unknown } | null | undefined][] = [
      ['completed', event.activityTaskCompletedEventAttributes],
      ['failed', event.activityTaskFailedEventAttributes],
      ['canceled', event.activityTaskCanceledEventAttributes],
    ];
    for (const [kind, attrs] of ends) {
      const id = attrs ? scheduled.get(String(attrs.scheduledEventId)) : undefined;
      if (id) timeline.push(`${kind}:${id}`);
    }
  }
  return timeline;
}

/** The Temporal CLI binary the stack installed (installing it if needed). */
export async function ensureTemporalBinary(): Promise<string> {
  const info = readStackInfo(stackPaths()) ?? (await ensureStack());
  const binary = info.binaries.temporal;
  if (!binary) throw new Error('the stack has no temporal binary');
  return binary;
}
