import { cliAuditLog } from '../audit/audit-log.ts';
import { callerRequester } from '../authz/identity.ts';
import { loadKubeConfig } from '../kube/clients.ts';
import { defineCommand, EXIT_FAILED, EXIT_OK, UsageError } from './io.ts';
import { connectClient, settingsFromFlags, TEMPORAL_FLAGS, TEMPORAL_FLAGS_HELP } from './temporal-flags.ts';

const HELP = `Usage: cairn cancel <workflowId> [--wait] [--output json]

Asks a run to stop. Running phases are cancelled, then every defer phase that is due runs (unquiesce, scale
back up, delete temporary objects) before the run ends as cancelled: nothing is left quiesced. With
CAIRN_AUDIT_LOG set (a file, or stderr) the request is written to that audit log as a JSON line.

Options:
  -w, --wait             wait until the run has ended
  -o, --output <format>  text (default) or json
${TEMPORAL_FLAGS_HELP}      --debug                stack traces of unexpected errors
  -h, --help             show this help

Exit status: 0 cancellation requested (with --wait: run ended), 1 no such run, 2 usage error.
`;

export const cancelCommand = defineCommand(
  { name: 'cancel', help: HELP, flags: { ...TEMPORAL_FLAGS, wait: { type: 'boolean', short: 'w' } } },
  async ({ values, positionals, format }, io) => {
    if (positionals.length !== 1) throw new UsageError('name exactly one workflow ID');
    const settings = settingsFromFlags(values);
    const { client, close } = await connectClient(settings);
    try {
      const handle = client.workflow.getHandle(positionals[0]!);
      const audit = cliAuditLog();
      const who = process.env.CAIRN_AUDIT_LOG ? ((await callerRequester(() => loadKubeConfig())).requester ?? {}) : {};
      const audited = { who, action: 'run.cancel' as const, what: { workflowId: positionals[0]! }, where: { temporalNamespace: settings.namespace } };
      try {
        await handle.cancel();
      } catch (error) {
        audit.record({ ...audited, outcome: 'failed', reason: (error as Error).message });
        io.stderr(`cairn cancel: ${positionals[0]}: ${(error as Error).message}\n`);
        return EXIT_FAILED;
      }
      audit.record({ ...audited, outcome: 'requested' });
      let status = 'cancel requested';
      if (values.wait) {
        await handle.result().catch(() => undefined);
        status = (await handle.describe()).status.name;
      }
      io.stdout(format === 'json' ? `${JSON.stringify({ workflowId: positionals[0], status })}\n` : `${positionals[0]}: ${status}\n`);
      return EXIT_OK;
    } finally {
      await close();
    }
  },
);
