import { rmSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { resumeLeftoverPauses } from './consistent-cut.ts';
import { CSI_DRIVER_NAME, type CsiLayout, volumeDir } from './layout.ts';
import { loadCsiPackage, serviceDefinition } from './proto.ts';
import { CsiError, CsiStore, type GroupSnapshotRecord, type SnapshotRecord, type VolumeRecord, type VolumeSource } from './store.ts';

export const CSI_DRIVER_VERSION = '0.1.0';

/* Request and response shapes as @grpc/proto-loader presents them (keepCase, int64 as strings). */
type Request = Record<string, any>;
type Handler = (request: Request) => Promise<object> | object;

export interface CsiDriver {
  /** `unix://<socket>` */
  endpoint: string;
  store: CsiStore;
  stop(): Promise<void>;
}

export type DriverLog = (line: string) => void;

/**
 * Serves the CSI Identity, Controller and GroupController services on `<root>/csi.sock`. There is no Node service: kwok
 * runs no kubelet to call it, and the pod runtime reads volume directories directly.
 */
export async function startCsiDriver(layout: CsiLayout, protoPath: string, log: DriverLog = () => {}): Promise<CsiDriver> {
  const resumed = resumeLeftoverPauses(layout);
  if (resumed.length > 0) log(`resumed processes a previous run left paused: ${resumed.join(', ')}`);
  const store = new CsiStore(layout);
  const csi = loadCsiPackage(protoPath);
  const server = new grpc.Server();
  server.addService(serviceDefinition(csi, 'Identity'), wrap(identity(), log));
  server.addService(serviceDefinition(csi, 'Controller'), wrap(controller(store), log));
  server.addService(serviceDefinition(csi, 'GroupController'), wrap(groupController(store), log));
  rmSync(layout.socket, { force: true });
  const endpoint = `unix://${layout.socket}`;
  await new Promise<void>((resolveBind, rejectBind) =>
    server.bindAsync(endpoint, grpc.ServerCredentials.createInsecure(), (error) => (error ? rejectBind(error) : resolveBind())),
  );
  return {
    endpoint,
    store,
    // Waits for calls in flight, so that a copy in progress finishes and resumes its writers.
    stop: () => new Promise<void>((resolveStop) => server.tryShutdown(() => resolveStop())),
  };
}

function identity(): Record<string, Handler> {
  return {
    GetPluginInfo: () => ({ name: CSI_DRIVER_NAME, vendor_version: CSI_DRIVER_VERSION }),
    GetPluginCapabilities: () => ({
      capabilities: [{ service: { type: 'CONTROLLER_SERVICE' } }, { service: { type: 'GROUP_CONTROLLER_SERVICE' } }],
    }),
    Probe: () => ({ ready: { value: true } }),
  };
}

const CONTROLLER_CAPABILITIES = [
  'CREATE_DELETE_VOLUME',
  'CREATE_DELETE_SNAPSHOT',
  'LIST_SNAPSHOTS',
  'CLONE_VOLUME',
  'EXPAND_VOLUME',
];

function controller(store: CsiStore): Record<string, Handler> {
  return {
    ControllerGetCapabilities: () => ({
      capabilities: CONTROLLER_CAPABILITIES.map((type) => ({ rpc: { type } })),
    }),

    CreateVolume: async (request) => {
      requireMountCapabilities(request.volume_capabilities);
      const source = volumeSource(request.volume_content_source);
      const record = await store.createVolume({
        name: String(request.name ?? ''),
        capacityBytes: Number(request.capacity_range?.required_bytes ?? 0) || Number(request.capacity_range?.limit_bytes ?? 0),
        parameters: request.parameters ?? {},
        ...(source === undefined ? {} : { source }),
      });
      return { volume: volumeMessage(store.layout, record) };
    },

    DeleteVolume: async (request) => {
      await store.deleteVolume(String(request.volume_id ?? ''));
      return {};
    },

    ValidateVolumeCapabilities: (request) => {
      const record = store.volume(String(request.volume_id ?? ''));
      if (record === undefined) throw new CsiError(grpc.status.NOT_FOUND, `volume ${request.volume_id} does not exist`);
      const capabilities = (request.volume_capabilities ?? []) as Request[];
      if (capabilities.length === 0) throw new CsiError(grpc.status.INVALID_ARGUMENT, 'volume_capabilities is required');
      if (capabilities.some((capability) => capability.block)) {
        return { message: 'only filesystem (mount) volumes are supported' };
      }
      return {
        confirmed: {
          volume_context: request.volume_context ?? {},
          volume_capabilities: capabilities,
          parameters: request.parameters ?? {},
        },
      };
    },

    ControllerExpandVolume: async (request) => {
      const record = await store.expandVolume(
        String(request.volume_id ?? ''),
        Number(request.capacity_range?.required_bytes ?? 0),
      );
      return { capacity_bytes: String(record.capacityBytes), node_expansion_required: false };
    },

    CreateSnapshot: async (request) => {
      const record = await store.createSnapshot({
        name: String(request.name ?? ''),
        sourceVolumeId: String(request.source_volume_id ?? ''),
        parameters: request.parameters ?? {},
      });
      return { snapshot: snapshotMessage(record) };
    },

    DeleteSnapshot: async (request) => {
      await store.deleteSnapshot(String(request.snapshot_id ?? ''));
      return {};
    },

    ListSnapshots: (request) => {
      const wantedId = String(request.snapshot_id ?? '');
      const wantedSource = String(request.source_volume_id ?? '');
      const all = store
        .snapshots()
        .filter((record) => (wantedId === '' || record.snapshotId === wantedId) && (wantedSource === '' || record.sourceVolumeId === wantedSource));
      const start = request.starting_token ? Number(request.starting_token) : 0;
      if (!Number.isInteger(start) || start < 0 || start > all.length) {
        throw new CsiError(grpc.status.ABORTED, `invalid starting_token ${request.starting_token}`);
      }
      const max = Number(request.max_entries ?? 0) || all.length;
      const page = all.slice(start, start + max);
      const next = start + page.length < all.length ? String(start + page.length) : '';
      return { entries: page.map((record) => ({ snapshot: snapshotMessage(record) })), next_token: next };
    },
  };
}

/** VolumeGroupSnapshots: one cut across several volumes (all their writers paused together). */
function groupController(store: CsiStore): Record<string, Handler> {
  const groupMessage = (record: GroupSnapshotRecord) => ({
    group_snapshot_id: record.groupSnapshotId,
    snapshots: record.snapshotIds.map((snapshotId) => {
      const snapshot = store.snapshot(snapshotId);
      if (snapshot === undefined) throw new CsiError(grpc.status.NOT_FOUND, `member snapshot ${snapshotId} is gone`);
      return snapshotMessage(snapshot);
    }),
    creation_time: timestamp(record.creationTime),
    ready_to_use: true,
  });
  return {
    GroupControllerGetCapabilities: () => ({ capabilities: [{ rpc: { type: 'CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT' } }] }),

    CreateVolumeGroupSnapshot: async (request) => {
      const record = await store.createGroupSnapshot({
        name: String(request.name ?? ''),
        sourceVolumeIds: (request.source_volume_ids ?? []).map(String),
        parameters: request.parameters ?? {},
      });
      return { group_snapshot: groupMessage(record) };
    },

    DeleteVolumeGroupSnapshot: async (request) => {
      await store.deleteGroupSnapshot(String(request.group_snapshot_id ?? ''), (request.snapshot_ids ?? []).map(String));
      return {};
    },

    GetVolumeGroupSnapshot: (request) => {
      const record = store.groupSnapshot(String(request.group_snapshot_id ?? ''));
      if (record === undefined) throw new CsiError(grpc.status.NOT_FOUND, `group snapshot ${request.group_snapshot_id} does not exist`);
      return { group_snapshot: groupMessage(record) };
    },
  };
}

function requireMountCapabilities(capabilities: Request[] | undefined): void {
  if (!capabilities || capabilities.length === 0) {
    throw new CsiError(grpc.status.INVALID_ARGUMENT, 'volume_capabilities is required');
  }
  if (capabilities.some((capability) => capability.block)) {
    throw new CsiError(grpc.status.INVALID_ARGUMENT, 'block volumes are not supported: a volume is a directory');
  }
}

function volumeSource(source: Request | null | undefined): VolumeSource | undefined {
  if (!source) return undefined;
  if (source.snapshot) return { snapshotId: String(source.snapshot.snapshot_id) };
  if (source.volume) return { volumeId: String(source.volume.volume_id) };
  throw new CsiError(grpc.status.INVALID_ARGUMENT, 'unsupported volume_content_source');
}

function volumeMessage(layout: CsiLayout, record: VolumeRecord): object {
  const source = record.source;
  return {
    volume_id: record.volumeId,
    capacity_bytes: String(record.capacityBytes),
    // The directory, for whoever reads a PV's spec.csi.volumeAttributes (the pod runtime, tests).
    volume_context: { path: volumeDir(layout, record.volumeId) },
    ...(source === undefined
      ? {}
      : {
          content_source:
            'snapshotId' in source ? { snapshot: { snapshot_id: source.snapshotId } } : { volume: { volume_id: source.volumeId } },
        }),
  };
}

function snapshotMessage(record: SnapshotRecord): object {
  return {
    snapshot_id: record.snapshotId,
    source_volume_id: record.sourceVolumeId,
    size_bytes: String(record.sizeBytes),
    creation_time: timestamp(record.creationTime),
    ready_to_use: true,
    group_snapshot_id: record.groupSnapshotId ?? '',
  };
}

function timestamp(iso: string): object {
  const millis = Date.parse(iso);
  return { seconds: String(Math.floor(millis / 1000)), nanos: (millis % 1000) * 1_000_000 };
}

/** Turns promise-returning handlers into gRPC unary handlers that log one line per call. */
function wrap(handlers: Record<string, Handler>, log: DriverLog): grpc.UntypedServiceImplementation {
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(handlers)) {
    implementation[method] = (call: grpc.ServerUnaryCall<Request, object>, callback: grpc.sendUnaryData<object>) => {
      const started = performance.now();
      const request = call.request;
      const subject = request.name || request.volume_id || request.snapshot_id || request.group_snapshot_id || request.source_volume_id || '';
      Promise.resolve()
        .then(() => handler(call.request))
        .then(
          (response) => {
            if (!/^Get|Capabilities$|^Probe$/.test(method)) {
              log(`${method} ${subject} ok ${Math.round(performance.now() - started)} ms`);
            }
            callback(null, response);
          },
          (error: unknown) => {
            const code = error instanceof CsiError ? error.code : grpc.status.INTERNAL;
            const message = error instanceof Error ? error.message : String(error);
            log(`${method} ${subject} failed ${grpc.status[code]}: ${message}`);
            callback({ code, details: message });
          },
        );
    };
  }
  return implementation;
}
