/**
 * The Application contract shared by the spec loader, the application workflows, their activities, the CLI and
 * the catalog. Pure types and constants: workflow code imports this file. Everything here may appear in workflow
 * history, so nothing here ever holds a Secret's value (captured Secrets travel only inside kopia, encrypted).
 * Documented in docs/applications.md.
 */
import type { JsonObject, JsonValue } from '../json.ts';
import type { ComponentRestorePoint, RestorePoint } from '../location/restore-point.ts';
import type { RestorePointRef, RunRequester } from '../run/types.ts';

export const APPLICATION_API_VERSION = 'cairn.io/v1alpha1';
export const DEFAULT_CONCURRENCY = 9;
/** Label on ConfigMaps that hold an Application spec under the key `application.yaml`. */
export const APPLICATION_LABEL = 'cairn.io/application';
/**
 * Cairn's own blueprint (blueprints/cairn-volume.yaml) for consistency groups: group snapshot, per-component
 * volume export and restore. Names with this prefix always resolve to Cairn's copy.
 */
export const GROUP_BLUEPRINT = 'cairn-volume';
/** The two actions a component's blueprint needs to take part in a consistency group. */
export const GROUP_ACTIONS = ['quiesce', 'unquiesce'] as const;
export const RESERVED_BLUEPRINT_PREFIX = 'cairn-';

/** `kind: Application`: what an application is made of and how to back it up and bring it back. */
export interface ApplicationSpec {
  apiVersion: typeof APPLICATION_API_VERSION;
  kind: 'Application';
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    /** The namespace the application runs in (the source of backups). */
    namespace: string;
    /** Location profile name; default: the embedded location. */
    profile?: string;
    components: ComponentSpec[];
    /** Which of the namespace's resources are captured besides the components' workloads. */
    resources?: ResourceSelection;
    /** Components backed up at once (default 9); restores use the same bound. */
    concurrency?: number;
    /** Quiesce every component, snapshot them all, then unquiesce all, before any export. */
    consistencyGroup?: boolean;
    /** Applied on every restore of this application; a restore's own transforms are merged over them. */
    transforms?: TransformSpec;
    /** What a restore does with an object that already exists (default `skip`). */
    existingResources?: ExistingPolicy;
    retention?: RetentionPolicy;
  };
}

export interface ComponentSpec {
  /** DNS label, unique in the application. */
  name: string;
  workload: { kind: 'StatefulSet' | 'Deployment'; name: string };
  /** A blueprint name (worker's directories or labelled ConfigMaps). Absent: a stateless component (resources only). */
  blueprint?: string;
  /** Passed as `options.strategy` to the blueprint (`logical` or `snapshot`). */
  strategy?: string;
  /** Blueprint options (Secret *names* only, never values). */
  options?: JsonObject;
  /** Components that must be restored and ready before this one starts. */
  dependsOn?: string[];
  readiness?: ReadinessSpec;
}

export interface ReadinessSpec {
  /** Wait for the workload's ready replicas (default true). */
  workload?: boolean;
  /** Run the blueprint's `validate` action after the restore (default true when the blueprint has one). */
  validate?: boolean;
  /** How long readiness may take before the restore fails (default `10m`). */
  timeout?: string;
}

export interface ResourceSelection {
  /** Kinds (`ConfigMap`, `Ingress`, `widgets.example.com`) to capture; default: every namespaced kind. */
  includeKinds?: string[];
  excludeKinds?: string[];
  /** A Kubernetes label selector (`app.kubernetes.io/part-of=shop`); default: everything in the namespace. */
  labelSelector?: string;
  /** Capture the cluster-scoped objects the namespace's resources use (StorageClasses, CRDs); default true. */
  clusterScoped?: boolean;
}

export type ExistingPolicy = 'skip' | 'update' | 'fail';

/** RFC 6902 JSON Patch operation. */
export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: JsonValue;
  from?: string;
}

export interface TransformSpec {
  /** Source namespace → destination namespace. */
  namespaces?: Record<string, string>;
  /** Source StorageClass → destination StorageClass (PVCs and StatefulSet volumeClaimTemplates). */
  storageClasses?: Record<string, string>;
  labels?: { set?: Record<string, string>; remove?: string[] };
  annotations?: { set?: Record<string, string>; remove?: string[] };
  /** JSON-patch rules by kind and name (a `*` glob), applied in order. */
  patches?: Array<{ kind?: string; name?: string; operations: JsonPatchOperation[] }>;
  /** Ingress host rewrite: exact host or a `*.suffix` pattern → replacement (`*.shop.example` → `*.dr.example`). */
  ingressHosts?: Record<string, string>;
  services?: {
    /** Drop nodePorts so the destination cluster assigns its own (default true). */
    dropNodePorts?: boolean;
    /** Change every Service of this type to another (e.g. LoadBalancer → ClusterIP in a drill). */
    type?: Record<string, string>;
    /** Annotations removed from Services (cloud load-balancer annotations); `*` suffix globs. */
    removeAnnotations?: string[];
  };
}

/** Keep the last N and/or the newest of each of the last N hours/days/weeks/months/years (GFS). */
export interface RetentionPolicy {
  keepLast?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
}

/** Where a workflow gets an Application: a name (worker's directories, then labelled ConfigMaps), YAML, or a parsed spec. */
export type ApplicationSource = { name: string; namespace?: string } | { inline: string; file?: string } | { spec: ApplicationSpec };

/** One captured object, by identity only (the object itself is inside kopia). */
export interface ResourceItem {
  apiVersion: string;
  kind: string;
  name: string;
  /** Absent for cluster-scoped objects. */
  namespace?: string;
}

/** The application's Kubernetes resources as one kopia snapshot (a bundle of JSON objects, Secrets included). */
export interface CapturedResources {
  snapshotID: string;
  items: ResourceItem[];
  /** Objects per kind, for reports. */
  kinds: Record<string, number>;
}

export interface CaptureResourcesInput {
  workflowId: string;
  runTime: string;
  /** The repository key (the Application's name). */
  application: string;
  profile?: string;
  namespace: string;
  selection: ResourceSelection;
}

export interface RestoreResourcesInput {
  workflowId: string;
  application: string;
  profile?: string;
  snapshotID: string;
  transforms: TransformSpec;
  existing: ExistingPolicy;
  /** Restore only these items (after selection by `stage`); absent: all of the stage. */
  only?: ResourceItem[];
  /**
   * `foundation`: everything but workloads and custom resources (cluster-scoped first, then namespaces,
   * ServiceAccounts, RBAC, ConfigMaps, Secrets, PVCs, Services, ...). `workloads`: the workloads named in
   * `only` (a component's). `rest`: workloads of no component and custom resources, last.
   */
  stage: 'foundation' | 'workloads' | 'rest';
  /** Workloads belonging to components: excluded from `rest`. */
  componentWorkloads?: ResourceItem[];
}

export interface RestoreResourcesResult {
  created: ResourceItem[];
  updated: ResourceItem[];
  skipped: ResourceItem[];
}

export interface ApplicationBackupInput {
  application: ApplicationSource;
  /** Overrides spec.profile. */
  profile?: string;
  requestedBy?: RunRequester;
}

export interface ComponentBackupResult {
  name: string;
  /** The component's child runAction, when it has a blueprint. */
  workflowId?: string;
  durationMs: number;
  /** In a consistency group: from the component's quiesce to its unquiesce (empty when its engine holds nothing). */
  quiesceWindowMs?: number;
}

/** How a consistency group's cut was taken. */
export interface ConsistencyGroupResult {
  /** The group snapshot (deleted once every volume was exported). */
  snapshot: string;
  /** `VolumeGroupSnapshot`, or `VolumeSnapshots` requested at once where the cluster has no group API. */
  method: string;
  /** Component → the PVC its quiesce named, which the group cut. */
  pvcs: Record<string, string>;
  /** Set when the group snapshot could not be deleted after the export (the backup itself is complete). */
  leftover?: string;
}

export interface ApplicationBackupResult {
  restorePoint: RestorePointRef;
  components: ComponentBackupResult[];
  consistencyGroup?: ConsistencyGroupResult;
  resources: { count: number; kinds: Record<string, number> };
  durationMs: number;
}

export interface ApplicationRestoreInput {
  /** The Application's name as stored in the location. */
  application: string;
  /** Restore point id; default: the latest. */
  restorePoint?: string;
  profile?: string;
  /** Shortcut for `transforms.namespaces[source] = targetNamespace`. */
  targetNamespace?: string;
  /** Merged over the stored spec's transforms. */
  transforms?: TransformSpec;
  existing?: ExistingPolicy;
  /** Single-item restore: only these components and/or resources. */
  only?: { components?: string[]; resources?: ResourceItem[] };
  concurrency?: number;
  requestedBy?: RunRequester;
  /** Start every component at once, as a flat restore would: only to demonstrate why order matters. */
  ignoreDependencies?: boolean;
}

export interface ComponentRestoreResult {
  name: string;
  /** Milliseconds from the restore's start. */
  startedAtMs: number;
  readyAtMs: number;
  workflowId?: string;
  validated: boolean;
}

export interface ApplicationRestoreResult {
  restorePoint: string;
  namespace: string;
  /** Recovery time: restore start → every component ready. */
  rtoMs: number;
  components: ComponentRestoreResult[];
  resources: { created: number; updated: number; skipped: number };
}

export interface DrillInput {
  application: string;
  restorePoint?: string;
  profile?: string;
  /** Suffix of the isolated namespace (default `drill-<short run id>`). */
  suffix?: string;
  requestedBy?: RunRequester;
  /** Leave the drill namespace in place for a person to inspect (`cairn drill --keep`); delete it by hand after. */
  keep?: boolean;
}

export interface DrillCheck {
  name: string;
  passed: boolean;
  detail?: string;
}

export interface DrillReport {
  application: string;
  restorePoint: string;
  namespace: string;
  rtoMs: number;
  checks: DrillCheck[];
  dataVerified: boolean;
  cleanedUp: boolean;
  passed: boolean;
}

// --- DR drill (drillApplication, activities/application/drill.ts) ---

/** On a drill's namespace: the drill's id (its suffix); Cairn deletes only namespaces carrying it. */
export const DRILL_LABEL = 'cairn.io/drill';
/** On a drill's namespace: the application drilled. */
export const DRILL_OF_LABEL = 'cairn.io/drill-of';

export interface CreateDrillNamespaceInput {
  /** `<source namespace>-<suffix>`. */
  namespace: string;
  /** The drill's id (the suffix), the value of DRILL_LABEL. */
  drill: string;
  application: string;
  sourceNamespace: string;
  workflowId: string;
  /**
   * The drill's requester, already allowed to restore the source namespace: bound to the restore operator role
   * in the drill namespace only, so the drill's own restore passes the worker's authorization there.
   */
  requestedBy?: RunRequester;
}

export interface InspectDrillSourceInput {
  namespace: string;
  /** The restore point's namespaced items. */
  items: ResourceItem[];
}

export interface DrillSourceState {
  /** `<kind>/<name>` → resourceVersion (`absent` when the object does not exist). */
  resourceVersions: Record<string, string>;
  /** Hosts of the source's Ingresses, rewritten for the drill so no two Ingresses claim one host. */
  ingressHosts: string[];
}

export interface DeleteDrillNamespaceInput {
  namespace: string;
  drill: string;
  /** How long to wait for the namespace to be gone. */
  timeoutMs: number;
}

/** The drill's own activities (next to ApplicationActivities, whose readApplicationRestorePoint it uses too). */
export interface DrillActivities {
  /** The isolated namespace, labelled as this drill's, with deny-all NetworkPolicies, before anything is restored. */
  createDrillNamespace(input: CreateDrillNamespaceInput): Promise<{ created: boolean }>;
  inspectDrillSource(input: InspectDrillSourceInput): Promise<DrillSourceState>;
  /** Deletes the drill's namespace (only one labelled as this drill's; `skipped` says why not) and waits until it is gone. */
  deleteDrillNamespace(input: DeleteDrillNamespaceInput): Promise<{ deleted: boolean; skipped?: string }>;
}

/** How a source object is named in DrillSourceState (`Deployment/api`, `Ingress.networking.k8s.io/web`). */
export function sourceKey(item: ResourceItem): string {
  const group = item.apiVersion.includes('/') ? item.apiVersion.slice(0, item.apiVersion.indexOf('/')) : '';
  return `${item.kind}${group ? `.${group}` : ''}/${item.name}`;
}

export interface LoadApplicationInput {
  source: ApplicationSource;
}

export interface WaitWorkloadReadyInput {
  namespace: string;
  kind: 'StatefulSet' | 'Deployment';
  name: string;
  timeoutMs: number;
}

export interface ReadApplicationRestorePointInput {
  application: string;
  /** Default: the latest application restore point. */
  id?: string;
  profile?: string;
}

/**
 * Activities of the application workflows (implemented under activities/application/, registered next to the
 * run activities). Each helper area adds its own methods here.
 */
export interface AuthorizeApplicationInput {
  action: 'backup' | 'restore';
  application: string;
  /** The namespace backed up, or restored into. */
  namespace: string;
  requestedBy?: RunRequester;
}

export interface ApplicationActivities extends DrillActivities {
  /** Checks the requester (SubjectAccessReview) when the worker enforces authorization; a denial is final. */
  authorizeApplication(input: AuthorizeApplicationInput): Promise<void>;
  /** Parses and validates a spec (errors name the file and line); the spec then rides in history. */
  loadApplication(input: LoadApplicationInput): Promise<ApplicationSpec>;
  captureResources(input: CaptureResourcesInput): Promise<CapturedResources>;
  restoreResources(input: RestoreResourcesInput): Promise<RestoreResourcesResult>;
  waitWorkloadReady(input: WaitWorkloadReadyInput): Promise<{ readyReplicas: number }>;
  /** Blueprint name → YAML, found as a run would find them; backups run and store exactly these sources. */
  resolveBlueprints(input: ResolveBlueprintsInput): Promise<Record<string, string>>;
  /** The one restore point of an application backup, written last and whole. */
  writeApplicationRestorePoint(input: WriteApplicationRestorePointInput): Promise<RestorePointRef>;
  /** An application restore point from the location alone (the latest when no id is given). */
  readApplicationRestorePoint(input: ReadApplicationRestorePointInput): Promise<RestorePoint>;
}

// --- Application workflows (backupApplication, restoreApplication) ---

/** What the `progress` query of backupApplication and restoreApplication answers (the CLI shows it). */
export interface ApplicationProgress {
  operation: 'backup' | 'restore';
  application: string;
  stage: 'loading' | 'resources' | 'quiesce' | 'group snapshot' | 'unquiesce' | 'export' | 'foundation' | 'components' | 'rest' | 'restore point' | 'done' | 'failed';
  components: ComponentProgress[];
}

export interface ComponentProgress {
  name: string;
  state: 'pending' | 'quiescing' | 'quiesced' | 'resources' | 'waiting ready' | 'data' | 'validating' | 'running' | 'ready' | 'succeeded' | 'failed' | 'cancelled' | 'not started';
  workflowId?: string;
  error?: string;
}

export interface ResolveBlueprintsInput {
  names: string[];
}

/** One component's backup as the application restore point needs it. */
export interface ComponentBackupRecord extends ComponentRestorePoint {
  /** The child run's phase outputs: the snapshots they name and their sizes go into the restore point. */
  phaseOutputs: Record<string, Record<string, JsonValue>>;
}

export interface WriteApplicationRestorePointInput {
  workflowId: string;
  runId: string;
  /** The backup's start time, RFC 3339 (the restore point's id derives from it). */
  runTime: string;
  spec: ApplicationSpec;
  profile?: string;
  resources: CapturedResources;
  components: ComponentBackupRecord[];
  blueprints: Record<string, string>;
}
