import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import type { ComponentStatus, ProgressLog, StackComponent } from '../component.ts';
import { ensureGoTool, toolBinary, toolInstalled, type GoTool } from '../go-build.ts';
import type { StackPaths } from '../paths.ts';
import { isAlive, portTakenError, tcpOpen, waitUntil } from '../process.ts';
import { podExecShimDir, writeKwokStagesConfig } from './pod-runtime.ts';

const run = promisify(execFile);

const KUBE_VERSION = 'v1.34.4';
/** Without these the binaries report v0.0.0-master, and clients that read the server version misbehave. */
const KUBE_LDFLAGS = `-s -w -X k8s.io/component-base/version.gitVersion=${KUBE_VERSION} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=34`;
const kubeBinary = (binary: string, estimate: string) => ({
  binary,
  estimate,
  module: 'tools/kubernetes',
  build: `k8s.io/kubernetes/cmd/${binary}`,
  ldflags: KUBE_LDFLAGS,
});

/** The control plane, built from `tools/kubernetes/` (k8s.io/kubernetes with its staging modules replaced). */
const KUBERNETES: GoTool = {
  tool: 'kubernetes',
  version: KUBE_VERSION,
  binaries: [
    kubeBinary('kube-apiserver', '~3 min'),
    kubeBinary('kube-controller-manager', '~1 min'),
    kubeBinary('kube-scheduler', '~10 s'),
    // kwokctl looks kubectl up on PATH to check the cluster is served (and would download it otherwise).
    kubeBinary('kubectl', '~1 min'),
  ],
};

/** etcd comes from the same wrapper module: k8s.io/kubernetes already depends on the pinned etcd server. */
const ETCD: GoTool = {
  tool: 'etcd',
  version: 'v3.6.4',
  binaries: [
    { binary: 'etcd', estimate: '~20 s', module: 'tools/kubernetes', build: 'go.etcd.io/etcd/server/v3', ldflags: '-s -w' },
    // The etcd image's clients, on database pods' PATH (docs/dev-stack-pods.md): blueprints/etcd.yaml uses them.
    { binary: 'etcdctl', estimate: '~1 min', module: 'tools/etcd-client', build: 'go.etcd.io/etcd/etcdctl/v3', ldflags: '-s -w' },
    { binary: 'etcdutl', estimate: '~20 s', module: 'tools/etcd-client', build: 'go.etcd.io/etcd/etcdutl/v3', ldflags: '-s -w' },
  ],
};

const KWOK: GoTool = {
  tool: 'kwok',
  version: 'v0.8.0',
  binaries: [
    { binary: 'kwok', estimate: '~1 min', install: 'sigs.k8s.io/kwok/cmd/kwok@v0.8.0', ldflags: '-s -w' },
    { binary: 'kwokctl', estimate: '~1 min', install: 'sigs.k8s.io/kwok/cmd/kwokctl@v0.8.0', ldflags: '-s -w' },
  ],
};

const NODES = 2;
/** Exec/ClusterExec make `kubectl exec` run commands on this machine; Logs/ClusterLogs serve `kubectl logs` from files. */
const CRDS = ['Exec', 'ClusterExec', 'Logs', 'ClusterLogs'];

function workdir(paths: StackPaths): string {
  return join(paths.state, 'kwok');
}

function clusterDir(paths: StackPaths): string {
  return join(workdir(paths), 'clusters', paths.cluster.name);
}

function binaries(paths: StackPaths): Record<string, string> {
  return {
    'kube-apiserver': toolBinary(paths, KUBERNETES, 'kube-apiserver'),
    'kube-controller-manager': toolBinary(paths, KUBERNETES, 'kube-controller-manager'),
    'kube-scheduler': toolBinary(paths, KUBERNETES, 'kube-scheduler'),
    kubectl: toolBinary(paths, KUBERNETES, 'kubectl'),
    etcd: toolBinary(paths, ETCD, 'etcd'),
    kwok: toolBinary(paths, KWOK, 'kwok'),
    kwokctl: toolBinary(paths, KWOK, 'kwokctl'),
  };
}

function kwokctlEnv(paths: StackPaths): NodeJS.ProcessEnv {
  return {
    ...process.env,
    KWOK_WORKDIR: workdir(paths),
    KWOK_KUBE_VERSION: KUBE_VERSION,
    // The kwok controller inherits this PATH and looks exec'd commands up on it: the pod runtime's shims come
    // first, so `kubectl exec` runs inside the pod's mount view (they pass through for anything else).
    PATH: [podExecShimDir(paths), join(toolBinary(paths, KUBERNETES, 'kubectl'), '..'), process.env.PATH ?? ''].join(delimiter),
  };
}

async function kwokctl(paths: StackPaths, args: string[], timeoutMs = 180_000): Promise<string> {
  const { stdout } = await run(binaries(paths).kwokctl!, [...args, '--name', paths.cluster.name], {
    env: kwokctlEnv(paths),
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

async function kubectl(paths: StackPaths, args: string[]): Promise<string> {
  const { stdout } = await run(binaries(paths).kubectl!, ['--kubeconfig', paths.kubeconfig, ...args], { timeout: 30_000 });
  return stdout;
}

/** The processes kwokctl started for this cluster, from its own PID files (`<cluster>/pids/<component>.pid`). */
function clusterPids(paths: StackPaths): Map<string, number> {
  const dir = join(clusterDir(paths), 'pids');
  const pids = new Map<string, number>();
  if (!existsSync(dir)) return pids;
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.pid')) continue;
    const pid = Number.parseInt(readFileSync(join(dir, file), 'utf8').trim(), 10);
    if (Number.isInteger(pid) && pid > 0) pids.set(file.slice(0, -'.pid'.length), pid);
  }
  return pids;
}

function processesAlive(paths: StackPaths): { alive: string[]; dead: string[] } {
  const alive: string[] = [];
  const dead: string[] = [];
  for (const [name, pid] of clusterPids(paths)) (isAlive(pid) ? alive : dead).push(name);
  return { alive, dead };
}

async function apiReady(paths: StackPaths): Promise<boolean> {
  return (await kubectl(paths, ['get', '--raw', '/readyz'])).trim() === 'ok';
}

/** Records the binaries a cluster was created with, so a changed pin recreates it instead of starting old ones. */
function pinsFile(paths: StackPaths): string {
  return join(clusterDir(paths), 'cairn-pins.json');
}

function pinsStamp(paths: StackPaths): string {
  // `stages` names the kwok stage set (pod-complete removed, see pod-runtime.ts): it only applies at creation.
  const { ports } = paths.cluster;
  return JSON.stringify({ kubernetes: KUBE_VERSION, etcd: ETCD.version, kwok: KWOK.version, crds: CRDS, stages: 'default-without-pod-complete', binaries: binaries(paths), ...(ports ? { ports } : {}) });
}

/**
 * A second cluster's fixed ports, as a kwokctl configuration (etcd's peer port has no flag). The main cluster
 * passes none: kwokctl picks free ports for it, as it always has.
 */
function portsConfig(paths: StackPaths): string[] {
  const { ports } = paths.cluster;
  if (!ports) return [];
  const file = join(workdir(paths), 'kwokctl-ports.yaml');
  writeFileSync(file, [
    '# Written by scripts/stack/components/kube.ts: this cluster\'s ports (see ClusterSpec.ports in scripts/stack/clusters.ts).',
    'apiVersion: config.kwok.x-k8s.io/v1alpha1',
    'kind: KwokctlConfiguration',
    'options:',
    `  etcdPort: ${ports.etcd}`,
    `  etcdPeerPort: ${ports.etcdPeer}`,
    `  kwokControllerPort: ${ports.kwokController}`,
    `  kubeControllerManagerPort: ${ports.kubeControllerManager}`,
    `  kubeSchedulerPort: ${ports.kubeScheduler}`,
    '',
  ].join('\n'));
  return ['--config', file];
}

/** kwokctl delete refuses an empty --kubeconfig; a scratch file keeps ~/.kube/config untouched all the same. */
function scratchKubeconfig(paths: StackPaths): string {
  return join(workdir(paths), 'kwokctl-scratch-kubeconfig.yaml');
}

async function createCluster(paths: StackPaths, log: ProgressLog): Promise<void> {
  const bin = binaries(paths);
  log(`creating kwok cluster "${paths.cluster.name}" (Kubernetes ${KUBE_VERSION}, kwok ${KWOK.version}) in ${clusterDir(paths)}`);
  await kwokctl(paths, [
    'create', 'cluster',
    '--runtime', 'binary',
    '--kube-apiserver-port', String(paths.cluster.apiPort),
    '--kube-apiserver-binary', bin['kube-apiserver']!,
    '--kube-controller-manager-binary', bin['kube-controller-manager']!,
    '--kube-scheduler-binary', bin['kube-scheduler']!,
    '--etcd-binary', bin.etcd!,
    '--kwok-controller-binary', bin.kwok!,
    '--enable-crds', CRDS.join(','),
    '--config', writeKwokStagesConfig(paths),
    ...portsConfig(paths),
    // Keep ~/.kube/config untouched: the stack's kubeconfig is .cairn/kubeconfig.
    '--kubeconfig', '',
    '--wait', '2m',
  ]);
  writeFileSync(pinsFile(paths), pinsStamp(paths));
}

export const kube: StackComponent = {
  name: 'kube',
  version: `${KUBE_VERSION} (etcd ${ETCD.version}, kwok ${KWOK.version})`,
  after: [],

  async install(paths, log) {
    await ensureGoTool(paths, KWOK, log);
    await ensureGoTool(paths, KUBERNETES, log);
    await ensureGoTool(paths, ETCD, log);
  },

  async start(paths, log) {
    mkdirSync(workdir(paths), { recursive: true });
    if (processesAlive(paths).alive.length === 0 && (await tcpOpen('127.0.0.1', paths.cluster.apiPort))) {
      throw portTakenError('the kube-apiserver', '127.0.0.1', paths.cluster.apiPort);
    }
    const created = existsSync(join(clusterDir(paths), 'kwok.yaml'));
    if (created && (!existsSync(pinsFile(paths)) || readFileSync(pinsFile(paths), 'utf8') !== pinsStamp(paths))) {
      log(`the kwok cluster was created with other binaries; recreating it (its objects are lost)`);
      await kwokctl(paths, ['delete', 'cluster', '--kubeconfig', scratchKubeconfig(paths)]);
      await createCluster(paths, log);
    } else if (!created) {
      if (existsSync(clusterDir(paths))) {
        // A create that died half-way leaves a directory kwokctl refuses to create over.
        log(`removing the remains of an unfinished kwok cluster in ${clusterDir(paths)}`);
        await kwokctl(paths, ['delete', 'cluster', '--kubeconfig', scratchKubeconfig(paths)]).catch(() => undefined);
        rmSync(clusterDir(paths), { recursive: true, force: true });
      }
      await createCluster(paths, log);
    } else {
      const { alive, dead } = processesAlive(paths);
      if (dead.length > 0 || alive.length === 0) {
        // Stop what is left first: kwokctl start does not restart a component whose process still runs.
        if (alive.length > 0) await kwokctl(paths, ['stop', 'cluster']);
        log(`starting kwok cluster "${paths.cluster.name}" (etcd data kept in ${clusterDir(paths)})`);
        await kwokctl(paths, ['start', 'cluster', '--wait', '2m']);
      }
    }
    copyFileSync(join(clusterDir(paths), 'kubeconfig.yaml'), paths.kubeconfig);
    await waitUntil('the kube-apiserver to be ready', () => apiReady(paths), 120_000, `see ${join(clusterDir(paths), 'logs')}`);
    const nodes = (await kubectl(paths, ['get', 'nodes', '-o', 'name'])).split('\n').filter(Boolean);
    if (nodes.length < NODES) {
      log(`adding kwok nodes (${nodes.length} → ${NODES})`);
      await kwokctl(paths, ['scale', 'node', '--replicas', String(NODES)]);
    }
    await waitUntil(`${NODES} Ready nodes`, async () => {
      const ready = await kubectl(paths, ['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']);
      return ready.split('\n').filter((s) => s === 'True').length >= NODES;
    }, 60_000);
  },

  async stop(paths, log) {
    if (!existsSync(join(clusterDir(paths), 'kwok.yaml'))) return;
    if (processesAlive(paths).alive.length === 0) return;
    await kwokctl(paths, ['stop', 'cluster']);
    log(`stopped kwok cluster "${paths.cluster.name}"`);
  },

  async status(paths): Promise<ComponentStatus> {
    const base = { name: 'kube', version: this.version, address: `https://127.0.0.1:${paths.cluster.apiPort} (kubeconfig ${paths.kubeconfig})` };
    if (![KUBERNETES, ETCD, KWOK].every((tool) => toolInstalled(paths, tool))) return { ...base, state: 'not-installed' };
    const { alive, dead } = processesAlive(paths);
    if (alive.length === 0) return { ...base, state: 'stopped' };
    if (dead.length > 0) return { ...base, state: 'degraded', detail: `not running: ${dead.join(', ')}` };
    const ready = await apiReady(paths).catch(() => false);
    if (!ready) return { ...base, state: 'degraded', detail: 'kube-apiserver is not ready' };
    const nodes = (await kubectl(paths, ['get', 'nodes', '-o', 'name'])).split('\n').filter(Boolean).length;
    return { ...base, state: 'running', detail: `${alive.length} processes, ${nodes} nodes` };
  },

  info(paths) {
    return {
      kubeconfig: paths.kubeconfig,
      cluster: paths.cluster.name,
      version: KUBE_VERSION,
      server: `https://127.0.0.1:${paths.cluster.apiPort}`,
      workdir: clusterDir(paths),
    };
  },

  binaries,
};
