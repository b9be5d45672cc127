/**
 * The main job behind `npm start`: local stack → Cairn worker → example app → one backup through Temporal,
 * then the worker keeps serving until Ctrl-C (or exits after the backup with --once).
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { withStackLock } from './stack/lock.ts';
import { stackPaths } from './stack/paths.ts';
import { stackUp } from './stack/stack.ts';
import { innermostMessage } from '../src/diagnostics.ts';
import { createManifests, ensureNamespace } from '../src/kube/apply.ts';
import { kubeClients } from '../src/kube/clients.ts';
import type { RunActionInput, RunActionResult, RunProgress } from '../src/run/types.ts';
import { temporalSettings, workflowUrl } from '../src/temporal-config.ts';
import { createCairnWorker } from '../src/worker/worker.ts';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const once = process.argv.includes('--once');
const APP_NAMESPACE = process.env.CAIRN_DEMO_NAMESPACE ?? 'shop';
const say = (message: string) => console.log(`[cairn] ${message}`);

async function main(): Promise<number> {
  say('1/4 local stack (Temporal, Kubernetes with kwok, CSI, S3, kopia, database pods)');
  const paths = stackPaths();
  await withStackLock(paths, () => stackUp(paths, (message) => console.log(`[stack] ${message}`)));

  const temporal = temporalSettings();
  say(`2/4 worker on task queue "${temporal.taskQueue}" at ${temporal.address}`);
  const worker = await createCairnWorker({ temporal, logFormat: 'json' });
  const serving = worker.run();
  const stop = () => {
    say('stopping the worker (running phases are handed back to Temporal)');
    worker.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  say(`3/4 example app "shop" (PostgreSQL + api + worker) in namespace ${APP_NAMESPACE}`);
  const clients = kubeClients();
  await ensureNamespace(clients, APP_NAMESPACE);
  const created = await createManifests(clients, join(ROOT, 'examples/three-tier'), APP_NAMESPACE);
  say(created ? `    deployed ${created} objects` : '    already deployed');
  await waitForPodRunning(clients, APP_NAMESPACE, 'postgres-0');

  say('4/4 backup of statefulset/shop/postgres with blueprints/postgresql.yaml');
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: temporal.namespace });
  const workflowId = `backup-${APP_NAMESPACE}-postgres-${Date.now().toString(36)}`;
  const input: RunActionInput = { blueprint: { name: 'postgresql' }, action: 'backup', target: `statefulset/${APP_NAMESPACE}/postgres` };
  const handle = await client.workflow.start('runAction', { taskQueue: temporal.taskQueue, workflowId, args: [input] });
  const url = workflowUrl(temporal, workflowId);
  say(`    run ${workflowId}${url ? `\n[cairn]     ${url}` : ''}`);
  const shown = new Set<string>();
  const poll = setInterval(() => {
    handle.query<RunProgress>('progress').then((progress) => {
      for (const phase of progress.phases) {
        const key = `${phase.id}:${phase.state}`;
        if (phase.state !== 'pending' && !shown.has(key)) {
          shown.add(key);
          say(`    ${phase.state.padEnd(9)} ${phase.id} (${phase.func})`);
        }
      }
    }, () => undefined);
  }, 500);
  let exitCode = 0;
  try {
    const result = (await handle.result()) as RunActionResult;
    const dump = result.outputArtifacts.pgDump?.KeyValue ?? {};
    say(`backup succeeded: restore point ${dump.snapshotID ?? '?'} (${dump.logicalBytes ?? '?'} bytes of pg_dumpall), plan ${result.plan.hash.slice(0, 12)}`);
    say('next:');
    console.log(`  npx cairn status ${workflowId}`);
    console.log(`  npx cairn run postgresql --action restore --target statefulset/${APP_NAMESPACE}/postgres --from ${workflowId} --wait`);
    console.log(`  npx cairn render blueprints/postgresql.yaml --action backup --target statefulset/${APP_NAMESPACE}/postgres`);
    console.log(`  npx cairn validate blueprints/`);
    if (temporal.uiUrl) console.log(`  Web UI: ${temporal.uiUrl}/namespaces/${temporal.namespace}/workflows`);
  } catch (error) {
    exitCode = 1;
    const message = error instanceof WorkflowFailedError ? innermostMessage(error) : (error as Error).message;
    say(`backup failed: ${message}`);
    say(`details: npx cairn status ${workflowId}`);
  } finally {
    clearInterval(poll);
    await connection.close();
  }
  if (once) {
    worker.shutdown();
  } else {
    say('the worker keeps running; Ctrl-C stops it');
  }
  await serving;
  return exitCode;
}

async function waitForPodRunning(clients: ReturnType<typeof kubeClients>, namespace: string, name: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const pod = await clients.core.readNamespacedPod({ namespace, name }).catch(() => undefined);
    if (pod?.status?.phase === 'Running' && pod.status.containerStatuses?.every((c) => c.ready)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${namespace}/${name} is not Running after 5 minutes`);
}


main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`[cairn] ${(error as Error).message}`);
    process.exit(1);
  },
);
