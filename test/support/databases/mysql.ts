/**
 * The MySQL blueprint tests' database: MariaDB playing examples/mysql-app's mysql:8.0 pod, and the mysql
 * client in that pod.
 */
import { exampleDatabaseHarness, waitForReadyPod, type BlueprintHarness } from '../database-blueprint.ts';
import { execUntilSuccess } from '../pod-runtime/testing.ts';

export const MYSQL_POD = 'mysql-0';

/** The example deployed with `rootPassword` (the canary of the history scans), its pod ready. */
export function mysqlHarness(prefix: string, rootPassword: string): Promise<BlueprintHarness> {
  return exampleDatabaseHarness(prefix, 'mysql', { MYSQL_ROOT_PASSWORD: rootPassword });
}

/** The pod ready again (after a restore that scaled it down). */
export function waitForMysql(harness: BlueprintHarness): Promise<void> {
  return waitForReadyPod(harness, MYSQL_POD);
}

/**
 * Runs SQL as root in the database pod (the runtime's exec env carries root's password), retried until the
 * server answers; the tab-separated rows, without column names.
 */
export async function mysqlIn(harness: BlueprintHarness, statements: string): Promise<string> {
  const result = await execUntilSuccess(harness.clients, harness.namespace, MYSQL_POD, 'mysql', ['mysql', '--batch', '--skip-column-names', '-e', statements]);
  return result.stdout.trim();
}
