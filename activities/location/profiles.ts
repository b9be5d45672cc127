/**
 * Finds location profiles: YAML files in the profiles directory (CAIRN_PROFILES_DIR, default
 * `.cairn/profiles/`), then Secrets and ConfigMaps labelled `cairn.io/profile=true` in the worker's namespace
 * (CAIRN_NAMESPACE, else the in-cluster service account's, else `cairn`). The name `default` is the embedded
 * filesystem location under `.cairn/location` (CAIRN_LOCATION) unless a profile of that name is defined.
 * Every file goes through the one YAML loader and the profile schema; problems carry file:line.
 */
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CairnError, didYouMean, type Diagnostic } from '../../src/diagnostics.ts';
import type { KubeClients } from '../../src/kube/clients.ts';
import { DEFAULT_PROFILE, defaultProfile, parseProfileSource, parseProfileText, PROFILE_LABEL, type LocationProfile } from '../../src/location/profile.ts';
import { readSourceFile } from '../../src/yaml-source.ts';

const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

export interface ProfileSources {
  /** Directory of profile YAML files. */
  directory: string;
  /** Namespace whose labelled Secrets and ConfigMaps hold profiles; undefined: the cluster is not searched. */
  namespace?: string;
  kube?: () => KubeClients;
  /** Root directory of the embedded default location. */
  defaultPath: string;
}

export function stateDir(): string {
  return process.env.CAIRN_STATE_DIR ?? join(REPO_ROOT, '.cairn');
}

/** The worker's KEK file when neither CAIRN_KEK nor CAIRN_KEK_FILE is set. */
export function defaultKekFile(): string {
  return join(stateDir(), 'kek');
}

function workerNamespace(): string {
  if (process.env.CAIRN_NAMESPACE) return process.env.CAIRN_NAMESPACE;
  try {
    return readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim();
  } catch {
    return 'cairn';
  }
}

/** Sources as the environment sets them, read at call time (tests and the CLI set the variables first). */
export function profileSources(kube?: () => KubeClients): ProfileSources {
  const sources: ProfileSources = {
    directory: process.env.CAIRN_PROFILES_DIR ?? join(stateDir(), 'profiles'),
    defaultPath: process.env.CAIRN_LOCATION ?? join(stateDir(), 'location'),
    namespace: workerNamespace(),
  };
  if (kube) sources.kube = kube;
  return sources;
}

export interface LoadedProfiles {
  profiles: LocationProfile[];
  /** Problems in profile files and objects; warnings when a source could not be searched. */
  diagnostics: Diagnostic[];
}

/** Profiles of the directory, then of the cluster (when `fromCluster`), then the embedded default. */
export async function loadProfiles(sources: ProfileSources, options: { fromCluster?: boolean } = {}): Promise<LoadedProfiles> {
  const profiles: LocationProfile[] = [];
  const diagnostics: Diagnostic[] = [];
  let files: string[] = [];
  try {
    files = (await readdir(sources.directory)).filter((f) => ['.yaml', '.yml'].includes(extname(f))).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      diagnostics.push({ code: 'profiles-unreadable', severity: 'warning', message: `cannot read the profiles directory: ${(error as Error).message}`, file: sources.directory });
    }
  }
  for (const name of files) {
    const parsed = parseProfileSource(await readSourceFile(join(sources.directory, name)));
    profiles.push(...parsed.profiles);
    diagnostics.push(...parsed.diagnostics);
  }
  if (options.fromCluster !== false && sources.kube && sources.namespace) {
    const found = await clusterProfiles(sources.kube, sources.namespace);
    profiles.push(...found.profiles);
    diagnostics.push(...found.diagnostics);
  }
  const byName = new Map<string, LocationProfile>();
  for (const profile of profiles) {
    const earlier = byName.get(profile.name);
    if (earlier) {
      diagnostics.push({ code: 'duplicate-profile', severity: 'error', message: `profile "${profile.name}" is defined twice: here and at ${earlier.source}`, file: profile.source });
      continue;
    }
    byName.set(profile.name, profile);
  }
  if (!byName.has(DEFAULT_PROFILE)) byName.set(DEFAULT_PROFILE, defaultProfile(sources.defaultPath));
  return { profiles: [...byName.values()], diagnostics };
}

async function clusterProfiles(kube: () => KubeClients, namespace: string): Promise<LoadedProfiles> {
  const result: LoadedProfiles = { profiles: [], diagnostics: [] };
  const add = (kind: string, name: string, data: Record<string, string>) => {
    for (const key of Object.keys(data).sort()) {
      const parsed = parseProfileText(data[key]!, `${kind}/${namespace}/${name}/${key}`);
      result.profiles.push(...parsed.profiles);
      result.diagnostics.push(...parsed.diagnostics);
    }
  };
  const labelSelector = `${PROFILE_LABEL}=true`;
  try {
    const { core } = kube();
    for (const configMap of (await core.listNamespacedConfigMap({ namespace, labelSelector })).items) add('configmap', configMap.metadata!.name!, configMap.data ?? {});
    for (const secret of (await core.listNamespacedSecret({ namespace, labelSelector })).items) {
      const data = Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
      add('secret', secret.metadata!.name!, data);
    }
  } catch (error) {
    const status = (error as { code?: number }).code;
    result.diagnostics.push({
      code: 'profiles-unreadable',
      severity: 'warning',
      message: `profiles in namespace ${namespace} not searched: ${status ? `HTTP ${status}` : (error as Error).message}`,
    });
  }
  return result;
}

/**
 * The profile a run names (undefined: `default`). Looks in the directory first and asks the cluster only
 * when the name is not there. Throws a CairnError naming what was searched, with the problems of profile
 * files that might have defined it.
 */
export async function resolveProfile(name: string | undefined, sources: ProfileSources): Promise<LocationProfile> {
  const wanted = name ?? DEFAULT_PROFILE;
  let loaded = await loadProfiles(sources, { fromCluster: false });
  let found = loaded.profiles.find((p) => p.name === wanted && p.source !== 'embedded default');
  if (!found) {
    loaded = await loadProfiles(sources);
    found = loaded.profiles.find((p) => p.name === wanted);
  }
  const clash = loaded.diagnostics.find((d) => d.code === 'duplicate-profile' && d.message.startsWith(`profile "${wanted}"`));
  if (found && !clash) return found;
  // Errors of profile files, and the sources that could not be searched (one of them may hold the profile).
  const problems = loaded.diagnostics.filter((d) => d.severity === 'error' || d.code === 'profiles-unreadable');
  const searched = `${sources.directory}${sources.kube && sources.namespace ? ` and Secrets/ConfigMaps labelled ${PROFILE_LABEL}=true in namespace ${sources.namespace}` : ''}`;
  const suggestion = didYouMean(wanted, loaded.profiles.map((p) => p.name));
  throw new CairnError([
    clash ?? {
      code: 'unknown-profile',
      severity: 'error',
      message: `no location profile named "${wanted}" in ${searched}`,
      hint: suggestion ? `did you mean "${suggestion}"?` : `known: ${loaded.profiles.map((p) => p.name).join(', ')}`,
    },
    ...problems.filter((d) => d !== clash),
  ]);
}
