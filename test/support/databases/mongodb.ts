/**
 * The MongoDB blueprint tests' database: FerretDB playing examples/mongodb-app's mongo:7.0 pod (SCRAM
 * authentication on), and mongosh in that pod.
 */
import assert from 'node:assert/strict';
import { ensureFerretDB } from '../../../scripts/stack/ferretdb.ts';
import { stackPaths } from '../../../scripts/stack/paths.ts';
import { exampleDatabaseHarness, waitForReadyPod, type BlueprintHarness } from '../database-blueprint.ts';
import { execInPod, execUntilSuccess } from '../pod-runtime/testing.ts';
import { ensureStack } from '../stack.ts';

export const MONGODB_POD = 'mongodb-0';

/** The example deployed with `rootPassword`, ready and answering a ping. Give its before() 20 minutes. */
export async function mongodbHarness(prefix: string, rootPassword: string): Promise<BlueprintHarness> {
  await ensureStack();
  // Built on first use (cold Go caches: vendoring and compiling, up to ~7 min); says so on stderr meanwhile.
  await ensureFerretDB(stackPaths(), (line) => process.stderr.write(`[ferretdb] ${line}\n`));
  return exampleDatabaseHarness(prefix, 'mongodb', { MONGO_INITDB_ROOT_PASSWORD: rootPassword }, waitForMongoDB);
}

/** The pod ready and the server answering (after a start or a restore). */
export async function waitForMongoDB(harness: BlueprintHarness): Promise<void> {
  await waitForReadyPod(harness, MONGODB_POD);
  await execUntilSuccess(harness.clients, harness.namespace, MONGODB_POD, 'mongodb', ['sh', '-c', 'mongosh "$MONGODB_URI" --quiet --eval "db.adminCommand({ ping: 1 }).ok"']);
}

/** Runs a mongosh script as root in the database pod (the runtime's exec env carries the URI); its stdout. */
export async function mongoshIn(harness: BlueprintHarness, script: string): Promise<string> {
  const result = await execInPod(harness.clients, harness.namespace, MONGODB_POD, 'mongodb', ['sh', '-c', 'exec mongosh "$MONGODB_URI" --quiet --eval "$1"', 'sh', script]);
  assert.equal(result.exitCode, 0, `mongosh failed: ${result.stderr}`);
  return result.stdout.trim();
}
