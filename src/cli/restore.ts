/** `cairn restore <application>`: starts restoreApplication from the location's restore point; --wait follows it. */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { ApplicationRestoreInput, ApplicationRestoreResult, ExistingPolicy, ResourceItem, TransformSpec } from '../application/types.ts';
import { isJsonObject } from '../json.ts';
import { isApplicationName } from '../location/layout.ts';
import { RESTORE_POINT_ID } from '../location/restore-point.ts';
import { startApplicationRun } from './application-run.ts';
import { defineCommand, UsageError } from './io.ts';
import { requesterOf } from './requester.ts';
import { settingsFromFlags, TEMPORAL_FLAGS } from './temporal-flags.ts';

const HELP = `Usage: cairn restore <application> [--restore-point ID] [--namespace NS] [--transforms FILE]
                     [--existing skip|update|fail] [--component NAME]... [--resource Kind/name]... [--wait]

Restores an Application from its restore point in the location (the latest unless named), needing nothing
else: the restore point holds the spec and the blueprints it was backed up with. The namespace's resources
come back first (namespace, ServiceAccounts, RBAC, ConfigMaps, Secrets, PVCs, Services, ...), then the
components in dependency order: each one's workload, ready, its data, ready again and its blueprint's
validate action — only then do its dependents start; independent components restore in parallel, at most
spec.concurrency at once. The remaining objects come last. The result gives the RTO (start → every component
ready) and each component's start and ready times.

Single items: --component restores only those components (their dependencies are assumed in place);
--resource only those objects (e.g. --resource ConfigMap/shop-config --resource PersistentVolumeClaim/data-postgres-0).

Options:
      --restore-point <id>   the restore point (default: the application's latest; cairn restore-points list)
      --namespace <ns>       restore into this namespace instead of the source's
      --transforms <file>    YAML or JSON transforms merged over the spec's (storageClasses, labels, patches, ...)
      --existing <policy>    an object that already exists: skip (default: the spec's, else skip), update or fail
      --component <name>     restore only this component; repeatable
      --resource <Kind/name> restore only this object; repeatable
      --concurrency <n>      components restored at once (default: the spec's, else 9)
      --profile <name>       the location profile (default: the embedded location)
      --id <workflowId>      choose the workflow ID (default: restore-<app>-<time>)
  -w, --wait                 follow the restore until it ends, one line per component change; exit 1 if it fails
  -o, --output <format>      text (default) or json ({workflowId, url} and, with --wait, the result)
Temporal (default: the local stack, or TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, CAIRN_TASK_QUEUE):
      --address <host:port>  Temporal frontend
      --temporal-namespace <name>  Temporal namespace (--namespace is the Kubernetes one here)
      --task-queue <name>    the Cairn workers' task queue (default cairn)
      --debug                stack traces of unexpected errors
  -h, --help                 show this help

Exit status: 0 started (with --wait: every component ready), 1 failed, 2 usage error.
`;

const EXISTING: readonly ExistingPolicy[] = ['skip', 'update', 'fail'];

export const restoreCommand = defineCommand(
  {
    name: 'restore',
    help: HELP,
    flags: {
      address: TEMPORAL_FLAGS.address,
      'task-queue': TEMPORAL_FLAGS['task-queue'],
      'temporal-namespace': { type: 'string' },
      'restore-point': { type: 'string' },
      namespace: { type: 'string' },
      transforms: { type: 'string' },
      existing: { type: 'string' },
      component: { type: 'string', multiple: true },
      resource: { type: 'string', multiple: true },
      concurrency: { type: 'string' },
      profile: { type: 'string' },
      id: { type: 'string' },
      wait: { type: 'boolean', short: 'w' },
    },
  },
  async ({ values, positionals, format }, io) => {
    if (positionals.length !== 1) throw new UsageError('name exactly one application');
    const application = positionals[0]!;
    if (!isApplicationName(application)) throw new UsageError(`"${application}" is not an application name`);
    const restorePoint = values['restore-point'];
    if (restorePoint !== undefined && !RESTORE_POINT_ID.test(restorePoint)) throw new UsageError(`--restore-point "${restorePoint}" is not a restore point id (cairn restore-points list shows them)`);
    if (values.namespace !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(values.namespace)) throw new UsageError(`--namespace "${values.namespace}" is not a namespace name`);
    const existing = values.existing as ExistingPolicy | undefined;
    if (existing !== undefined && !EXISTING.includes(existing)) throw new UsageError(`--existing must be skip, update or fail, not "${existing}"`);
    const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
    if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) throw new UsageError(`--concurrency must be a whole number ≥ 1, not "${values.concurrency}"`);
    const resources = (values.resource ?? []).map(resourceItem);
    const components = values.component ?? [];
    const transforms = values.transforms ? await readTransforms(values.transforms) : undefined;

    // --namespace is where the application lands; Temporal's namespace has its own flag here.
    const settings = settingsFromFlags({
      ...(values.address ? { address: values.address } : {}),
      ...(values['task-queue'] ? { 'task-queue': values['task-queue'] } : {}),
      ...(values['temporal-namespace'] ? { namespace: values['temporal-namespace'] } : {}),
    });
    const requester = await requesterOf('restore', io);
    const input: ApplicationRestoreInput = {
      application,
      ...(restorePoint ? { restorePoint } : {}),
      ...(values.profile ? { profile: values.profile } : {}),
      ...(values.namespace ? { targetNamespace: values.namespace } : {}),
      ...(transforms ? { transforms } : {}),
      ...(existing ? { existing } : {}),
      ...(components.length || resources.length ? { only: { ...(components.length ? { components } : {}), ...(resources.length ? { resources } : {}) } } : {}),
      ...(concurrency ? { concurrency } : {}),
      ...requester,
    };
    const workflowId = values.id ?? `restore-${application}-${Date.now().toString(36)}`;
    const s = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
    return startApplicationRun<ApplicationRestoreResult>(
      settings,
      {
        workflowType: 'restoreApplication',
        workflowId,
        input,
        wait: values.wait === true,
        format,
        describe: (id, r) =>
          `succeeded: ${id}\n  restore point: ${r.restorePoint} into namespace ${r.namespace}\n  RTO:           ${s(r.rtoMs)}\n` +
          `  resources:     ${r.resources.created} created, ${r.resources.updated} updated, ${r.resources.skipped} skipped\n` +
          r.components.map((c) => `  ${c.name.padEnd(14)} started ${s(c.startedAtMs).padStart(7)}  ready ${s(c.readyAtMs).padStart(7)}${c.validated ? '  validated' : ''}\n`).join(''),
      },
      io,
    );
  },
);

function resourceItem(text: string): ResourceItem {
  const match = /^([A-Za-z][A-Za-z0-9]*)(?:\.([a-z0-9.-]+))?\/([a-z0-9][-a-z0-9.]*)$/.exec(text);
  if (!match) throw new UsageError(`--resource "${text}": write Kind/name (ConfigMap/shop-config) or Kind.group/name (Ingress.networking.k8s.io/shop)`);
  const [, kind, group, name] = match;
  // Only the group matters when matching (src/application/resources/kinds.ts sameItem); empty matches any group.
  return { apiVersion: group ? `${group}/v1` : '', kind: kind!, name: name! };
}

async function readTransforms(file: string): Promise<TransformSpec> {
  let value: unknown;
  try {
    value = parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--transforms ${file}: ${(error as Error).message}`);
  }
  if (!isJsonObject(value)) throw new UsageError(`--transforms ${file}: expected a mapping of transforms (namespaces, storageClasses, labels, ...)`);
  // A whole Application or a `transforms:` wrapper are accepted too: take their transforms.
  const spec = isJsonObject(value.spec) && isJsonObject(value.spec.transforms) ? value.spec.transforms : isJsonObject(value.transforms) ? value.transforms : value;
  return spec as TransformSpec;
}
