/**
 * The first activity of every application workflow: finds the Application (a parsed spec, inline YAML, the
 * worker's application directories, or a ConfigMap labelled `cairn.io/application: "true"` holding
 * `application.yaml`), validates it, and returns the spec, which is then pinned in the workflow's history.
 * Lookup by name mirrors how blueprints are found (activities/compile-action.ts): ConfigMaps of every namespace;
 * a source's `namespace` keeps only Applications whose spec.namespace is that one.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { applicationToYaml, isApplicationDocument, validateApplicationSource } from '../../src/application/spec.ts';
import { APPLICATION_LABEL, type ApplicationSource, type ApplicationSpec, type LoadApplicationInput } from '../../src/application/types.ts';
import { errorsOf, formatDiagnostic } from '../../src/diagnostics.ts';
import { isJsonObject } from '../../src/json.ts';
import type { KubeClients } from '../../src/kube/clients.ts';
import { parseSourceText, yamlFilesIn } from '../../src/yaml-source.ts';

/** The ConfigMap key an Application spec is stored under. */
export const APPLICATION_KEY = 'application.yaml';

export interface LoadApplicationDeps {
  /** The worker's application directories (`cairn worker --applications <dir>`), searched before ConfigMaps. */
  applicationDirs?: string[];
  /** Absent when the worker has no cluster: ConfigMap lookup is then skipped. */
  kube?: () => KubeClients;
}

interface FoundApplication {
  text: string;
  file: string;
}

export function createLoadApplication(deps: LoadApplicationDeps) {
  return async function loadApplication(input: LoadApplicationInput): Promise<ApplicationSpec> {
    const found = await findApplication(input.source, deps);
    // A file may hold other documents too (the blueprints the application uses): only its Applications count.
    const source = parseSourceText(found.text, found.file);
    const applications = source.documents.filter((d) => isApplicationDocument(d.value));
    const result = validateApplicationSource(applications.length ? { ...source, documents: applications } : source);
    const errors = errorsOf(result.diagnostics);
    if (errors.length) throw ApplicationFailure.nonRetryable(errors.map(formatDiagnostic).join('\n'), 'InvalidApplication');
    const wanted = 'name' in input.source ? input.source.name : undefined;
    const matching = result.applications.filter((a) => wanted === undefined || a.spec.metadata.name === wanted);
    if (matching.length !== 1) {
      throw ApplicationFailure.nonRetryable(`${found.file}: expected one Application${wanted ? ` named "${wanted}"` : ''}, found ${matching.length}`, 'InvalidApplication');
    }
    return matching[0]!.spec;
  };
}

async function findApplication(source: ApplicationSource, deps: LoadApplicationDeps): Promise<FoundApplication> {
  if ('spec' in source) return { text: applicationToYaml(source.spec), file: `spec:${source.spec?.metadata?.name ?? 'application'}` };
  if ('inline' in source) return { text: source.inline, file: source.file ?? 'inline.yaml' };
  const { name, namespace } = source;
  const fromDirs = await findInDirectories(name, namespace, deps.applicationDirs ?? []);
  if (fromDirs) return fromDirs;
  const searched = `${namespace ? ` for namespace ${namespace}` : ''} ${deps.applicationDirs?.length ? `in ${deps.applicationDirs.join(', ')}` : 'in no application directory'}`;
  if (!deps.kube) throw ApplicationFailure.nonRetryable(`no Application named "${name}"${searched} (this worker has no cluster to search for ConfigMaps)`, 'InvalidApplication');
  const { core } = deps.kube();
  const labelSelector = `${APPLICATION_LABEL}=true`;
  const list = await core.listConfigMapForAllNamespaces({ labelSelector });
  const found: FoundApplication[] = [];
  for (const configMap of list.items) {
    const text = configMap.data?.[APPLICATION_KEY];
    if (text !== undefined && declaresApplication(text, name, namespace)) {
      found.push({ text, file: `configmap/${configMap.metadata?.namespace}/${configMap.metadata?.name}/${APPLICATION_KEY}` });
    }
  }
  if (found.length > 1) {
    const hint = namespace ? 'keep one' : "name the application's namespace";
    throw ApplicationFailure.nonRetryable(`Application "${name}" is declared by ${found.length} ConfigMaps (${found.map((f) => f.file).join(', ')}): ${hint}`, 'InvalidApplication');
  }
  if (found.length === 1) return found[0]!;
  throw ApplicationFailure.nonRetryable(
    `no Application named "${name}"${searched} or in ConfigMaps labelled ${labelSelector} (key ${APPLICATION_KEY})`,
    'InvalidApplication',
  );
}

/** `<name>.yaml` first, then any file declaring it; with a namespace, only an Application of that namespace. */
async function findInDirectories(name: string, namespace: string | undefined, dirs: string[]): Promise<FoundApplication | undefined> {
  for (const dir of dirs) {
    const entries = await yamlFilesIn(dir);
    entries.sort((a, b) => Number(b.startsWith(`${name}.`)) - Number(a.startsWith(`${name}.`)));
    for (const entry of entries) {
      const file = join(dir, entry);
      const text = await readFile(file, 'utf8');
      if (declaresApplication(text, name, namespace)) return { text, file };
    }
  }
  return undefined;
}

function declaresApplication(text: string, name: string, namespace?: string): boolean {
  return parseSourceText(text, 'lookup').documents.some((document) => {
    const value = document.value;
    if (!isApplicationDocument(value) || !isJsonObject(value) || !isJsonObject(value.metadata) || value.metadata.name !== name) return false;
    return namespace === undefined || (isJsonObject(value.spec) && value.spec.namespace === namespace);
  });
}
