import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureFerretDB } from '../../../../scripts/stack/ferretdb.ts';
import { stackPaths } from '../../../../scripts/stack/paths.ts';
import { hostPathFor } from '../pod-volumes.ts';
import { containerPort, type DatabaseEngine, firstDefined, flagValue } from './engine.ts';

const ROOT = join(import.meta.dirname, '../../../..');
/** The npm devDependency `mongosh`, run by the runtime's own Node (24). */
const MONGOSH_SCRIPT = join(ROOT, 'node_modules/mongosh/bin/mongosh.js');
const DEFAULT_DBPATH = '/data/db';

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/**
 * `mongosh` for exec'd commands, in a directory put first on the exec PATH. The mongo images ship mongosh;
 * here the project's npm copy stands in. Its global config turns off telemetry and session logs (mongosh does
 * the former by itself in a real container, which it recognises by its cgroup) and update checks: the
 * machine has no network beyond loopback.
 */
function writeMongoshClient(binDir: string): void {
  mkdirSync(binDir, { recursive: true });
  const config = join(binDir, 'mongosh.conf');
  writeFileSync(config, 'mongosh:\n  forceDisableTelemetry: true\n  disableLogging: true\n  updateURL: ""\n');
  const wrapper = join(binDir, 'mongosh');
  writeFileSync(
    wrapper,
    [
      '#!/bin/sh',
      '# Written by the pod runtime (test/support/pod-runtime/databases/mongodb.ts): the npm mongosh on Node 24.',
      `MONGOSH_GLOBAL_CONFIG_FILE_FOR_TESTING=${shellQuote(config)} exec ${shellQuote(process.execPath)} ${shellQuote(MONGOSH_SCRIPT)} "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(wrapper, 0o755);
}

/**
 * `mongo*` images (also `bitnami/mongodb`, `mongodb-community-server`), played by FerretDB v1 on SQLite: the
 * MongoDB wire protocol with the data as one SQLite file per database in the pod's data volume (`--dbpath`,
 * default `/data/db`). The image's root user (`MONGO_INITDB_ROOT_USERNAME`/`_PASSWORD`, or bitnami's
 * `MONGODB_ROOT_USER`/`_PASSWORD`) becomes FerretDB's SCRAM user in `admin` on first start; without one the
 * server, like the image, requires no authentication. FerretDB is built on first use (scripts/stack/ferretdb.ts).
 */
export const mongodb: DatabaseEngine = {
  name: 'mongodb',
  matches: (repository) => repository.startsWith('mongo') && !/express|exporter|operator|backup|^mongosh/.test(repository),
  async prepare(context) {
    const { env, container } = context;
    const commandLine = [...(container.command ?? []), ...(container.args ?? [])];
    const port = containerPort(container, 27017);
    const dataDir = hostPathFor(flagValue(commandLine, '--dbpath') ?? DEFAULT_DBPATH, context.mounts) ?? join(context.scratchDir, 'db');
    mkdirSync(dataDir, { recursive: true });
    const user = firstDefined(env, 'MONGO_INITDB_ROOT_USERNAME', 'MONGODB_ROOT_USER');
    const password = firstDefined(env, 'MONGO_INITDB_ROOT_PASSWORD', 'MONGODB_ROOT_PASSWORD');
    if (!existsSync(MONGOSH_SCRIPT)) context.log.note('cairn pod runtime: node_modules/mongosh is missing (npm install): exec has no mongosh');

    const paths = { ...stackPaths(), cache: context.cacheDir };
    const binary = await ensureFerretDB(paths, (line) => context.log.note(`cairn pod runtime: ${line}`));
    const clientDir = join(context.runDir, 'bin');
    writeMongoshClient(clientDir);

    const host = context.ip;
    const auth = user && password ? `${encodeURIComponent(user)}:${encodeURIComponent(password)}@` : '';
    return {
      argv: [
        binary,
        '--handler=sqlite',
        `--sqlite-url=file:${dataDir}/`,
        `--state-dir=${dataDir}`,
        `--listen-addr=${host}:${port}`,
        // Its default, 127.0.0.1:8088, would clash between pods.
        '--debug-addr=-',
        '--telemetry=disable',
        ...(user && password ? ['--test-enable-new-auth', '--setup-database=admin', `--setup-username=${user}`] : []),
      ],
      // The password through FerretDB's own variable, so it is not in the process list. GOGC=400: FerretDB
      // spends much of a collection scan collecting garbage; measured here, a 100,000-document scan took ~20%
      // less CPU (memory is plentiful, CPU is two shared cores).
      env: { PATH: '/usr/bin:/bin', GOGC: '400', ...(user && password ? { FERRETDB_SETUP_PASSWORD: password } : {}) },
      port,
      dataDir,
      stopSignal: 'SIGTERM',
      stopTimeoutMs: 30_000,
      execEnv: {
        PATH: `${clientDir}:${env.PATH ?? '/usr/bin:/bin'}`,
        MONGODB_HOST: host,
        MONGODB_PORT: String(port),
        MONGODB_URI: `mongodb://${auth}${host}:${port}/${auth ? '?authSource=admin' : ''}`,
      },
    };
  },
};
