import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ComponentStatus, StackComponent } from '../component.ts';
import { ensureGoTool, toolBinary, toolInstalled, type GoTool } from '../go-build.ts';
import type { StackPaths } from '../paths.ts';
import { logFile, portTakenError, runningPid, spawnDaemon, stopDaemon, tcpOpen, waitUntil } from '../process.ts';

const GATEWAY: GoTool = {
  tool: 'versitygw',
  version: 'v1.8.0',
  binaries: [{ binary: 'versitygw', estimate: '~1 min', install: 'github.com/versity/versitygw/cmd/versitygw@v1.8.0', ldflags: '-s -w' }],
};

const HOST = '127.0.0.1';
const PORT = 9000;
/** Development-only credentials: the gateway listens on loopback and holds test data only. */
const ACCESS_KEY = 'cairn-dev';
const SECRET_KEY = 'cairn-dev-secret-key';
const REGION = 'us-east-1';
/** With the posix backend a bucket is a top-level directory of the root. */
const BUCKETS = ['cairn', 'cairn-test'] as const;

function rootDir(paths: StackPaths): string {
  return join(paths.state, 's3');
}

export const s3: StackComponent = {
  name: 's3',
  version: `versitygw ${GATEWAY.version} (posix)`,
  after: [],

  async install(paths, log) {
    await ensureGoTool(paths, GATEWAY, log);
  },

  async start(paths, log) {
    for (const bucket of BUCKETS) mkdirSync(join(rootDir(paths), bucket), { recursive: true });
    if (runningPid(paths, 's3') === undefined) {
      if (await tcpOpen(HOST, PORT)) throw portTakenError('the S3 gateway', HOST, PORT);
      log(`starting S3 gateway (versitygw) on http://${HOST}:${PORT}, root ${rootDir(paths)}`);
      spawnDaemon(paths, {
        name: 's3',
        command: toolBinary(paths, GATEWAY, 'versitygw'),
        // --quiet: no per-request line on stdout, which would grow the log by one line per kopia blob.
        args: ['--port', `${HOST}:${PORT}`, '--region', REGION, '--quiet', 'posix', rootDir(paths)],
        env: { ...process.env, ROOT_ACCESS_KEY: ACCESS_KEY, ROOT_SECRET_KEY: SECRET_KEY },
      });
    }
    await waitUntil('the S3 gateway', () => tcpOpen(HOST, PORT), 30_000, `see ${logFile(paths, 's3')}`);
  },

  async stop(paths, log) {
    if (await stopDaemon(paths, 's3')) log('stopped S3 gateway');
  },

  async status(paths): Promise<ComponentStatus> {
    const base = { name: 's3', version: this.version, address: `http://${HOST}:${PORT} (buckets ${BUCKETS.join(', ')})` };
    if (!toolInstalled(paths, GATEWAY)) return { ...base, state: 'not-installed' };
    const pid = runningPid(paths, 's3');
    if (pid === undefined) return { ...base, state: 'stopped' };
    return (await tcpOpen(HOST, PORT))
      ? { ...base, state: 'running', detail: `pid ${pid}` }
      : { ...base, state: 'degraded', detail: `pid ${pid} is not listening` };
  },

  info(paths) {
    return {
      endpoint: `http://${HOST}:${PORT}`,
      region: REGION,
      bucket: BUCKETS[0],
      testBucket: BUCKETS[1],
      accessKey: ACCESS_KEY,
      secretKey: SECRET_KEY,
      rootDir: rootDir(paths),
    };
  },

  binaries(paths) {
    return { versitygw: toolBinary(paths, GATEWAY, 'versitygw') };
  },
};
