import { resolve } from 'node:path';
import { CairnMetrics } from '../metrics/cairn-metrics.ts';
import { freeLoopbackPort, startMetricsServer, type MetricsServer } from '../metrics/server.ts';
import { createCairnWorker, DEFAULT_BLUEPRINT_DIRS, sdkMetricsExported } from '../worker/worker.ts';
import { defineCommand, EXIT_OK, UsageError } from './io.ts';
import { settingsFromFlags, TEMPORAL_FLAGS, TEMPORAL_FLAGS_HELP } from './temporal-flags.ts';

const HELP = `Usage: cairn worker [options]

Runs the Cairn worker: the workflows and activities that execute blueprint plans. Stops gracefully on
SIGINT/SIGTERM: it stops taking work and hands running activities back to Temporal, which retries them from
their last heartbeat on another worker. Logs are JSON lines when stderr is not a terminal.

Options:
      --blueprints <dir>     a directory of blueprints runs may name (repeatable; default: blueprints/)
      --applications <dir>   a directory of Applications workflows may name, searched before ConfigMaps
                             labelled cairn.io/application=true (repeatable; default: none)
      --shutdown-grace <s>   seconds to wait for running activities on shutdown (default 10)
      --authorize            check each run's requester (requestedBy) with a SubjectAccessReview before its
                             first phase; runs without one are rejected (default off; on in the Helm chart)
      --audit-log <dest>     audit lines (JSON) for the runs this worker executes: - (stdout), stderr, or a file
      --metrics-port <port>  serve Prometheus metrics (Cairn's and the Temporal SDK's) on /metrics (default off)
      --metrics-address <ip> the metrics endpoint's address (default CAIRN_METRICS_ADDRESS, else 0.0.0.0)
${TEMPORAL_FLAGS_HELP}      --debug                stack traces of unexpected errors
  -h, --help                 show this help

Kubernetes: KUBECONFIG, else in-cluster (a pod's ServiceAccount), else the local stack's .cairn/kubeconfig,
else ~/.kube/config. Temporal TLS: TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY, TEMPORAL_TLS_CA (file paths),
TEMPORAL_TLS_SERVER_NAME, TEMPORAL_TLS=true, TEMPORAL_API_KEY_FILE (Temporal Cloud).
`;

export const workerCommand = defineCommand(
  {
    name: 'worker',
    help: HELP,
    flags: {
      ...TEMPORAL_FLAGS,
      blueprints: { type: 'string', multiple: true },
      applications: { type: 'string', multiple: true },
      'shutdown-grace': { type: 'string' },
      authorize: { type: 'boolean' },
      'audit-log': { type: 'string' },
      'metrics-port': { type: 'string' },
      'metrics-address': { type: 'string' },
    },
  },
  async ({ values, positionals }, io) => {
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const grace = values['shutdown-grace'] === undefined ? 10 : Number(values['shutdown-grace']);
    if (!Number.isFinite(grace) || grace < 0) throw new UsageError('--shutdown-grace must be a number of seconds');
    const metricsPort = values['metrics-port'] === undefined ? undefined : Number(values['metrics-port']);
    if (metricsPort !== undefined && !(Number.isInteger(metricsPort) && metricsPort >= 0 && metricsPort < 65536)) throw new UsageError('--metrics-port must be a port number');
    const temporal = settingsFromFlags(values);
    const metrics = metricsPort === undefined ? undefined : new CairnMetrics();
    const sdkMetricsAddress = metrics ? `127.0.0.1:${await freeLoopbackPort()}` : undefined;
    const worker = await createCairnWorker({
      temporal,
      blueprintDirs: values.blueprints?.map((dir) => resolve(dir)) ?? DEFAULT_BLUEPRINT_DIRS,
      ...(values.applications ? { applicationDirs: values.applications.map((dir) => resolve(dir)) } : {}),
      shutdownGraceSeconds: grace,
      ...(values.authorize ? { authorization: { enforce: true } } : {}),
      ...(values['audit-log'] ? { auditLog: values['audit-log'] } : {}),
      ...(metrics ? { metrics } : {}),
      ...(sdkMetricsAddress ? { sdkMetricsAddress } : {}),
    });
    let server: MetricsServer | undefined;
    const metricsAddress = values['metrics-address'] ?? process.env.CAIRN_METRICS_ADDRESS ?? '0.0.0.0';
    if (metrics && metricsPort !== undefined) {
      server = await startMetricsServer({
        registry: metrics.registry,
        port: metricsPort,
        host: metricsAddress,
        ...(sdkMetricsExported ? { sdkMetricsUrl: `http://${sdkMetricsAddress}/metrics` } : {}),
      });
      io.stderr(`cairn worker: metrics on http://${metricsAddress}:${server.port}/metrics\n`);
    }
    if (values.authorize) io.stderr('cairn worker: authorization enforced: every run needs a requester allowed by a SubjectAccessReview\n');
    const stop = () => {
      io.stderr(`cairn worker: shutting down (running activities are handed back to Temporal)\n`);
      worker.shutdown();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    io.stderr(`cairn worker: serving task queue "${temporal.taskQueue}" on ${temporal.address} (namespace ${temporal.namespace})\n`);
    try {
      await worker.run();
    } finally {
      await server?.close();
    }
    io.stderr('cairn worker: stopped\n');
    return EXIT_OK;
  },
);
