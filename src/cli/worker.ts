import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createCairnWorker, DEFAULT_BLUEPRINT_DIRS } from '../worker/worker.ts';
import { EXIT_OK, parseFlags, runCommand, UsageError, type CommandIO } from './io.ts';
import { settingsFromFlags, TEMPORAL_FLAGS, TEMPORAL_FLAGS_HELP } from './temporal-flags.ts';

const HELP = `Usage: cairn worker [options]

Runs the Cairn worker: the workflows and activities that execute blueprint plans. Stops gracefully on
SIGINT/SIGTERM: it stops taking work and hands running activities back to Temporal, which retries them from
their last heartbeat on another worker. Logs are JSON lines when stderr is not a terminal.

Options:
      --blueprints <dir>     a directory of blueprints runs may name (repeatable; default: blueprints/)
      --shutdown-grace <s>   seconds to wait for running activities on shutdown (default 10)
${TEMPORAL_FLAGS_HELP}      --debug                stack traces of unexpected errors
  -h, --help                 show this help

Kubernetes: KUBECONFIG, else the local stack's .cairn/kubeconfig, else in-cluster, else ~/.kube/config.
`;

export async function workerCommand(argv: string[], io: CommandIO): Promise<number> {
  return runCommand('worker', io, argv.includes('--debug'), async () => {
    const { values, positionals } = parseFlags(() =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          ...TEMPORAL_FLAGS,
          blueprints: { type: 'string', multiple: true },
          'shutdown-grace': { type: 'string' },
          help: { type: 'boolean', short: 'h' },
          debug: { type: 'boolean' },
        },
      }),
    );
    if (values.help) {
      io.stdout(HELP);
      return EXIT_OK;
    }
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const grace = values['shutdown-grace'] === undefined ? 10 : Number(values['shutdown-grace']);
    if (!Number.isFinite(grace) || grace < 0) throw new UsageError('--shutdown-grace must be a number of seconds');
    const temporal = settingsFromFlags(values);
    const worker = await createCairnWorker({
      temporal,
      blueprintDirs: values.blueprints?.map((dir) => resolve(dir)) ?? DEFAULT_BLUEPRINT_DIRS,
      shutdownGraceSeconds: grace,
    });
    const stop = () => {
      io.stderr(`cairn worker: shutting down (running activities are handed back to Temporal)\n`);
      worker.shutdown();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    io.stderr(`cairn worker: serving task queue "${temporal.taskQueue}" on ${temporal.address} (namespace ${temporal.namespace})\n`);
    await worker.run();
    io.stderr('cairn worker: stopped\n');
    return EXIT_OK;
  });
}
