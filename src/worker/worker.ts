/**
 * The Cairn worker: the workflows of `workflows/` and the activities of `activities/` on one task queue.
 * Shuts down gracefully on SIGINT/SIGTERM: it stops polling and hands in-flight activities back to Temporal
 * (they are retried elsewhere from their last heartbeat) instead of losing them.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Runtime, Worker, DefaultLogger, type LogLevel } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities/index.ts';
import { kubeClients } from '../kube/clients.ts';
import type { TemporalSettings } from '../temporal-config.ts';

const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
export const WORKFLOWS_PATH = resolve(REPO_ROOT, 'workflows/index.ts');
export const DEFAULT_BLUEPRINT_DIRS = [resolve(REPO_ROOT, 'blueprints')];

export interface WorkerOptions {
  temporal: TemporalSettings;
  blueprintDirs?: string[];
  /** Seconds the worker waits for running activities when asked to stop (default 10). */
  shutdownGraceSeconds?: number;
  activities?: Partial<ActivityDeps>;
  /** Structured JSON lines when not attached to a terminal. */
  logFormat?: 'json' | 'text';
}

let runtimeInstalled = false;

function installRuntime(format: 'json' | 'text'): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = (process.env.CAIRN_LOG_LEVEL ?? 'INFO') as LogLevel;
  const logger = new DefaultLogger(level, (entry) => {
    const { level: entryLevel, message, meta } = entry;
    const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
    if (format === 'json') process.stderr.write(`${JSON.stringify({ time, level: entryLevel, message, ...meta })}\n`);
    else process.stderr.write(`${time} ${entryLevel.padEnd(5)} ${message}${meta && Object.keys(meta).length ? ` ${JSON.stringify(meta)}` : ''}\n`);
  });
  Runtime.install({ logger, shutdownSignals: [] });
}

export async function createCairnWorker(options: WorkerOptions): Promise<Worker> {
  installRuntime(options.logFormat ?? (process.stderr.isTTY ? 'text' : 'json'));
  const connection = await NativeConnection.connect({ address: options.temporal.address });
  return Worker.create({
    connection,
    namespace: options.temporal.namespace,
    taskQueue: options.temporal.taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: createActivities({
      kube: options.activities?.kube ?? kubeClients,
      blueprintDirs: options.activities?.blueprintDirs ?? options.blueprintDirs ?? DEFAULT_BLUEPRINT_DIRS,
      ...(options.activities?.functions ? { functions: options.activities.functions } : {}),
    }),
    shutdownGraceTime: `${options.shutdownGraceSeconds ?? 10}s`,
    // Heartbeats carry progress (`cairn status`) and bring cancellation to running activities: send them
    // at least every 3 s instead of the default 80% of the heartbeat timeout.
    maxHeartbeatThrottleInterval: '3s',
  });
}
