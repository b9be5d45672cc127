import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { type PodAddresses, fieldValue, type EnvSources } from './pod-env.ts';

/** Where a pod volume's files are on this machine. */
export interface ResolvedVolume {
  name: string;
  hostPath: string;
  /** The CSI volume behind a PVC: its writers file lists the processes that have it mounted. */
  volumeHandle?: string;
  /** The PVC's name, for messages. */
  claimName?: string;
}

/** One entry of a container's mount view: `hostPath` appears at `mountPath`. */
export interface ContainerMount {
  mountPath: string;
  hostPath: string;
  readOnly: boolean;
  volumeName: string;
  volumeHandle?: string;
}

export interface VolumeSources extends EnvSources {
  claim(namespace: string, name: string): Promise<k8s.V1PersistentVolumeClaim | undefined>;
  volume(name: string): Promise<k8s.V1PersistentVolume | undefined>;
  /** A projected ServiceAccount token for the pod (in-cluster.ts); without it none is written. */
  serviceAccountToken?(pod: k8s.V1Pod, source: k8s.V1ServiceAccountTokenProjection): Promise<string>;
}

/** The volume is not usable yet (claim unbound, PV without a handle): try again later. */
export class VolumeNotReadyError extends Error {
  override name = 'VolumeNotReadyError';
}

export interface VolumeContext {
  sources: VolumeSources;
  /** Directory of the CSI driver's volumes: `<csiVolumes>/<volumeHandle>/`. */
  csiVolumes: string;
  /** Per-pod directory for emptyDir and for files materialised from ConfigMaps, Secrets, the downward API. */
  podVolumes: string;
  addresses: PodAddresses;
}

export async function resolveVolumes(pod: k8s.V1Pod, context: VolumeContext): Promise<ResolvedVolume[]> {
  const resolved: ResolvedVolume[] = [];
  for (const volume of pod.spec?.volumes ?? []) resolved.push(await resolveVolume(pod, volume, context));
  return resolved;
}

async function resolveVolume(pod: k8s.V1Pod, volume: k8s.V1Volume, context: VolumeContext): Promise<ResolvedVolume> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const local = join(context.podVolumes, volume.name);
  if (volume.persistentVolumeClaim) return resolveClaim(namespace, volume.name, volume.persistentVolumeClaim.claimName, context);
  if (volume.hostPath) {
    if (volume.hostPath.type === 'DirectoryOrCreate') mkdirSync(volume.hostPath.path, { recursive: true });
    return { name: volume.name, hostPath: volume.hostPath.path };
  }
  mkdirSync(local, { recursive: true });
  const files: Record<string, string | Buffer> = {};
  if (volume.configMap) Object.assign(files, await configMapFiles(namespace, volume.configMap, context.sources));
  if (volume.secret) Object.assign(files, await secretFiles(namespace, volume.secret, context.sources));
  if (volume.downwardAPI) Object.assign(files, downwardFiles(pod, volume.downwardAPI.items ?? [], context.addresses));
  for (const source of volume.projected?.sources ?? []) {
    if (source.configMap) Object.assign(files, await configMapFiles(namespace, source.configMap, context.sources));
    if (source.secret) Object.assign(files, await secretFiles(namespace, { ...source.secret, secretName: source.secret.name }, context.sources));
    if (source.downwardAPI) Object.assign(files, downwardFiles(pod, source.downwardAPI.items ?? [], context.addresses));
    if (source.serviceAccountToken && context.sources.serviceAccountToken) {
      files[source.serviceAccountToken.path] = await context.sources.serviceAccountToken(pod, source.serviceAccountToken);
    }
  }
  for (const [path, content] of Object.entries(files)) {
    const target = join(local, normalize(path));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
  return { name: volume.name, hostPath: local };
}

async function resolveClaim(namespace: string, volumeName: string, claimName: string, context: VolumeContext): Promise<ResolvedVolume> {
  const claim = await context.sources.claim(namespace, claimName);
  if (claim === undefined) throw new VolumeNotReadyError(`persistentvolumeclaim "${claimName}" not found`);
  const pvName = claim.spec?.volumeName;
  if (!pvName || claim.status?.phase !== 'Bound') throw new VolumeNotReadyError(`persistentvolumeclaim "${claimName}" is not bound`);
  const pv = await context.sources.volume(pvName);
  if (pv === undefined) throw new VolumeNotReadyError(`persistentvolume "${pvName}" not found`);
  const handle = pv.spec?.csi?.volumeHandle;
  if (handle) return { name: volumeName, claimName, volumeHandle: handle, hostPath: join(context.csiVolumes, handle) };
  const path = pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
  if (path) return { name: volumeName, claimName, hostPath: path };
  throw new VolumeNotReadyError(`persistentvolume "${pvName}" is neither a CSI, hostPath nor local volume`);
}

type KeyItems = { items?: k8s.V1KeyToPath[] };

function pickItems(data: Record<string, string | Buffer>, items: k8s.V1KeyToPath[] | undefined): Record<string, string | Buffer> {
  if (!items || items.length === 0) return data;
  const picked: Record<string, string | Buffer> = {};
  for (const item of items) if (data[item.key] !== undefined) picked[item.path] = data[item.key]!;
  return picked;
}

async function configMapFiles(
  namespace: string,
  source: KeyItems & { name?: string; optional?: boolean },
  sources: EnvSources,
): Promise<Record<string, string | Buffer>> {
  const map = source.name ? await sources.configMap(namespace, source.name) : undefined;
  if (map === undefined) {
    if (source.optional) return {};
    throw new VolumeNotReadyError(`configmap "${source.name}" not found`);
  }
  const data: Record<string, string | Buffer> = { ...map.data };
  for (const [key, value] of Object.entries(map.binaryData ?? {})) data[key] = Buffer.from(value, 'base64');
  return pickItems(data, source.items);
}

async function secretFiles(
  namespace: string,
  source: KeyItems & { secretName?: string; optional?: boolean },
  sources: EnvSources,
): Promise<Record<string, string | Buffer>> {
  const secret = source.secretName ? await sources.secret(namespace, source.secretName) : undefined;
  if (secret === undefined) {
    if (source.optional) return {};
    throw new VolumeNotReadyError(`secret "${source.secretName}" not found`);
  }
  const data: Record<string, string | Buffer> = {};
  for (const [key, value] of Object.entries(secret.data ?? {})) data[key] = Buffer.from(value, 'base64');
  return pickItems(data, source.items);
}

function downwardFiles(pod: k8s.V1Pod, items: k8s.V1DownwardAPIVolumeFile[], addresses: PodAddresses): Record<string, string> {
  const files: Record<string, string> = {};
  for (const item of items) {
    if (item.fieldRef) {
      const path = item.fieldRef.fieldPath;
      files[item.path] =
        path === 'metadata.labels' || path === 'metadata.annotations'
          ? Object.entries((path === 'metadata.labels' ? pod.metadata?.labels : pod.metadata?.annotations) ?? {})
              .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
              .join('\n')
          : fieldValue(pod, path, addresses);
    } else if (item.resourceFieldRef) {
      files[item.path] = '0';
    }
  }
  return files;
}

/** A container's `volumeMounts` against the pod's resolved volumes (`subPath` included; `subPathExpr` is not). */
export function containerMounts(container: k8s.V1Container, volumes: ResolvedVolume[]): ContainerMount[] {
  const mounts: ContainerMount[] = [];
  for (const mount of container.volumeMounts ?? []) {
    const volume = volumes.find((candidate) => candidate.name === mount.name);
    if (volume === undefined) continue;
    const hostPath = mount.subPath ? join(volume.hostPath, normalize(mount.subPath)) : volume.hostPath;
    mounts.push({
      mountPath: mount.mountPath,
      hostPath,
      readOnly: mount.readOnly ?? false,
      volumeName: volume.name,
      ...(volume.volumeHandle ? { volumeHandle: volume.volumeHandle } : {}),
    });
  }
  return mounts;
}

/** The host directory behind `podPath` in a container's view: the deepest mount containing it, else undefined. */
export function hostPathFor(podPath: string, mounts: ContainerMount[]): string | undefined {
  const normalized = normalize(podPath);
  let best: ContainerMount | undefined;
  for (const mount of mounts) {
    const mountPath = normalize(mount.mountPath).replace(/\/$/, '');
    if (normalized === mountPath || normalized.startsWith(`${mountPath}/`)) {
      if (best === undefined || mountPath.length > normalize(best.mountPath).length) best = mount;
    }
  }
  if (best === undefined) return undefined;
  const relative = normalized.slice(normalize(best.mountPath).replace(/\/$/, '').length);
  return join(best.hostPath, relative);
}
