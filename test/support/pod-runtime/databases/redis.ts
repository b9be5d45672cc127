import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expandReferences } from '../pod-env.ts';
import { hostPathFor } from '../pod-volumes.ts';
import { containerPort, type DatabaseEngine, firstDefined } from './engine.ts';

/**
 * `redis*` images, played by Debian's redis-server 7. The image works in `/data`; options given as args
 * (`--appendonly yes`) pass through, a config file path does not (there is no image filesystem to read it
 * from). `redis-cli` has no variables for host and port: exec gets `REDIS_HOST`/`REDIS_PORT` to pass as
 * `-h`/`-p`, and `REDISCLI_AUTH` when `REDIS_PASSWORD` is set.
 */
export const redis: DatabaseEngine = {
  name: 'redis',
  matches: (repository) => repository.startsWith('redis') && !/exporter|operator|sentinel|insight|commander/.test(repository),
  async prepare(context) {
    const { env, container } = context;
    const port = containerPort(container, 6379);
    const dataDir = hostPathFor('/data', context.mounts) ?? join(context.scratchDir, 'data');
    mkdirSync(dataDir, { recursive: true });
    const commandLine = [...(container.command ?? []), ...(container.args ?? [])];
    const firstOption = commandLine.findIndex((arg) => arg.startsWith('--'));
    const password = firstDefined(env, 'REDIS_PASSWORD');
    return {
      argv: [
        'redis-server',
        // As a kubelet does: `--requirepass $(REDIS_PASSWORD)` gets the variable's value.
        ...(firstOption < 0 ? [] : commandLine.slice(firstOption).map((arg) => expandReferences(arg, env))),
        '--bind',
        context.ip,
        '--port',
        String(port),
        '--dir',
        dataDir,
        '--daemonize',
        'no',
        '--protected-mode',
        'no',
        ...(password ? ['--requirepass', password] : []),
      ],
      env: { PATH: '/usr/bin:/bin' },
      port,
      dataDir,
      stopSignal: 'SIGTERM',
      stopTimeoutMs: 30_000,
      execEnv: { REDIS_HOST: context.ip, REDIS_PORT: String(port), ...(password ? { REDISCLI_AUTH: password } : {}) },
    };
  },
};
