import { resolve } from 'node:path';
import { readBlueprintCatalog, SHIPPED_BLUEPRINTS_DIR } from '../application/blueprint-catalog.ts';
import { DATABASE_IMAGES, discoverApplication, DiscoveryError, isApplicationNameValid } from '../application/discover.ts';
import { applicationToYaml, validateApplicationText } from '../application/spec.ts';
import { CairnError, errorsOf } from '../diagnostics.ts';
import { kubeClients } from '../kube/clients.ts';
import { defineCommand, EXIT_FAILED, EXIT_OK, UsageError } from './io.ts';

const HELP = `Usage: cairn discover <namespace> [--output yaml|json] [--name <application>] [--blueprints <dir>]

Proposes an Application (docs/applications.md) from what the namespace runs, for you to review and save:
  - each StatefulSet and Deployment becomes a component (workloads owned by an operator are skipped);
  - databases are recognised by image and get a blueprint:
${DATABASE_IMAGES.map((entry) => `      ${entry.images.join(', ')} → ${entry.blueprint}`).join('\n')}
    (only when that blueprint is known and takes the workload's kind; otherwise the component is stateless);
  - a workload depends on a database when its env (or a ConfigMap it reads), command or arguments name the
    database's Service as a host (PGHOST=postgres, postgres.<namespace>.svc, …);
  - readiness: the workload ready, plus the blueprint's validate action for databases.
The proposal passes 'cairn validate'. Notes on what was guessed or skipped go to stderr.
Reads StatefulSets, Deployments, Services and ConfigMaps; never Secrets.

Options:
  -o, --output <format>  yaml (default; text is the same) or json
      --name <name>      the Application's name (default: the workloads' shared app.kubernetes.io/part-of
                         label, else the namespace)
      --blueprints <dir> where blueprints are looked up (repeatable; default: the shipped blueprints/)
      --debug            stack traces of unexpected errors
  -h, --help             show this help

Kubernetes: KUBECONFIG, else in-cluster, else the local stack's .cairn/kubeconfig, else ~/.kube/config.
Exit status: 0 proposed, 1 failed (no such namespace, no workloads, cluster unreachable), 2 usage error.
`;

export const discoverCommand = defineCommand(
  {
    name: 'discover',
    help: HELP,
    flags: { name: { type: 'string' }, blueprints: { type: 'string', multiple: true } },
    // `text` is what the shared flag parser defaults to: here it means YAML.
    outputs: ['text', 'yaml', 'json'],
  },
  async ({ values, positionals, format }, io) => {
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'name the namespace to discover' : `unexpected argument ${positionals[1]}`);
    const namespace = positionals[0]!;
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) || namespace.length > 63) throw new UsageError(`"${namespace}" is not a namespace name`);
    if (values.name !== undefined && !isApplicationNameValid(values.name)) throw new UsageError(`--name "${values.name}" is not an application name (a lower-case DNS name)`);

    const catalog = await readBlueprintCatalog(values.blueprints?.map((dir) => resolve(dir)) ?? [SHIPPED_BLUEPRINTS_DIR]);
    let discovery;
    try {
      discovery = await discoverApplication(kubeClients(), namespace, { blueprints: catalog, ...(values.name !== undefined ? { name: values.name } : {}) });
    } catch (error) {
      if (error instanceof DiscoveryError) {
        io.stderr(`cairn discover: ${error.message}\n`);
        return EXIT_FAILED;
      }
      throw error;
    }
    const yaml = applicationToYaml(discovery.spec);
    // The promise of this command: what it prints validates. A proposal that does not is a bug, said as such.
    const check = validateApplicationText(yaml, `discover:${namespace}`, { blueprints: catalog });
    if (errorsOf(check.diagnostics).length) throw new CairnError(errorsOf(check.diagnostics));
    for (const note of discovery.notes) io.stderr(`cairn discover: ${note}\n`);
    if (format === 'json') io.stdout(`${JSON.stringify(discovery.spec, null, 2)}\n`);
    else io.stdout(`# Proposed by 'cairn discover ${namespace}': review it, then 'cairn validate' it and save it.\n${yaml}`);
    return EXIT_OK;
  },
);
