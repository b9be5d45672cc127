/**
 * The Cairn worker: the workflows of `workflows/` and the activities of `activities/` on one task queue.
 * Shuts down gracefully on SIGINT/SIGTERM: it stops polling and hands in-flight activities back to Temporal
 * (they are retried elsewhere from their last heartbeat) instead of losing them.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Runtime, Worker, DefaultLogger, type InjectedSinks, type LogLevel } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities/index.ts';
import { auditLog, runAuditAction, type AuditLog } from '../audit/audit-log.ts';
import type { AuthorizationSettings } from '../authz/authorize.ts';
import { kubeClients } from '../kube/clients.ts';
import type { CairnMetrics } from '../metrics/cairn-metrics.ts';
import { phaseMetricsInterceptor } from '../metrics/phase-interceptor.ts';
import type { TemporalSettings } from '../temporal-config.ts';
import type { RunEnd, RunEventSinks, RunSummary } from './run-events.ts';
import { temporalAuthFromEnv } from './temporal-connection.ts';

const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
export const WORKFLOWS_PATH = resolve(REPO_ROOT, 'workflows/index.ts');
/** Observe-only workflow interceptors (run start/end, quiesce windows) feeding metrics and the audit log. */
export const WORKFLOW_INTERCEPTOR_MODULES = [resolve(REPO_ROOT, 'src/worker/run-events-interceptor.ts')];
export const DEFAULT_BLUEPRINT_DIRS = [resolve(REPO_ROOT, 'blueprints')];

export interface WorkerOptions {
  temporal: TemporalSettings;
  blueprintDirs?: string[];
  /** Directories of Applications workflows may name (searched before ConfigMaps labelled cairn.io/application=true). */
  applicationDirs?: string[];
  /** Seconds the worker waits for running activities when asked to stop (default 10). */
  shutdownGraceSeconds?: number;
  activities?: Partial<ActivityDeps>;
  /** Structured JSON lines when not attached to a terminal. */
  logFormat?: 'json' | 'text';
  /** Check every run's requester with a SubjectAccessReview before its first phase (src/authz/). */
  authorization?: AuthorizationSettings;
  /** Audit lines for the runs this worker executes: `-` (stdout), `stderr`, a file path; absent: none. */
  auditLog?: string;
  /** Series for the worker's Prometheus endpoint (src/metrics/server.ts serves them). */
  metrics?: CairnMetrics;
  /** Loopback `host:port` where the Temporal SDK's Core runtime exports its own metrics (first worker of the process only). */
  sdkMetricsAddress?: string;
}

let runtimeInstalled = false;

/** Installs the SDK runtime once per process; returns whether this call installed it (and so its metrics exporter). */
function installRuntime(format: 'json' | 'text', sdkMetricsAddress: string | undefined): boolean {
  if (runtimeInstalled) return false;
  runtimeInstalled = true;
  const level = (process.env.CAIRN_LOG_LEVEL ?? 'INFO') as LogLevel;
  const logger = new DefaultLogger(level, (entry) => {
    const { level: entryLevel, message, meta } = entry;
    const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
    if (format === 'json') process.stderr.write(`${JSON.stringify({ time, level: entryLevel, message, ...meta })}\n`);
    else process.stderr.write(`${time} ${entryLevel.padEnd(5)} ${message}${meta && Object.keys(meta).length ? ` ${JSON.stringify(meta)}` : ''}\n`);
  });
  Runtime.install({
    logger,
    shutdownSignals: [],
    ...(sdkMetricsAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: sdkMetricsAddress, countersTotalSuffix: true, useSecondsForDurations: true } } } }
      : {}),
  });
  return true;
}

/** Whether the SDK's own metrics are being exported at `sdkMetricsAddress` (false when another worker installed the runtime first). */
export let sdkMetricsExported = false;

export async function createCairnWorker(options: WorkerOptions): Promise<Worker> {
  const installed = installRuntime(options.logFormat ?? (process.stderr.isTTY ? 'text' : 'json'), options.sdkMetricsAddress);
  if (installed && options.sdkMetricsAddress) sdkMetricsExported = true;
  const connection = await NativeConnection.connect({ address: options.temporal.address, ...temporalAuthFromEnv() });
  const audit = auditLog(options.auditLog, 'worker');
  const applicationDirs = options.activities?.applicationDirs ?? options.applicationDirs;
  return Worker.create({
    connection,
    namespace: options.temporal.namespace,
    taskQueue: options.temporal.taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: createActivities({
      kube: options.activities?.kube ?? kubeClients,
      blueprintDirs: options.activities?.blueprintDirs ?? options.blueprintDirs ?? DEFAULT_BLUEPRINT_DIRS,
      ...(applicationDirs ? { applicationDirs } : {}),
      ...(options.activities?.functions ? { functions: options.activities.functions } : {}),
      ...(options.authorization ? { authorization: options.authorization } : {}),
      audit,
    }),
    interceptors: {
      workflowModules: WORKFLOW_INTERCEPTOR_MODULES,
      ...(options.metrics ? { activity: [phaseMetricsInterceptor(options.metrics)] } : {}),
    },
    sinks: runEventSinks(options.metrics, audit, options.temporal.namespace),
    shutdownGraceTime: `${options.shutdownGraceSeconds ?? 10}s`,
    // Heartbeats carry progress (`cairn status`) and bring cancellation to running activities: send them
    // at least every 3 s instead of the default 80% of the heartbeat timeout.
    maxHeartbeatThrottleInterval: '3s',
  });
}

/** Where the workflows' run events go; not called again on replay, so a resumed run is not counted twice. */
function runEventSinks(metrics: CairnMetrics | undefined, audit: AuditLog, temporalNamespace: string): InjectedSinks<RunEventSinks> {
  const where = (run: RunSummary) => ({ ...(run.namespace ? { namespace: run.namespace } : {}), ...(run.target ? { target: run.target } : {}), temporalNamespace });
  const what = (workflowId: string, workflowType: string, run: RunSummary) => ({
    workflowId,
    workflowType,
    ...(run.blueprint ? { blueprint: run.blueprint } : {}),
    ...(run.action ? { action: run.action } : {}),
    ...(run.profile ? { profile: run.profile } : {}),
  });
  return {
    runEvents: {
      started: {
        fn(info, run: RunSummary) {
          metrics?.runStarted(run);
          audit.record({ who: run.requestedBy ?? {}, action: runAuditAction(run.action), what: what(info.workflowId, info.workflowType, run), where: where(run), outcome: 'allowed' });
        },
      },
      ended: {
        fn(info, run: RunEnd) {
          const now = Date.now();
          metrics?.runEnded(info.workflowType, run, (now - info.startTime.getTime()) / 1000, now / 1000);
          audit.record({
            who: run.requestedBy ?? {},
            action: 'run.end',
            what: what(info.workflowId, info.workflowType, run),
            where: where(run),
            outcome: run.outcome,
            ...(run.error ? { reason: run.error } : {}),
          });
        },
      },
      quiesceWindow: {
        fn(_info, run: RunSummary, _group: string, windowMs: number) {
          metrics?.quiesced(run, windowMs / 1000);
        },
      },
    },
  };
}
