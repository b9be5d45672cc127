import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { CSI_DRIVER_NAME, csiLayout, type CsiLayout } from '../../../test/support/csi-driver/layout.ts';
import { CSI_SPEC_VERSION, csiProtoFromModuleCache } from '../../../test/support/csi-driver/proto.ts';
import { MAIN_CLUSTER } from '../clusters.ts';
import type { ComponentStatus, ProgressLog, StackComponent } from '../component.ts';
import { ensureGoTool, toolBinary, toolInstalled, type GoTool } from '../go-build.ts';
import { toolDir, type StackPaths } from '../paths.ts';
import { logFile, runningPid, spawnDaemon, stopDaemon, waitUntil } from '../process.ts';

const run = promisify(execFile);

/**
 * snapshot-controller and csi-snapshotter, built in `tools/external-snapshotter/` (a wrapper module that
 * repeats upstream's replace lines; its `./client` replace becomes the published client module).
 */
const SNAPSHOTTER: GoTool = {
  tool: 'external-snapshotter',
  version: 'v8.7.0',
  binaries: ['snapshot-controller', 'csi-snapshotter'].map((binary) => ({
    binary,
    estimate: binary === 'snapshot-controller' ? '~2.5 min' : '~10 s',
    module: 'tools/external-snapshotter',
    build: `github.com/kubernetes-csi/external-snapshotter/v8/cmd/${binary}`,
    ldflags: '-s -w -X main.version=v8.7.0',
  })),
};

/**
 * csi-provisioner, in its own wrapper module `tools/external-provisioner/` (its Kubernetes pins differ from the
 * snapshotter's). The checksum database answers 404 for sig-storage-lib-external-provisioner, hence GONOSUMDB.
 */
const PROVISIONER: GoTool = {
  tool: 'external-provisioner',
  version: 'v5.3.0',
  binaries: [
    {
      binary: 'csi-provisioner',
      estimate: '~1.5 min',
      module: 'tools/external-provisioner',
      build: 'github.com/kubernetes-csi/external-provisioner/v5/cmd/csi-provisioner',
      ldflags: '-s -w -X main.version=v5.3.0',
      env: { GONOSUMDB: 'sigs.k8s.io/sig-storage-lib-external-provisioner' },
    },
  ],
};

const SNAPSHOT_CLIENT_MODULE = 'github.com/kubernetes-csi/external-snapshotter/client/v8';

/** The main cluster's classes; a second cluster's are in its ClusterSpec (scripts/stack/clusters.ts). */
export const CSI_STORAGE_CLASS = MAIN_CLUSTER.storageClass;
export const CSI_OTHER_STORAGE_CLASS = MAIN_CLUSTER.otherStorageClass;
export const CSI_SNAPSHOT_CLASS = MAIN_CLUSTER.snapshotClass;

/** The daemons in start order; each waits for the line its controller logs once its informers run. */
const DAEMONS = ['csi-driver', 'snapshot-controller', 'csi-snapshotter', 'csi-provisioner'] as const;
type Daemon = (typeof DAEMONS)[number];

export function csiRoot(paths: StackPaths): CsiLayout {
  return csiLayout(join(paths.state, 'csi'));
}

function crdDir(paths: StackPaths): string {
  return join(toolDir(paths, SNAPSHOTTER.tool, SNAPSHOTTER.version), 'crd');
}

function protoFile(paths: StackPaths): string {
  return join(toolDir(paths, 'csi-spec', CSI_SPEC_VERSION), 'csi.proto');
}

function installed(paths: StackPaths): boolean {
  return toolInstalled(paths, SNAPSHOTTER) && toolInstalled(paths, PROVISIONER) && existsSync(crdDir(paths)) && existsSync(protoFile(paths));
}

/**
 * The CSI layer: the real snapshot-controller, csi-snapshotter and csi-provisioner, against the test-side
 * driver in test/support/csi-driver/ (the one simulated piece: storage is a directory per volume).
 */
export const csi: StackComponent = {
  name: 'csi',
  version: `external-snapshotter ${SNAPSHOTTER.version}, external-provisioner ${PROVISIONER.version}, CSI spec ${CSI_SPEC_VERSION}`,
  after: ['kube'],

  async install(paths, log) {
    await ensureGoTool(paths, SNAPSHOTTER, log);
    await ensureGoTool(paths, PROVISIONER, log);
    if (!existsSync(crdDir(paths))) await copySnapshotCrds(paths, log);
    if (!existsSync(protoFile(paths))) {
      mkdirSync(join(protoFile(paths), '..'), { recursive: true });
      copyFileSync(csiProtoFromModuleCache(), protoFile(paths));
    }
  },

  async start(paths, log) {
    const layout = csiRoot(paths);
    mkdirSync(layout.root, { recursive: true });
    if (driverStale(paths)) {
      // csi-snapshotter exits when its driver connection drops: restart all four, not the driver alone.
      log('csi: the driver code changed since it started; restarting the CSI daemons');
      await this.stop(paths, log);
    }
    const kube = kubeClients(paths);
    await applySnapshotCrds(paths, kube);
    await applyManifests(kube, clusterClasses(paths));
    for (const daemon of DAEMONS) {
      if (runningPid(paths, daemon) !== undefined) continue;
      const from = logSize(paths, daemon);
      if (daemon === 'csi-driver') writeFileSync(driverStampFile(paths), driverCodeStamp(paths));
      spawnDaemon(paths, daemonSpec(paths, daemon));
      await waitUntil(
        `${daemon} to start`,
        // An exited daemon ends the wait at once; the check below reports it.
        async () =>
          runningPid(paths, daemon) === undefined ||
          (daemon === 'csi-driver' ? socketAccepts(layout.socket) : logShows(paths, daemon, from, READY_LINE[daemon])),
        60_000,
        `see ${logFile(paths, daemon)}`,
      );
      if (runningPid(paths, daemon) === undefined) throw new Error(`${daemon} exited; see ${logFile(paths, daemon)}`);
    }
    const { storageClass, otherStorageClass, snapshotClass } = paths.cluster;
    log(`csi: driver ${CSI_DRIVER_NAME} on ${layout.socket}, classes ${storageClass}, ${otherStorageClass}, ${snapshotClass}`);
  },

  async stop(paths, log) {
    for (const daemon of [...DAEMONS].reverse()) {
      if (await stopDaemon(paths, daemon)) log(`csi: stopped ${daemon}`);
    }
  },

  async status(paths): Promise<ComponentStatus> {
    const layout = csiRoot(paths);
    const base = { name: 'csi', version: this.version, address: `unix://${layout.socket}` };
    if (!installed(paths)) return { ...base, state: 'not-installed' };
    const running = DAEMONS.filter((daemon) => runningPid(paths, daemon) !== undefined);
    if (running.length === 0) return { ...base, state: 'stopped' };
    if (running.length < DAEMONS.length) {
      const down = DAEMONS.filter((daemon) => !running.includes(daemon));
      return { ...base, state: 'degraded', detail: `not running: ${down.join(', ')}` };
    }
    if (!(await socketAccepts(layout.socket))) return { ...base, state: 'degraded', detail: 'driver socket does not accept connections' };
    if (driverStale(paths)) return { ...base, state: 'degraded', detail: 'the driver code changed since it started (stack:up restarts it)' };
    const count = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((entry) => entry.endsWith('.json')).length : 0);
    return {
      ...base,
      state: 'running',
      detail: `driver ${CSI_DRIVER_NAME} (${count(layout.volumes)} volumes, ${count(layout.snapshots)} snapshots); ${DAEMONS.slice(1).join(', ')}`,
    };
  },

  info(paths) {
    const layout = csiRoot(paths);
    return {
      driver: CSI_DRIVER_NAME,
      socket: layout.socket,
      volumes: layout.volumes,
      snapshots: layout.snapshots,
      storageClass: paths.cluster.storageClass,
      otherStorageClass: paths.cluster.otherStorageClass,
      snapshotClass: paths.cluster.snapshotClass,
    };
  },

  binaries(paths) {
    return {
      'snapshot-controller': toolBinary(paths, SNAPSHOTTER, 'snapshot-controller'),
      'csi-snapshotter': toolBinary(paths, SNAPSHOTTER, 'csi-snapshotter'),
      'csi-provisioner': toolBinary(paths, PROVISIONER, 'csi-provisioner'),
    };
  },
};

/**
 * `manifests/csi/classes.yaml`, its class names (written for the main cluster) replaced by this cluster's:
 * a second cluster has the same driver under other StorageClass and snapshot class names, as another site would.
 */
function clusterClasses(paths: StackPaths): k8s.KubernetesObject[] {
  const names = new Map<string, string>(
    (['storageClass', 'otherStorageClass', 'snapshotClass', 'groupSnapshotClass'] as const).map((key) => [MAIN_CLUSTER[key], paths.cluster[key]]),
  );
  const objects = k8s.loadAllYaml(readFileSync(join(paths.root, 'scripts/stack/manifests/csi/classes.yaml'), 'utf8')) as k8s.KubernetesObject[];
  for (const object of objects) {
    const name = object.metadata?.name;
    if (name !== undefined && names.has(name)) object.metadata!.name = names.get(name);
  }
  return objects;
}

/** What each controller logs once its informers are running (for the pinned versions above). */
const READY_LINE: Record<Exclude<Daemon, 'csi-driver'>, RegExp> = {
  'snapshot-controller': /Starting snapshot controller/,
  'csi-snapshotter': /Starting CSI snapshotter/,
  'csi-provisioner': /Started provisioner controller/,
};

function daemonSpec(paths: StackPaths, daemon: Daemon) {
  const layout = csiRoot(paths);
  const common = [`--kubeconfig=${paths.kubeconfig}`, '--leader-election=false', '--v=2'];
  switch (daemon) {
    case 'csi-driver':
      return {
        name: daemon,
        command: process.execPath,
        args: ['--import', 'tsx', join(paths.root, 'test/support/csi-driver/main.ts'), '--root', layout.root, '--proto', protoFile(paths)],
        cwd: paths.root,
      };
    case 'snapshot-controller':
      return { name: daemon, command: toolBinary(paths, SNAPSHOTTER, daemon), args: [...common, '--retry-interval-max=30s'] };
    case 'csi-snapshotter':
      return {
        name: daemon,
        command: toolBinary(paths, SNAPSHOTTER, daemon),
        args: [...common, `--csi-address=${layout.socket}`, '--timeout=60s', '--extra-create-metadata', '--retry-interval-max=30s'],
      };
    case 'csi-provisioner':
      return {
        name: daemon,
        command: toolBinary(paths, PROVISIONER, daemon),
        // --timeout: a CreateVolume from a large snapshot copies the whole directory before it answers.
        args: [...common, `--csi-address=${layout.socket}`, '--timeout=60s', '--extra-create-metadata', '--retry-interval-max=30s'],
      };
  }
}

/** The VolumeSnapshot and VolumeGroupSnapshot CRDs ship as data in the client module; kept beside the binaries. */
async function copySnapshotCrds(paths: StackPaths, log: ProgressLog): Promise<void> {
  const { stdout } = await run('go', ['mod', 'download', '-json', `${SNAPSHOT_CLIENT_MODULE}@${SNAPSHOTTER.version}`], {
    cwd: join(paths.root, 'tools/external-snapshotter'),
  });
  const moduleDir = (JSON.parse(stdout) as { Dir: string }).Dir;
  const source = join(moduleDir, 'config', 'crd');
  const staging = `${crdDir(paths)}.partial`;
  mkdirSync(staging, { recursive: true });
  const files = readdirSync(source).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml');
  for (const file of files) copyFileSync(join(source, file), join(staging, file));
  renameSync(staging, crdDir(paths));
  log(`csi: ${files.length} snapshot CRDs from ${SNAPSHOT_CLIENT_MODULE}@${SNAPSHOTTER.version}`);
}

interface Kube {
  objects: k8s.KubernetesObjectApi;
  extensions: k8s.ApiextensionsV1Api;
}

function kubeClients(paths: StackPaths): Kube {
  const config = new k8s.KubeConfig();
  config.loadFromFile(paths.kubeconfig);
  return { objects: k8s.KubernetesObjectApi.makeApiClient(config), extensions: config.makeApiClient(k8s.ApiextensionsV1Api) };
}

async function applyManifests(kube: Kube, objects: k8s.KubernetesObject[]): Promise<void> {
  for (const object of objects) {
    await kube.objects.patch(object, undefined, undefined, 'cairn-stack', true, k8s.PatchStrategy.ServerSideApply);
  }
}

async function applySnapshotCrds(paths: StackPaths, kube: Kube): Promise<void> {
  const crds = readdirSync(crdDir(paths)).map((file) => k8s.loadYaml<k8s.V1CustomResourceDefinition>(readFileSync(join(crdDir(paths), file), 'utf8')));
  await applyManifests(kube, crds);
  for (const crd of crds) {
    const name = crd.metadata!.name!;
    await waitUntil(`CRD ${name} to be established`, async () => {
      const current = await kube.extensions.readCustomResourceDefinition({ name });
      return current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
    }, 30_000);
  }
}

function driverStampFile(paths: StackPaths): string {
  return join(csiRoot(paths).root, 'driver.stamp');
}

/** A hash of the driver's source: tests must never run against a driver started from older code. */
function driverCodeStamp(paths: StackPaths): string {
  const dir = join(paths.root, 'test/support/csi-driver');
  const hash = createHash('sha256');
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts')).sort()) {
    hash.update(file).update(readFileSync(join(dir, file)));
  }
  return hash.digest('hex');
}

function driverStale(paths: StackPaths): boolean {
  if (runningPid(paths, 'csi-driver') === undefined) return false;
  try {
    return readFileSync(driverStampFile(paths), 'utf8') !== driverCodeStamp(paths);
  } catch {
    return true;
  }
}

function logSize(paths: StackPaths, daemon: string): number {
  try {
    return statSync(logFile(paths, daemon)).size;
  } catch {
    return 0;
  }
}

/** Whether the daemon's log, from `offset` on (this start's output), has a line matching `pattern`. */
function logShows(paths: StackPaths, daemon: string, offset: number, pattern: RegExp): boolean {
  return pattern.test(readFileSync(logFile(paths, daemon)).subarray(offset).toString('utf8'));
}

function socketAccepts(path: string): Promise<boolean> {
  return new Promise((resolveOpen) => {
    const socket = connect({ path });
    const done = (open: boolean) => {
      socket.destroy();
      resolveOpen(open);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
