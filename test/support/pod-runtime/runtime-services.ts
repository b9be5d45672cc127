import type * as k8s from '@kubernetes/client-node';
import type { StackPaths } from '../../../scripts/stack/paths.ts';
import type { CsiLayout } from '../csi-driver/layout.ts';
import type { ProcessRecords } from './child-process.ts';
import type { LoopbackIpAllocator } from './loopback-ip.ts';
import type { VolumeSources } from './pod-volumes.ts';
import type { PlayedPod } from './service-directory.ts';
import type { VolumeWriters } from './volume-writers.ts';

/** What a PodWorker needs from the runtime around it; one instance is shared by all workers. */
export interface RuntimeServices {
  paths: StackPaths;
  custom: k8s.CustomObjectsApi;
  sources: VolumeSources;
  csi: CsiLayout;
  writers: VolumeWriters;
  records: ProcessRecords;
  ips: LoopbackIpAllocator;
  volumeLocks: VolumeLocks;
  /** `<state>/pod-runtime/pods`: one directory per pod (logs, hosts file, emptyDirs, overlays). */
  podsDir: string;
  /** Short directory for Unix sockets (their paths are limited to 107 bytes). */
  socketsDir: string;
  /** The PATH containers get: the host's, then the stack's built tools. */
  podPath: string;
  /** KUBERNETES_SERVICE_HOST/PORT: where in-cluster clients find the API server (in-cluster.ts). */
  apiServerEnv: Record<string, string>;
  log(line: string): void;
  currentPod(uid: string): k8s.V1Pod | undefined;
  servicesList(): k8s.V1Service[];
  playedPods(): PlayedPod[];
  /** A pod became ready or went away: Service names and hosts files follow. */
  directoryChanged(): void;
  addFinalizer(pod: k8s.V1Pod): Promise<void>;
  patchStatus(pod: k8s.V1Pod, patch: object): Promise<void>;
  /** kwok's pod-ready stage marks a pod Running; a status written before it would be overwritten. */
  waitForKwokRunning(uid: string): Promise<void>;
}

/**
 * One database server per data directory: a pod that runs a database on a volume waits until the previous
 * holder of that volume (its StatefulSet predecessor, shutting down) has released it.
 */
export class VolumeLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async acquire(volumeHandles: string[]): Promise<() => void> {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolveHeld) => {
      release = resolveHeld;
    });
    const previous = volumeHandles.map((handle) => this.tails.get(handle));
    for (const handle of volumeHandles) this.tails.set(handle, held);
    await Promise.all(previous);
    return () => {
      release();
      for (const handle of volumeHandles) if (this.tails.get(handle) === held) this.tails.delete(handle);
    };
  }
}
