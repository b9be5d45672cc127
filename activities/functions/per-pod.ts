/**
 * What the `*All` data functions share: running a single-pod data function once per pod of a workload, and
 * Kanister's `backupInfo` (BackupDataAll's output, RestoreDataAll's and DeleteDataAll's input).
 *
 * Each pod's run gets a context of its own: its resources and snapshot tags are named after the run, the
 * phase *and the pod* (so a retried attempt finds each pod's snapshot, and two pods never share one), and
 * its heartbeats are gathered into one `{pods: {<pod>: details}}`. Every pod is attempted; the phase fails
 * after all have ended, naming each pod that failed.
 */
import { createHash } from 'node:crypto';
import type { JsonObject, JsonValue } from '../../src/json.ts';
import { PermanentFunctionError, type FunctionContext } from './types.ts';

/** At most this many pods at once: each holds an exec stream and a kopia process on the worker. */
const PARALLEL_PODS = 4;

/** Kanister's BackupInfo, as BackupDataAll writes it into `BackupAllInfo`: pod → its backup. */
export interface PodBackupInfo {
  PodName: string;
  BackupID: string;
  BackupTag: string;
}

export function podContext(context: FunctionContext, pod: string, args: JsonObject, beats: Map<string, JsonValue>): FunctionContext {
  const tag = createHash('sha256').update(pod).digest('hex').slice(0, 8);
  return {
    ...context,
    args,
    resourceName: (suffix) => context.resourceName(`${suffix}-p${tag}`),
    heartbeat: (details) => {
      beats.set(pod, details ?? null);
      context.heartbeat({ pods: Object.fromEntries(beats) });
    },
    log: (message, fields) => context.log(message, { pod, ...fields }),
  };
}

/** Runs `work` for every pod, a few at a time; the results by pod, or an error naming every pod that failed. */
export async function forEachPod<T>(pods: string[], work: (pod: string) => Promise<T>): Promise<Map<string, T>> {
  const results = new Map<string, T>();
  const failures: { pod: string; error: Error }[] = [];
  let next = 0;
  const lane = async () => {
    while (next < pods.length) {
      const pod = pods[next++]!;
      try {
        results.set(pod, await work(pod));
      } catch (error) {
        failures.push({ pod, error: error instanceof Error ? error : new Error(String(error)) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_PODS, pods.length) }, lane));
  if (failures.length > 0) {
    failures.sort((a, b) => pods.indexOf(a.pod) - pods.indexOf(b.pod));
    const message = failures.map(({ pod, error }) => `pod ${pod}: ${error.message}`).join('\n');
    // Permanent only when no pod's failure could go away on a retry.
    throw failures.every(({ error }) => error instanceof PermanentFunctionError) ? new PermanentFunctionError(message) : new Error(message);
  }
  return results;
}

/** Parses Kanister's `backupInfo` (a JSON string of pod → {PodName, BackupID, BackupTag}). */
export function parseBackupInfo(value: JsonValue | undefined): Record<string, PodBackupInfo> {
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch (error) {
      throw new PermanentFunctionError(`backupInfo is not JSON (BackupDataAll's BackupAllInfo output): ${(error as Error).message}`);
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new PermanentFunctionError('backupInfo must map each pod to {PodName, BackupID, BackupTag}, as BackupDataAll outputs it');
  const info: Record<string, PodBackupInfo> = {};
  for (const [pod, entry] of Object.entries(parsed as Record<string, unknown>)) {
    const backup = entry as Partial<PodBackupInfo> | null;
    if (!backup || typeof backup.BackupID !== 'string' || backup.BackupID === '') throw new PermanentFunctionError(`backupInfo: pod ${pod} has no BackupID`);
    info[pod] = { PodName: backup.PodName ?? pod, BackupID: backup.BackupID, BackupTag: backup.BackupTag ?? '' };
  }
  if (Object.keys(info).length === 0) throw new PermanentFunctionError('backupInfo names no pod');
  return info;
}

/** Kanister's artifact path of one pod's backup: `<backupArtifactPrefix>/<pod>`. */
export function podPrefix(prefix: string, pod: string): string {
  return `${prefix.replace(/\/+$/, '')}/${pod}`;
}
