/** Flags every command that talks to Temporal accepts. */
import { Client, Connection } from '@temporalio/client';
import { temporalSettings, type TemporalSettings } from '../temporal-config.ts';

export const TEMPORAL_FLAGS = {
  address: { type: 'string' },
  namespace: { type: 'string' },
  'task-queue': { type: 'string' },
} as const;

export const TEMPORAL_FLAGS_HELP = `Temporal (default: the local stack, or TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, CAIRN_TASK_QUEUE):
      --address <host:port>  Temporal frontend
      --namespace <name>     Temporal namespace
      --task-queue <name>    the Cairn workers' task queue (default cairn)
`;

export function settingsFromFlags(values: { address?: string; namespace?: string; 'task-queue'?: string }): TemporalSettings {
  return temporalSettings({
    ...(values.address ? { address: values.address } : {}),
    ...(values.namespace ? { namespace: values.namespace } : {}),
    ...(values['task-queue'] ? { taskQueue: values['task-queue'] } : {}),
  });
}

export async function connectClient(settings: TemporalSettings): Promise<{ client: Client; close: () => Promise<void> }> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: settings.address, connectTimeout: '5s' });
  } catch (error) {
    throw new Error(`cannot reach Temporal at ${settings.address} (${(error as Error).message}); start the local stack with 'npm run stack:up' or set TEMPORAL_ADDRESS`);
  }
  return { client: new Client({ connection, namespace: settings.namespace }), close: () => connection.close() };
}
