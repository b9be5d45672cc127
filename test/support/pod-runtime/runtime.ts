import { rmSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { sleep, waitUntil } from '../../../scripts/stack/process.ts';
import type { StackPaths } from '../../../scripts/stack/paths.ts';
import { csiLayout } from '../csi-driver/layout.ts';
import { apiServerEnv, serviceAccountToken } from './in-cluster.ts';
import { ProcessRecords } from './child-process.ts';
import { podPath } from './exec-shim.ts';
import { deleteKwokObject, statusCode } from './kwok-objects.ts';
import { runtimeDirs } from './layout.ts';
import { LoopbackIpAllocator } from './loopback-ip.ts';
import { PodWorker } from './pod-worker.ts';
import type { VolumeSources } from './pod-volumes.ts';
import { type RuntimeServices, VolumeLocks } from './runtime-services.ts';
import type { PlayedPod } from './service-directory.ts';
import { VolumeWriters } from './volume-writers.ts';

/** Held on every pod the runtime plays, so that a deleted pod stays until its processes have stopped. */
export const POD_FINALIZER = 'cairn.dev/pod-runtime';
/** `cairn.dev/pod-runtime: skip` on a pod leaves it to kwok alone (no processes, just simulated states). */
export const SKIP_ANNOTATION = 'cairn.dev/pod-runtime';
/** kwokctl's nodes carry this annotation; pods on other nodes are not ours to run. */
const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';

function apiOptions(contentType: string) {
  return k8s.setHeaderOptions('Content-Type', contentType);
}

/** The test-side kubelet: watches pods on kwok nodes and plays each with a PodWorker. */
export class PodRuntime implements RuntimeServices {
  readonly custom: k8s.CustomObjectsApi;
  readonly csi;
  readonly writers;
  readonly records;
  readonly ips: LoopbackIpAllocator;
  readonly volumeLocks = new VolumeLocks();
  readonly podsDir: string;
  readonly socketsDir: string;
  readonly podPath: string;
  readonly apiServerEnv: Record<string, string>;
  readonly sources: VolumeSources;
  private readonly core: k8s.CoreV1Api;
  private readonly workers = new Map<string, PodWorker>();
  private readonly podsByUid = new Map<string, k8s.V1Pod>();
  private readonly services = new Map<string, k8s.V1Service>();
  private readonly kwokNodes = new Map<string, boolean>();
  private readonly releasing = new Set<string>();
  private readonly informers: k8s.Informer<k8s.KubernetesObject>[] = [];
  private directoryTimer: NodeJS.Timeout | undefined;
  private shuttingDown = false;

  constructor(
    readonly paths: StackPaths,
    private readonly config: k8s.KubeConfig,
    readonly log: (line: string) => void,
  ) {
    const dirs = runtimeDirs(paths);
    this.core = config.makeApiClient(k8s.CoreV1Api);
    this.custom = config.makeApiClient(k8s.CustomObjectsApi);
    this.ips = new LoopbackIpAllocator(paths.cluster.podAddresses);
    this.csi = csiLayout(join(paths.state, 'csi'));
    this.writers = new VolumeWriters(this.csi);
    this.records = new ProcessRecords(dirs.processes);
    this.podsDir = dirs.pods;
    this.socketsDir = dirs.sockets;
    this.podPath = podPath(paths.cache);
    this.apiServerEnv = apiServerEnv(config);
    const core = this.core;
    const orUndefined = async <T>(read: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await read();
      } catch (error) {
        if (statusCode(error) === 404) return undefined;
        throw error;
      }
    };
    this.sources = {
      secret: (namespace, name) => orUndefined(() => core.readNamespacedSecret({ namespace, name })),
      configMap: (namespace, name) => orUndefined(() => core.readNamespacedConfigMap({ namespace, name })),
      claim: (namespace, name) => orUndefined(() => core.readNamespacedPersistentVolumeClaim({ namespace, name })),
      volume: (name) => orUndefined(() => core.readPersistentVolume({ name })),
      serviceAccountToken: (pod, source) => serviceAccountToken(core, pod, source),
    };
  }

  async start(): Promise<void> {
    await this.records.stopOrphans(this.log);
    VolumeWriters.clearAll(this.csi);
    rmSync(this.podsDir, { recursive: true, force: true });
    rmSync(this.socketsDir, { recursive: true, force: true });

    const nodes = this.watch<k8s.V1Node>('/api/v1/nodes', () => this.core.listNode());
    const onNode = (node: k8s.V1Node) => {
      this.kwokNodes.set(node.metadata!.name!, node.metadata?.annotations?.[KWOK_NODE_ANNOTATION] !== undefined);
    };
    nodes.on('add', onNode);
    nodes.on('update', onNode);
    await nodes.start();

    const services = this.watch<k8s.V1Service>('/api/v1/services', () => this.core.listServiceForAllNamespaces());
    const onService = (service: k8s.V1Service) => {
      this.services.set(`${service.metadata?.namespace}/${service.metadata?.name}`, service);
      this.directoryChanged();
    };
    services.on('add', onService);
    services.on('update', onService);
    services.on('delete', (service) => {
      this.services.delete(`${service.metadata?.namespace}/${service.metadata?.name}`);
      this.directoryChanged();
    });
    await services.start();

    const pods = this.watch<k8s.V1Pod>('/api/v1/pods', () => this.core.listPodForAllNamespaces());
    pods.on('add', (pod) => this.onPod(pod));
    pods.on('update', (pod) => this.onPod(pod));
    pods.on('delete', (pod) => this.onPodGone(pod));
    await pods.start();
  }

  private watch<T extends k8s.KubernetesObject>(path: string, list: () => Promise<k8s.KubernetesListObject<T>>): k8s.Informer<T> {
    const informer = k8s.makeInformer<T>(this.config, path, list);
    informer.on('error', (error) => {
      if (this.shuttingDown) return;
      this.log(`watch ${path} failed (${(error as Error)?.message ?? error}); restarting in 2 s`);
      setTimeout(() => void informer.start().catch(() => undefined), 2000);
    });
    this.informers.push(informer as unknown as k8s.Informer<k8s.KubernetesObject>);
    return informer;
  }

  private plays(pod: k8s.V1Pod): boolean {
    const node = pod.spec?.nodeName;
    if (!node || pod.metadata?.annotations?.[SKIP_ANNOTATION] === 'skip') return false;
    return this.kwokNodes.get(node) ?? false;
  }

  private onPod(pod: k8s.V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid || this.shuttingDown) return;
    this.podsByUid.set(uid, pod);
    if (!this.plays(pod)) return;
    const worker = this.workers.get(uid);
    if (pod.metadata?.deletionTimestamp) {
      if (!pod.metadata.finalizers?.includes(POD_FINALIZER) || this.releasing.has(uid)) return;
      this.releasing.add(uid);
      if (worker) {
        void worker.terminate(pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30).then(() => this.release(pod));
      } else {
        void this.release(pod);
      }
      return;
    }
    if (worker || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    const started = new PodWorker(pod, this);
    this.workers.set(uid, started);
    this.log(`${pod.metadata?.namespace}/${pod.metadata?.name}: starting`);
    void started.start();
  }

  private onPodGone(pod: k8s.V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    this.podsByUid.delete(uid);
    const worker = this.workers.get(uid);
    if (worker) void worker.terminate(0).then(() => this.workers.delete(uid));
  }

  /** After its processes stopped: the pod's kwok objects go, then the finalizer, and the pod with it. */
  private async release(pod: k8s.V1Pod): Promise<void> {
    const { namespace, name, uid } = pod.metadata!;
    try {
      await Promise.all([deleteKwokObject(this.custom, 'Exec', pod), deleteKwokObject(this.custom, 'Logs', pod)]);
      await this.removeFinalizer(pod);
      await this.core.deleteNamespacedPod({ namespace: namespace!, name: name!, gracePeriodSeconds: 0 }).catch(() => undefined);
      this.log(`${namespace}/${name}: stopped and released`);
    } catch (error) {
      this.log(`${namespace}/${name}: release failed: ${(error as Error).message}`);
    } finally {
      this.workers.delete(uid!);
      this.releasing.delete(uid!);
    }
  }

  private async removeFinalizer(pod: k8s.V1Pod): Promise<void> {
    const { namespace, name } = pod.metadata!;
    for (let attempt = 0; attempt < 10; attempt++) {
      let current: k8s.V1Pod;
      try {
        current = await this.core.readNamespacedPod({ namespace: namespace!, name: name! });
      } catch (error) {
        if (statusCode(error) === 404) return;
        throw error;
      }
      if (current.metadata?.uid !== pod.metadata?.uid) return;
      const index = current.metadata?.finalizers?.indexOf(POD_FINALIZER) ?? -1;
      if (index < 0) return;
      try {
        await this.core.patchNamespacedPod(
          {
            namespace: namespace!,
            name: name!,
            body: [
              { op: 'test', path: `/metadata/finalizers/${index}`, value: POD_FINALIZER },
              { op: 'remove', path: `/metadata/finalizers/${index}` },
            ],
          },
          apiOptions(k8s.PatchStrategy.JsonPatch),
        );
        return;
      } catch (error) {
        const code = statusCode(error);
        if (code === 404) return;
        if (code !== 409 && code !== 422) throw error;
        await sleep(100);
      }
    }
  }

  async addFinalizer(pod: k8s.V1Pod): Promise<void> {
    const finalizers = pod.metadata?.finalizers;
    if (finalizers?.includes(POD_FINALIZER)) return;
    await this.core.patchNamespacedPod(
      {
        namespace: pod.metadata!.namespace!,
        name: pod.metadata!.name!,
        body: [
          { op: 'test', path: '/metadata/uid', value: pod.metadata!.uid },
          finalizers ? { op: 'add', path: '/metadata/finalizers/-', value: POD_FINALIZER } : { op: 'add', path: '/metadata/finalizers', value: [POD_FINALIZER] },
        ],
      },
      apiOptions(k8s.PatchStrategy.JsonPatch),
    );
  }

  async patchStatus(pod: k8s.V1Pod, patch: object): Promise<void> {
    await this.core.patchNamespacedPodStatus(
      { namespace: pod.metadata!.namespace!, name: pod.metadata!.name!, body: patch },
      apiOptions(k8s.PatchStrategy.MergePatch),
    );
  }

  async waitForKwokRunning(uid: string): Promise<void> {
    await waitUntil(`kwok to mark pod ${uid} Running`, () => (this.podsByUid.get(uid)?.status?.phase ?? 'Pending') !== 'Pending', 30_000).catch(
      (error: Error) => this.log(error.message),
    );
  }

  currentPod(uid: string): k8s.V1Pod | undefined {
    return this.podsByUid.get(uid);
  }

  servicesList(): k8s.V1Service[] {
    return [...this.services.values()];
  }

  playedPods(): PlayedPod[] {
    return [...this.workers.values()].flatMap((worker) => (worker.played ? [worker.played] : []));
  }

  directoryChanged(): void {
    if (this.directoryTimer) return;
    this.directoryTimer = setTimeout(() => {
      this.directoryTimer = undefined;
      for (const worker of this.workers.values()) worker.writeHostsFile();
    }, 100);
  }

  /** stack:down: every server stops cleanly; pods keep their finalizer and start again with the runtime. */
  async stop(): Promise<void> {
    this.shuttingDown = true;
    await Promise.all(this.informers.map((informer) => informer.stop().catch(() => undefined)));
    await Promise.all([...this.workers.values()].map((worker) => worker.terminate(5)));
  }
}
