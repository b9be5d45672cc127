/**
 * The PostgreSQL blueprint tests' database: a real PostgreSQL server playing the pod of examples/three-tier's
 * StatefulSet, and psql in a pod.
 */
import { join } from 'node:path';
import { createManifests } from '../../../src/kube/apply.ts';
import { blueprintHarness, waitForReadyPod, type BlueprintHarness } from '../database-blueprint.ts';
import { execUntilSuccess } from '../pod-runtime/testing.ts';

export const POSTGRES_POD = 'postgres-0';

/**
 * A harness on the shipped postgresql blueprint with the example's config and database only (its api and
 * worker would keep writing while a test compares rows), the pod ready. A failed setup closes the harness.
 */
export async function postgresHarness(prefix: string): Promise<BlueprintHarness> {
  const harness = await blueprintHarness(prefix, 'postgresql', (namespace) => `statefulset/${namespace}/postgres`);
  try {
    await createManifests(harness.clients, join(import.meta.dirname, '../../../examples/three-tier'), harness.namespace, (file) => /^(00-config|10-postgres)\./.test(file));
    await waitForReadyPod(harness, POSTGRES_POD);
  } catch (error) {
    await harness.close();
    throw error;
  }
  return harness;
}

/**
 * Runs SQL with psql in a pod (default postgres-0) as its server's user and database (the runtime's exec env
 * sets PGUSER and PGDATABASE), retried until the server answers, stopping at the first error; unaligned rows.
 */
export async function psqlIn(harness: BlueprintHarness, sql: string, pod = POSTGRES_POD): Promise<string> {
  const result = await execUntilSuccess(harness.clients, harness.namespace, pod, 'postgres', ['psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
  return result.stdout.trim();
}
