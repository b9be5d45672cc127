/**
 * The main job behind `npm start`: local stack → Cairn worker → example app → one Application backup through Temporal,
 * then the worker keeps serving until Ctrl-C (or exits after the backup with --once).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { withStackLock } from './stack/lock.ts';
import { stackPaths } from './stack/paths.ts';
import { stackUp } from './stack/stack.ts';
import { innermostMessage } from '../src/diagnostics.ts';
import { createManifests, ensureNamespace } from '../src/kube/apply.ts';
import { kubeClients } from '../src/kube/clients.ts';
import { parseApplication } from '../src/application/spec.ts';
import type { ApplicationBackupInput, ApplicationBackupResult, ApplicationProgress, ApplicationSpec } from '../src/application/types.ts';
import { temporalSettings, workflowUrl } from '../src/temporal-config.ts';
import { createCairnWorker } from '../src/worker/worker.ts';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const once = process.argv.includes('--once');
const APP_NAMESPACE = process.env.CAIRN_DEMO_NAMESPACE ?? 'shop';
const SHOP_APPLICATION_RELATIVE = 'examples/applications/shop.yaml';
const SHOP_APPLICATION = join(ROOT, SHOP_APPLICATION_RELATIVE);
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

  say(`4/4 backup of the Application "shop" (examples/applications/shop.yaml): resources, then PostgreSQL`);
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: temporal.namespace });
  const shop = parseApplication(readFileSync(SHOP_APPLICATION, 'utf8'), SHOP_APPLICATION);
  const spec: ApplicationSpec = { ...shop, spec: { ...shop.spec, namespace: APP_NAMESPACE } };
  const workflowId = `backup-${spec.metadata.name}-${Date.now().toString(36)}`;
  const input: ApplicationBackupInput = { application: { spec } };
  const handle = await client.workflow.start('backupApplication', { taskQueue: temporal.taskQueue, workflowId, args: [input] });
  const url = workflowUrl(temporal, workflowId);
  say(`    run ${workflowId}${url ? `\n[cairn]     ${url}` : ''}`);
  const shown = new Set<string>();
  const poll = setInterval(() => {
    handle.query<ApplicationProgress>('progress').then((progress) => {
      for (const line of [`stage ${progress.stage}`, ...progress.components.map((c) => `${c.name}: ${c.state}`)]) {
        if (!shown.has(line)) {
          shown.add(line);
          say(`    ${line}`);
        }
      }
    }, () => undefined);
  }, 500);
  let exitCode = 0;
  try {
    const result = (await handle.result()) as ApplicationBackupResult;
    const kinds = Object.entries(result.resources.kinds).map(([kind, n]) => `${n} ${kind}`).join(', ');
    say(`backup succeeded in ${(result.durationMs / 1000).toFixed(1)} s: restore point ${result.restorePoint.id} (${result.resources.count} resources: ${kinds})`);
    say('next:');
    console.log(`  npx cairn restore-points list`);
    console.log(`  npx cairn restore shop --namespace ${APP_NAMESPACE}-restored --wait      # the whole app, database first`);
    console.log(`  npx cairn drill shop                                             # prove the restore works, then clean up`);
    console.log(`  npx cairn schedule create ${SHOP_APPLICATION_RELATIVE} --cron '0 2 * * *' --drill weekly`);
    console.log(`  npx cairn validate blueprints/ examples/applications/`);
    if (temporal.uiUrl) console.log(`  Web UI: ${temporal.uiUrl}/namespaces/${temporal.namespace}/workflows`);
  } catch (error) {
    exitCode = 1;
    const message = error instanceof WorkflowFailedError ? innermostMessage(error) : (error as Error).message;
    say(`backup failed: ${message}`);
    say(`details: the workflow ${workflowId} in the Web UI, or npx cairn status for its component runs (${workflowId}/<component>)`);
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
