/**
 * Where Temporal is: flags, then environment (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, CAIRN_TASK_QUEUE), then
 * the local stack's `.cairn/stack.json`, then the dev server's defaults.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TASK_QUEUE } from './run/types.ts';

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  /** The Web UI, for links; only known for the local stack or when TEMPORAL_UI_URL is set. */
  uiUrl?: string;
}

const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../..');

export function temporalSettings(flags: Partial<TemporalSettings> = {}): TemporalSettings {
  let stack: { temporal?: { address?: string; namespace?: string; uiUrl?: string } } = {};
  const stackFile = join(process.env.CAIRN_STATE_DIR ?? join(REPO_ROOT, '.cairn'), 'stack.json');
  if (existsSync(stackFile)) {
    try {
      stack = JSON.parse(readFileSync(stackFile, 'utf8')) as typeof stack;
    } catch {
      stack = {};
    }
  }
  const address = flags.address ?? process.env.TEMPORAL_ADDRESS ?? stack.temporal?.address ?? '127.0.0.1:7233';
  const settings: TemporalSettings = {
    address,
    namespace: flags.namespace ?? process.env.TEMPORAL_NAMESPACE ?? stack.temporal?.namespace ?? 'default',
    taskQueue: flags.taskQueue ?? process.env.CAIRN_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
  };
  const uiUrl = flags.uiUrl ?? process.env.TEMPORAL_UI_URL ?? (address === stack.temporal?.address ? stack.temporal?.uiUrl : undefined);
  if (uiUrl) settings.uiUrl = uiUrl;
  return settings;
}

export function workflowUrl(settings: TemporalSettings, workflowId: string): string | undefined {
  return settings.uiUrl ? `${settings.uiUrl}/namespaces/${settings.namespace}/workflows/${encodeURIComponent(workflowId)}` : undefined;
}
