import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { tcpOpen } from '../../../scripts/stack/process.ts';
import { SEARCH_ATTRIBUTES, type RunActionResult, type RunProgress } from '../../../src/run/types.ts';
import { ensureTemporalBinary } from '../../support/temporal.ts';
import { createCairnWorker } from '../../../src/worker/worker.ts';

// This test kills a Temporal server, so it runs its own dev server (own port, own SQLite file) rather than
// the shared one other tests are using.
const servers = new Set<ChildProcess>();
after(() => {
  for (const server of servers) server.kill('SIGKILL');
});

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

async function startServer(binary: string, dbFile: string, port: number): Promise<ChildProcess> {
  const args = ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port), '--db-filename', dbFile, '--log-level', 'error'];
  for (const name of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${name}=Keyword`);
  const server = spawn(binary, args, { stdio: 'ignore' });
  servers.add(server);
  for (let i = 0; i < 300 && !(await tcpOpen('127.0.0.1', port)); i++) await new Promise((r) => setTimeout(r, 100));
  // An open port is not a served frontend yet ("Frontend is not healthy yet"): wait until it answers.
  for (let i = 0; i < 300; i++) {
    const healthy = await Connection.connect({ address: `127.0.0.1:${port}`, connectTimeout: '2s' }).then(
      async (connection) => {
        try {
          await connection.workflowService.getSystemInfo({});
          return true;
        } catch {
          return false;
        } finally {
          await connection.close();
        }
      },
      () => false,
    );
    if (healthy) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return server;
}

it('a run survives the crash and restart of the Temporal server', async () => {
  const binary = await ensureTemporalBinary();
  const dbFile = join(await mkdtemp(join(tmpdir(), 'cairn-temporal-')), 'temporal.db');
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  let server = await startServer(binary, dbFile, port);

  const taskQueue = 'server-crash';
  const worker = await createCairnWorker({
    temporal: { address, namespace: 'default', taskQueue },
    blueprintDirs: [join(import.meta.dirname, '../../fixtures/run-blueprints')],
    logFormat: 'json',
  });
  const running = worker.run();
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    const handle = await client.workflow.start('runAction', {
      taskQueue,
      workflowId: 'server-crash-run',
      args: [{ blueprint: { name: 'sleepy' }, action: 'backup', target: 'statefulset/shop/db', options: { first: '10ms', second: '8s', third: '10ms' } }],
    });
    for (let i = 0; i < 300; i++) {
      const progress = await handle.query<RunProgress>('progress').catch(() => undefined);
      if (progress?.current.includes('second')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    server.kill('SIGKILL');
    await new Promise((r) => server.once('exit', r));
    await new Promise((r) => setTimeout(r, 2000));
    server = await startServer(binary, dbFile, port);

    const result = (await handle.result()) as RunActionResult;
    assert.equal(result.outcome, 'succeeded');
    assert.deepEqual(Object.keys(result.phaseOutputs).sort(), ['first', 'second', 'third']);
    assert.equal((await handle.describe()).status.name, 'COMPLETED');
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
  }
});
