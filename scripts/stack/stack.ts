import { existsSync, readFileSync } from 'node:fs';
import type { ComponentStatus, ProgressLog, StackComponent } from './component.ts';
import { ensureAptPackages } from './apt.ts';
import { components as allComponents } from './components/index.ts';
import type { StackPaths } from './paths.ts';
import { writeStackInfo, type StackInfo } from './stack-info.ts';

/** The components in start order, checked so that each one's `after` comes before it. */
export function orderedComponents(components: StackComponent[] = allComponents): StackComponent[] {
  const seen = new Set<string>();
  for (const component of components) {
    for (const dependency of component.after) {
      if (!seen.has(dependency)) {
        throw new Error(`component ${component.name} must start after ${dependency}; move it below ${dependency} in scripts/stack/components/index.ts`);
      }
    }
    seen.add(component.name);
  }
  return components;
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

function readKubeconfig(paths: StackPaths): string | undefined {
  return existsSync(paths.kubeconfig) ? readFileSync(paths.kubeconfig, 'utf8') : undefined;
}

/** Starts `selected` (in order) with these paths: the main stack's, or a second cluster's (second-cluster.ts). */
export async function startComponents(paths: StackPaths, log: ProgressLog, selected: StackComponent[]): Promise<void> {
  const clusterBefore = readKubeconfig(paths);
  for (const [index, component] of selected.entries()) {
    const t = Date.now();
    await component.start(paths, log);
    log(`${component.name}: up (${seconds(t)})`);
    if (component.name === 'kube' && clusterBefore !== undefined && readKubeconfig(paths) !== clusterBefore) {
      // A recreated cluster has new certificates: daemons still holding the old kubeconfig would fail
      // quietly (watches that never come back), so what runs against the cluster starts afresh.
      log('the cluster is new: restarting the components that run against it');
      for (const dependent of selected.slice(index + 1).reverse()) await dependent.stop(paths, log);
    }
  }
}

/** Installs what is missing (Debian packages, Go builds into the cache), then starts every component. */
export async function stackUp(paths: StackPaths, log: ProgressLog, only?: string[]): Promise<StackInfo> {
  const started = Date.now();
  const selected = orderedComponents().filter((c) => !only || only.includes(c.name));
  ensureAptPackages(paths, log);
  for (const component of selected) {
    const t = Date.now();
    await component.install(paths, log);
    if (Date.now() - t > 1000) log(`${component.name}: installed in ${seconds(t)}`);
  }
  await startComponents(paths, log, selected);
  const info = collectStackInfo(paths);
  writeStackInfo(paths, info);
  log(`stack up in ${seconds(started)}; addresses in ${paths.state}/stack.json`);
  return info;
}

/** Stops the components in reverse start order; each stops only the processes its PID files name. */
export async function stackDown(paths: StackPaths, log: ProgressLog, only?: string[]): Promise<void> {
  await stopComponents(paths, log, orderedComponents().filter((c) => !only || only.includes(c.name)));
}

export async function stopComponents(paths: StackPaths, log: ProgressLog, selected: StackComponent[]): Promise<void> {
  for (const component of [...selected].reverse()) {
    const t = Date.now();
    await component.stop(paths, log);
    if (Date.now() - t > 2000) log(`${component.name}: stopping took ${seconds(t)}`);
  }
}

export async function stackStatus(paths: StackPaths, components = orderedComponents()): Promise<ComponentStatus[]> {
  return Promise.all(
    components.map((c) =>
      c.status(paths).catch((error: unknown) => ({
        name: c.name,
        version: c.version,
        address: '',
        state: 'degraded' as const,
        detail: `status failed: ${(error as Error).message}`,
      })),
    ),
  );
}

export function collectStackInfo(paths: StackPaths): StackInfo {
  const sections: Record<string, unknown> = {};
  const binaries: Record<string, string> = {};
  for (const component of orderedComponents()) {
    if (component.info) sections[component.name] = component.info(paths);
    if (component.binaries) Object.assign(binaries, component.binaries(paths));
  }
  return { root: paths.root, state: paths.state, ...sections, binaries } as StackInfo;
}
