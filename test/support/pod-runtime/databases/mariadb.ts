import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostPathFor } from '../pod-volumes.ts';
import { containerPort, type DatabaseEngine, firstDefined, flagValue, runSetup } from './engine.ts';

const DEFAULT_DATADIR = '/var/lib/mysql';

function sqlString(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

function sqlName(value: string): string {
  return `\`${value.replaceAll('`', '``')}\``;
}

/**
 * What the `mysql` and `mariadb` images do on an empty data directory, as SQL for `--init-file`:
 * root's password (`MYSQL_ROOT_PASSWORD`, or empty with `MYSQL_ALLOW_EMPTY_PASSWORD`), root from any host,
 * `MYSQL_DATABASE`, and `MYSQL_USER`/`MYSQL_PASSWORD` with all rights on that database. `MARIADB_*` names too.
 */
export function initialSql(env: Record<string, string>): string {
  const rootPassword = firstDefined(env, 'MARIADB_ROOT_PASSWORD', 'MYSQL_ROOT_PASSWORD') ?? '';
  const database = firstDefined(env, 'MARIADB_DATABASE', 'MYSQL_DATABASE');
  const user = firstDefined(env, 'MARIADB_USER', 'MYSQL_USER');
  const password = firstDefined(env, 'MARIADB_PASSWORD', 'MYSQL_PASSWORD') ?? '';
  const lines = [
    `ALTER USER 'root'@'localhost' IDENTIFIED BY ${sqlString(rootPassword)};`,
    `CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY ${sqlString(rootPassword)};`,
    `GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;`,
  ];
  if (database) lines.push(`CREATE DATABASE IF NOT EXISTS ${sqlName(database)};`);
  if (user && user !== 'root') {
    lines.push(`CREATE USER IF NOT EXISTS ${sqlString(user)}@'%' IDENTIFIED BY ${sqlString(password)};`);
    if (database) lines.push(`GRANT ALL ON ${sqlName(database)}.* TO ${sqlString(user)}@'%';`);
  }
  lines.push('FLUSH PRIVILEGES;');
  return `${lines.join('\n')}\n`;
}

/**
 * `mysql*` and `mariadb*` images, played by Debian's MariaDB 10.11 (`mariadbd --user=root` may run as root).
 * `--no-defaults` keeps Debian's /etc/mysql configuration (its socket, its data directory) out of it.
 */
export const mariadb: DatabaseEngine = {
  name: 'mariadb',
  matches: (repository) => (repository.startsWith('mysql') || repository.startsWith('mariadb')) && !/exporter|operator|router|backup/.test(repository),
  async prepare(context) {
    const { env, container } = context;
    const commandLine = [...(container.command ?? []), ...(container.args ?? [])];
    const port = containerPort(container, 3306);
    const dataDir = hostPathFor(flagValue(commandLine, '--datadir') ?? DEFAULT_DATADIR, context.mounts) ?? join(context.scratchDir, 'mysql');
    mkdirSync(dataDir, { recursive: true });
    const socket = join(context.runDir, 'mysqld.sock');
    const firstStart = !existsSync(join(dataDir, 'mysql'));
    const argv = [
      'mariadbd',
      '--no-defaults',
      `--datadir=${dataDir}`,
      '--user=root',
      `--bind-address=${context.ip}`,
      `--port=${port}`,
      `--socket=${socket}`,
      `--pid-file=${join(context.runDir, 'mysqld.pid')}`,
      ...passThroughOptions(commandLine),
    ];
    if (firstStart) {
      await runSetup(
        ['mariadb-install-db', '--no-defaults', `--datadir=${dataDir}`, '--user=root', '--skip-test-db', '--auth-root-authentication-method=normal'],
        context.log,
      );
      const initFile = join(context.runDir, 'init.sql');
      writeFileSync(initFile, initialSql(env), { mode: 0o600 });
      argv.push(`--init-file=${initFile}`);
    }
    const rootPassword = firstDefined(env, 'MARIADB_ROOT_PASSWORD', 'MYSQL_ROOT_PASSWORD');
    return {
      argv,
      env: { PATH: '/usr/sbin:/usr/bin:/bin', LANG: 'C.UTF-8' },
      port,
      dataDir,
      stopSignal: 'SIGTERM',
      stopTimeoutMs: 60_000,
      socketMountPath: '/run/mysqld',
      execEnv: {
        MYSQL_HOST: context.ip,
        MYSQL_TCP_PORT: String(port),
        ...(rootPassword ? { MYSQL_PWD: rootPassword } : {}),
      },
    };
  },
};

/** Server options from the pod's args (`--character-set-server=utf8mb4`), minus the ones this runtime owns. */
function passThroughOptions(commandLine: string[]): string[] {
  const owned = ['--datadir', '--user', '--bind-address', '--port', '--socket', '--pid-file', '--init-file'];
  return commandLine.filter((arg) => arg.startsWith('--') && !owned.some((name) => arg === name || arg.startsWith(`${name}=`)));
}
