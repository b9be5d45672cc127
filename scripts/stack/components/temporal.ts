import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ComponentStatus, StackComponent } from '../component.ts';
import { ensureGoTool, toolBinary, toolInstalled, type GoTool } from '../go-build.ts';
import type { StackPaths } from '../paths.ts';
import { logFile, portTakenError, runningPid, spawnDaemon, stopDaemon, tcpOpen, waitUntil } from '../process.ts';

const run = promisify(execFile);

/** Temporal CLI v1.5.1 embeds Temporal Server 1.29.1 and Web UI 2.42.1. */
const CLI: GoTool = {
  tool: 'temporal',
  version: 'v1.5.1',
  binaries: [
    {
      binary: 'temporal',
      estimate: '~3 min',
      install: 'github.com/temporalio/cli/cmd/temporal@v1.5.1',
      // Without it `temporal --version` says 0.0.0-DEV.
      ldflags: '-s -w -X github.com/temporalio/cli/temporalcli.Version=1.5.1',
    },
  ],
};

const HOST = '127.0.0.1';
const PORT = 7233;
const UI_PORT = 8233;
const NAMESPACE = 'default';
const ADDRESS = `${HOST}:${PORT}`;

/** The custom search attributes Cairn's workflows set, so that runs can be listed per blueprint, target, … */
export const CAIRN_SEARCH_ATTRIBUTES = [
  'CairnBlueprint',
  'CairnAction',
  'CairnTarget',
  'CairnNamespace',
  'CairnApplication',
  'CairnRestorePoint',
  'CairnOutcome',
] as const;

function temporalBinary(paths: StackPaths): string {
  return toolBinary(paths, CLI, 'temporal');
}

function dbFile(paths: StackPaths): string {
  return join(paths.state, 'temporal', 'temporal.db');
}

async function cli(paths: StackPaths, args: string[], namespace = NAMESPACE): Promise<string> {
  const { stdout } = await run(temporalBinary(paths), [...args, '--address', ADDRESS, '--namespace', namespace], { timeout: 30_000 });
  return stdout;
}

async function healthy(paths: StackPaths): Promise<boolean> {
  if (!(await tcpOpen(HOST, PORT))) return false;
  const out = await cli(paths, ['operator', 'cluster', 'health']);
  return out.includes('SERVING');
}

/**
 * Registers the attributes that are missing in `namespace` (search attributes are per namespace: a new one, like
 * a recovery site's, needs them too); the server keeps them in its SQLite file across restarts.
 */
export async function registerSearchAttributes(paths: StackPaths, log: (message: string) => void, namespace = NAMESPACE): Promise<void> {
  const listed = JSON.parse(await cli(paths, ['operator', 'search-attribute', 'list', '--output', 'json'], namespace)) as {
    customAttributes?: Record<string, string>;
  };
  const existing = new Set(Object.keys(listed.customAttributes ?? {}));
  const missing = CAIRN_SEARCH_ATTRIBUTES.filter((name) => !existing.has(name));
  if (missing.length === 0) return;
  log(`registering Temporal search attributes: ${missing.join(', ')}`);
  await cli(paths, ['operator', 'search-attribute', 'create', ...missing.flatMap((name) => ['--name', name, '--type', 'Keyword'])], namespace);
}

export const temporal: StackComponent = {
  name: 'temporal',
  version: `${CLI.version} (server 1.29.1, UI 2.42.1)`,
  after: [],

  async install(paths, log) {
    await ensureGoTool(paths, CLI, log);
  },

  async start(paths, log) {
    if (runningPid(paths, 'temporal') === undefined) {
      if (await tcpOpen(HOST, PORT)) throw portTakenError('the Temporal dev server', HOST, PORT);
      mkdirSync(join(paths.state, 'temporal'), { recursive: true });
      log(`starting Temporal dev server on ${ADDRESS} (UI http://${HOST}:${UI_PORT})`);
      spawnDaemon(paths, {
        name: 'temporal',
        command: temporalBinary(paths),
        args: [
          'server', 'start-dev',
          '--db-filename', dbFile(paths),
          '--ip', HOST,
          '--port', String(PORT),
          '--ui-port', String(UI_PORT),
          '--namespace', NAMESPACE,
          '--log-level', 'warn',
        ],
      });
    }
    await waitUntil('the Temporal dev server', () => healthy(paths), 60_000, `see ${logFile(paths, 'temporal')}`);
    await waitUntil('the Temporal Web UI', () => tcpOpen(HOST, UI_PORT), 30_000, `see ${logFile(paths, 'temporal')}`);
    await registerSearchAttributes(paths, log);
  },

  async stop(paths, log) {
    if (await stopDaemon(paths, 'temporal')) log('stopped Temporal dev server');
  },

  async status(paths): Promise<ComponentStatus> {
    const base = { name: 'temporal', version: this.version, address: `${ADDRESS} (UI http://${HOST}:${UI_PORT})` };
    if (!toolInstalled(paths, CLI)) return { ...base, state: 'not-installed' };
    const pid = runningPid(paths, 'temporal');
    if (pid === undefined) return { ...base, state: 'stopped' };
    if (!(await healthy(paths).catch(() => false))) return { ...base, state: 'degraded', detail: `pid ${pid} is not serving` };
    if (!(await tcpOpen(HOST, UI_PORT))) return { ...base, state: 'degraded', detail: `pid ${pid}: the Web UI does not answer` };
    return { ...base, state: 'running', detail: `pid ${pid}` };
  },

  info(paths) {
    return { address: ADDRESS, namespace: NAMESPACE, uiUrl: `http://${HOST}:${UI_PORT}`, dbFile: dbFile(paths) };
  },

  binaries(paths) {
    return { temporal: temporalBinary(paths) };
  },
};
