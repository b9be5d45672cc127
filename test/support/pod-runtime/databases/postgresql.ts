import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hostPathFor } from '../pod-volumes.ts';
import { containerPort, type DatabaseEngine, firstDefined, runSetup, systemUser } from './engine.ts';

/** Debian's newest installed PostgreSQL: `/usr/lib/postgresql/<major>/bin`. */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((name) => /^\d+$/.test(name)) : [];
  if (majors.length === 0) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
  return join(root, majors.sort((a, b) => Number(b) - Number(a))[0]!, 'bin');
}

/** The official image's data path; `PGDATA` moves it (often to a subdirectory of the mounted volume). */
const DEFAULT_PGDATA = '/var/lib/postgresql/data';

/**
 * The `postgres` image's contract: `POSTGRES_USER` (default postgres), `POSTGRES_PASSWORD`, `POSTGRES_DB`
 * (default the user), `POSTGRES_HOST_AUTH_METHOD`, `POSTGRES_INITDB_ARGS`, `PGDATA`; args starting with `-`
 * go to the server. PostgreSQL refuses to run as root, so the data directory is chowned to Debian's
 * `postgres` user and the server runs as that user.
 */
export const postgresql: DatabaseEngine = {
  name: 'postgresql',
  matches: (repository) => repository.startsWith('postgres') && !/exporter|operator|backup/.test(repository),
  async prepare(context) {
    const bin = binDir();
    const { env, container } = context;
    const user = firstDefined(env, 'POSTGRES_USER') ?? 'postgres';
    const password = firstDefined(env, 'POSTGRES_PASSWORD');
    const database = firstDefined(env, 'POSTGRES_DB') ?? user;
    const authMethod = firstDefined(env, 'POSTGRES_HOST_AUTH_METHOD') ?? (password ? 'scram-sha-256' : 'trust');
    const port = containerPort(container, 5432);
    const owner = systemUser('postgres');

    const dataDir = hostPathFor(env.PGDATA ?? DEFAULT_PGDATA, context.mounts) ?? join(context.scratchDir, 'pgdata');
    mkdirSync(dataDir, { recursive: true });
    // A volume restored from a snapshot comes back owned by whoever copied it; the server insists on 0700.
    chownTree(dataDir, owner.uid, owner.gid);
    chmodSync(dataDir, 0o700);
    allowTraversal(dataDir);
    chownSync(context.runDir, owner.uid, owner.gid);
    allowTraversal(context.runDir);

    removeForeignLockFile(dataDir);
    const firstStart = !existsSync(join(dataDir, 'PG_VERSION'));
    if (firstStart) {
      const pwfile = join(context.runDir, 'initdb.pw');
      const initdb = [join(bin, 'initdb'), '-D', dataDir, '-U', user, '--auth-local=trust', `--auth-host=${authMethod}`];
      if (password) {
        writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
        chownSync(pwfile, owner.uid, owner.gid);
        initdb.push(`--pwfile=${pwfile}`);
      }
      initdb.push(...(env.POSTGRES_INITDB_ARGS ?? '').split(/\s+/).filter(Boolean));
      await runSetup(initdb, context.log, owner);
      // Like the image: clients from other addresses (other pods' loopback addresses) may log in too.
      appendFileSync(join(dataDir, 'pg_hba.conf'), `host all all all ${authMethod}\n`);
    }

    const serverArgs = serverOptions([...(container.command ?? []), ...(container.args ?? [])]);
    return {
      argv: [
        join(bin, 'postgres'),
        '-D',
        dataDir,
        '-p',
        String(port),
        '-k',
        context.runDir,
        '-c',
        `listen_addresses=${context.ip}`,
        ...serverArgs,
      ],
      env: { PATH: `${bin}:/usr/bin:/bin`, LANG: 'C.UTF-8' },
      ...owner,
      port,
      dataDir,
      stopSignal: 'SIGINT',
      stopTimeoutMs: 30_000,
      socketMountPath: '/var/run/postgresql',
      execEnv: {
        PGHOST: context.ip,
        PGPORT: String(port),
        PGUSER: user,
        PGDATABASE: database,
        ...(password ? { PGPASSWORD: password } : {}),
      },
      async afterReady() {
        if (!firstStart || database === 'postgres') return;
        await runSetup(
          [join(bin, 'psql'), '-v', 'ON_ERROR_STOP=1', '-h', context.runDir, '-p', String(port), '-U', user, '-d', 'postgres'],
          context.log,
          { input: `CREATE DATABASE "${database.replaceAll('"', '""')}";\n` },
        );
      },
    };
  },
};

/** `["docker-entrypoint.sh", "postgres", "-c", "fsync=off"]` → `["-c", "fsync=off"]`: what follows the program. */
export function serverOptions(commandLine: string[]): string[] {
  const first = commandLine.findIndex((arg) => arg.startsWith('-'));
  return first < 0 ? [] : commandLine.slice(first);
}

/**
 * A data directory copied from a live server (a snapshot, a clone) carries that server's `postmaster.pid`.
 * In a cluster the PID in it means nothing to the new container (another PID namespace); here it may be
 * the original server, still running on its own volume, and postgres would refuse to start. The runtime runs
 * one server per data directory, so a lock file whose PID is not a server on *this* directory is stale.
 */
function removeForeignLockFile(dataDir: string): void {
  const lockFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(lockFile)) return;
  const pid = readFileSync(lockFile, 'utf8').split('\n')[0]?.trim();
  let owner = '';
  try {
    owner = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    // no such process
  }
  if (!owner.split('\0').includes(dataDir)) rmSync(lockFile);
}

/** The server runs as `postgres`: every directory above its data must let that user pass. */
function allowTraversal(path: string): void {
  for (let current = dirname(path); current !== '/'; current = dirname(current)) {
    const mode = statSync(current).mode;
    if ((mode & 0o001) === 0) chmodSync(current, (mode & 0o7777) | 0o001);
  }
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) chownTree(child, uid, gid);
    else chownSync(child, uid, gid);
  }
}
