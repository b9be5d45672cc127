/**
 * `cairn discover`: proposes an Application from what a namespace runs. Databases are recognised by their
 * container image and get the matching blueprint; every other StatefulSet and Deployment becomes a stateless
 * component; a workload whose environment, command or arguments name a database's Service as a host depends on
 * that database. A proposal for a person to review, never applied by itself.
 */
import type * as k8s from '@kubernetes/client-node';
import { isNotFound, type KubeClients } from '../kube/clients.ts';
import type { JsonObject } from '../json.ts';
import type { BlueprintCatalog } from './blueprint-catalog.ts';
import { APPLICATION_API_VERSION, type ApplicationSpec, type ComponentSpec } from './types.ts';

/** Image repository names (the last path segment, without tag) → the shipped blueprint that backs them up. */
export const DATABASE_IMAGES: ReadonlyArray<{ images: readonly string[]; blueprint: string }> = [
  { images: ['postgres', 'postgresql', 'postgis', 'timescaledb'], blueprint: 'postgresql' },
  { images: ['mysql', 'mysql-server', 'mariadb', 'percona-server'], blueprint: 'mysql' },
  { images: ['redis', 'redis-stack-server', 'valkey'], blueprint: 'redis' },
  { images: ['etcd'], blueprint: 'etcd' },
  { images: ['mongo', 'mongodb', 'mongodb-community-server', 'ferretdb'], blueprint: 'mongodb' },
];

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PART_OF = 'app.kubernetes.io/part-of';

export interface NamespaceWorkloads {
  namespace: string;
  statefulSets: k8s.V1StatefulSet[];
  deployments: k8s.V1Deployment[];
  services: k8s.V1Service[];
  /** Read so that a host named in a ConfigMap an env var comes from counts too. */
  configMaps: k8s.V1ConfigMap[];
}

export interface DiscoverOptions {
  /** The Application's name; default: the workloads' shared `app.kubernetes.io/part-of`, else the namespace. */
  name?: string;
  /** Known blueprints: whether a recognised database's blueprint exists, takes the workload, has `validate`. */
  blueprints?: BlueprintCatalog;
}

export interface Discovery {
  spec: ApplicationSpec;
  /** What a reviewer should know: skipped workloads, databases left without a blueprint, guesses made. */
  notes: string[];
}

export class DiscoveryError extends Error {
  override name = 'DiscoveryError';
}

/** Reads the namespace's workloads, Services and ConfigMaps (never Secrets) and proposes an Application. */
export async function discoverApplication(clients: KubeClients, namespace: string, options: DiscoverOptions = {}): Promise<Discovery> {
  try {
    await clients.core.readNamespace({ name: namespace });
  } catch (error) {
    if (isNotFound(error)) throw new DiscoveryError(`namespace "${namespace}" does not exist`);
    throw error;
  }
  const [statefulSets, deployments, services, configMaps] = await Promise.all([
    clients.apps.listNamespacedStatefulSet({ namespace }),
    clients.apps.listNamespacedDeployment({ namespace }),
    clients.core.listNamespacedService({ namespace }),
    clients.core.listNamespacedConfigMap({ namespace }),
  ]);
  return proposeApplication({ namespace, statefulSets: statefulSets.items, deployments: deployments.items, services: services.items, configMaps: configMaps.items }, options);
}

interface Candidate {
  kind: 'StatefulSet' | 'Deployment';
  name: string;
  podLabels: Record<string, string>;
  pod: k8s.V1PodSpec | undefined;
  labels: Record<string, string>;
  database?: { blueprint: string; image: string };
  component: ComponentSpec;
}

export function proposeApplication(input: NamespaceWorkloads, options: DiscoverOptions = {}): Discovery {
  const notes: string[] = [];
  const candidates: Candidate[] = [];
  const workloads: Array<{ kind: Candidate['kind']; object: k8s.V1StatefulSet | k8s.V1Deployment }> = [
    ...input.statefulSets.map((object) => ({ kind: 'StatefulSet' as const, object })),
    ...input.deployments.map((object) => ({ kind: 'Deployment' as const, object })),
  ];
  for (const { kind, object } of workloads) {
    const name = object.metadata?.name ?? '';
    const owner = object.metadata?.ownerReferences?.[0];
    if (owner) {
      notes.push(`skipped ${kind} ${name}: managed by ${owner.kind} ${owner.name} (back up its owner's resources instead)`);
      continue;
    }
    candidates.push({
      kind,
      name,
      podLabels: object.spec?.template?.metadata?.labels ?? {},
      pod: object.spec?.template?.spec,
      labels: object.metadata?.labels ?? {},
      component: { name: '', workload: { kind, name } },
      ...recogniseDatabase(object.spec?.template?.spec),
    });
  }
  if (candidates.length === 0) throw new DiscoveryError(`namespace "${input.namespace}" has no StatefulSets or Deployments to propose components from`);

  // Databases first, then the rest; each group by name, so the proposal reads in restore order.
  candidates.sort((a, b) => Number(!a.database) - Number(!b.database) || a.name.localeCompare(b.name) || a.kind.localeCompare(b.kind));
  const taken = new Set<string>();
  for (const candidate of candidates) {
    candidate.component.name = componentName(candidate, taken);
    assignBlueprint(candidate, options.blueprints, notes);
  }
  inferDependencies(candidates, input);

  const spec: ApplicationSpec = {
    apiVersion: APPLICATION_API_VERSION,
    kind: 'Application',
    metadata: { name: applicationName(input.namespace, candidates, options.name) },
    spec: { namespace: input.namespace, components: candidates.map((c) => c.component) },
  };
  return { spec, notes };
}

/** `docker.io/bitnami/postgresql:16.2@sha256:…` → `postgresql`. */
export function imageRepositoryName(image: string): string {
  const withoutDigest = image.split('@')[0]!;
  const lastSegment = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  return lastSegment.split(':')[0]!.toLowerCase();
}

function recogniseDatabase(pod: k8s.V1PodSpec | undefined): Pick<Candidate, 'database'> {
  for (const container of pod?.containers ?? []) {
    const repository = imageRepositoryName(container.image ?? '');
    const match = DATABASE_IMAGES.find((entry) => entry.images.includes(repository));
    if (match) return { database: { blueprint: match.blueprint, image: container.image ?? '' } };
  }
  return {};
}

function componentName(candidate: Candidate, taken: Set<string>): string {
  const base = candidate.name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '') || 'component';
  let name = base;
  if (taken.has(name)) name = `${base.slice(0, 63 - candidate.kind.length - 1)}-${candidate.kind.toLowerCase()}`;
  for (let i = 2; taken.has(name); i++) name = `${base.slice(0, 60)}-${i}`;
  taken.add(name);
  return name;
}

function assignBlueprint(candidate: Candidate, catalog: BlueprintCatalog | undefined, notes: string[]): void {
  const { component, database } = candidate;
  if (!database) {
    component.readiness = { workload: true, timeout: '5m' };
    return;
  }
  const blueprint = catalog?.get(database.blueprint);
  const where = `${candidate.kind} ${candidate.name} (image ${database.image})`;
  if (catalog && !blueprint) {
    notes.push(`${where} looks like a ${database.blueprint} database, but no blueprint "${database.blueprint}" is known: proposed as stateless`);
    delete candidate.database;
    component.readiness = { workload: true, timeout: '5m' };
    return;
  }
  const refusing = blueprint && ['backup', 'restore'].some((action) => !(blueprint.actions[action] ?? []).includes(candidate.kind));
  if (refusing) {
    notes.push(`${where} looks like a ${database.blueprint} database, but blueprint "${database.blueprint}" does not act on a ${candidate.kind}: proposed as stateless (its data is not backed up)`);
    delete candidate.database;
    component.readiness = { workload: true, timeout: '5m' };
    return;
  }
  component.blueprint = database.blueprint;
  const credentials = credentialsSecret(candidate.pod);
  if (credentials && credentials !== `${candidate.name}-credentials`) {
    if (blueprint?.options.includes('credentialsSecret')) component.options = { credentialsSecret: credentials } satisfies JsonObject;
    else notes.push(`${where} reads Secret ${credentials}; blueprint "${database.blueprint}" expects ${candidate.name}-credentials`);
  }
  component.readiness = { workload: true, validate: blueprint ? Boolean(blueprint.actions.validate) : true, timeout: '10m' };
  notes.push(`${where}: blueprint ${database.blueprint}`);
}

/** The Secret the database container takes its credentials from (envFrom or env secretKeyRef), if one. */
function credentialsSecret(pod: k8s.V1PodSpec | undefined): string | undefined {
  for (const container of pod?.containers ?? []) {
    const fromEnvFrom = container.envFrom?.find((source) => source.secretRef?.name)?.secretRef?.name;
    if (fromEnvFrom) return fromEnvFrom;
    const fromEnv = container.env?.find((variable) => variable.valueFrom?.secretKeyRef?.name)?.valueFrom?.secretKeyRef?.name;
    if (fromEnv) return fromEnv;
  }
  return undefined;
}

/**
 * A workload depends on a database when a text it is started with names one of the database's Services as a
 * host. Edges that would close a cycle are left out: the proposal must validate.
 */
function inferDependencies(candidates: Candidate[], input: NamespaceWorkloads): void {
  const databases = candidates.filter((c) => c.database).map((c) => ({ candidate: c, hosts: servicesOf(c, input.services).map((s) => hostPattern(s, input.namespace)) }));
  const dependsOn = new Map<Candidate, Set<Candidate>>();
  const reaches = (from: Candidate, to: Candidate, seen = new Set<Candidate>()): boolean => {
    if (from === to) return true;
    seen.add(from);
    return [...(dependsOn.get(from) ?? [])].some((next) => !seen.has(next) && reaches(next, to, seen));
  };
  for (const candidate of candidates) {
    const texts = startupTexts(candidate.pod, input.configMaps);
    for (const database of databases) {
      if (database.candidate === candidate || reaches(database.candidate, candidate)) continue;
      if (!database.hosts.some((pattern) => texts.some((text) => pattern.test(text)))) continue;
      const set = dependsOn.get(candidate) ?? new Set();
      set.add(database.candidate);
      dependsOn.set(candidate, set);
    }
  }
  for (const [candidate, set] of dependsOn) candidate.component.dependsOn = [...set].map((d) => d.component.name).sort();
  // Keep the fields in the order docs/applications.md lists them.
  for (const candidate of candidates) {
    const { readiness, ...rest } = candidate.component;
    candidate.component = readiness ? { ...rest, readiness } : rest;
  }
}

function servicesOf(candidate: Candidate, services: k8s.V1Service[]): string[] {
  const names = services
    .filter((service) => {
      const selector = service.spec?.selector ?? {};
      return Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => candidate.podLabels[key] === value);
    })
    .map((service) => service.metadata?.name ?? '')
    .filter(Boolean);
  return names;
}

/** `postgres`, `postgres:5432`, `postgres.shop`, `postgres.$(POD_NAMESPACE).svc.cluster.local`, `…@postgres/db`; not `postgres.conf`. */
function hostPattern(service: string, namespace: string): RegExp {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const namespacePart = `(?:${escape(namespace)}|\\$\\([A-Za-z_][A-Za-z0-9_]*\\)|\\$\\{[A-Za-z_][A-Za-z0-9_]*\\})`;
  return new RegExp(`(?<![A-Za-z0-9_.-])${escape(service)}(?:\\.${namespacePart}(?:\\.svc(?:\\.cluster\\.local)?)?|\\.svc(?:\\.cluster\\.local)?)?(?![A-Za-z0-9_.-])`);
}

/** Command, args and env values of every container, with the ConfigMap values env vars come from. */
function startupTexts(pod: k8s.V1PodSpec | undefined, configMaps: k8s.V1ConfigMap[]): string[] {
  const data = (name: string | undefined) => configMaps.find((c) => c.metadata?.name === name)?.data ?? {};
  const texts: string[] = [];
  for (const container of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) {
    texts.push(...(container.command ?? []), ...(container.args ?? []));
    for (const variable of container.env ?? []) {
      if (variable.value !== undefined) texts.push(variable.value);
      const ref = variable.valueFrom?.configMapKeyRef;
      if (ref) texts.push(data(ref.name)[ref.key] ?? '');
    }
    for (const source of container.envFrom ?? []) if (source.configMapRef) texts.push(...Object.values(data(source.configMapRef.name)));
  }
  return texts;
}

function applicationName(namespace: string, candidates: Candidate[], given: string | undefined): string {
  if (given !== undefined) return given;
  const partOf = new Set(candidates.map((c) => c.labels[PART_OF]));
  const shared = partOf.size === 1 ? [...partOf][0] : undefined;
  return shared && DNS_SUBDOMAIN.test(shared) && shared.length <= 253 ? shared : namespace;
}

export function isApplicationNameValid(name: string): boolean {
  return DNS_SUBDOMAIN.test(name) && name.length <= 253;
}
