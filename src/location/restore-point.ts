/**
 * Restore-point manifests: one plain JSON file per successful backup, in the location next to the data, so a
 * fresh Temporal and a fresh cluster can list and restore from the location alone. A manifest says what was
 * backed up and where its data is (kopia snapshot IDs, artifacts); it never holds Secrets or resource specs,
 * which go inside kopia, encrypted. Format: schemas/restore-point.schema.json, documented in docs/locations.md.
 */
import { createHash } from 'node:crypto';
import type { JsonValue } from '../json.ts';
import type { ArtifactValue } from '../run/types.ts';
import { schemaValidator } from '../blueprint/schema-check.ts';
import type { ApplicationSpec, ResourceItem } from '../application/types.ts';

export const RESTORE_POINT_FORMAT = 1;

export interface RestorePointSnapshot {
  /** kopia snapshot (manifest) ID. */
  id: string;
  /** The phase output or artifact that named it: `phases.<phase>.<key>` or `artifacts.<name>`. */
  from: string;
  /** kopia's source of the snapshot, `user@host:/path`; absent when the repository did not list it. */
  source?: string;
  /** Bytes of the snapshot's content as kopia counted them. */
  logicalBytes?: number;
}

export interface RestorePoint {
  apiVersion: 'cairn.io/v1alpha1';
  kind: 'RestorePoint';
  formatVersion: typeof RESTORE_POINT_FORMAT;
  /** `<start time, compact UTC>-<8 hex of the run>`: sorts by time as text. */
  id: string;
  application: string;
  /** The profile the run used (its name; the location is where this file is). */
  profile: string;
  /** `<kind>/<namespace>/<name>`. */
  target: string;
  action: string;
  blueprint: string;
  planHash: string;
  run: { workflowId: string; runId: string };
  startTime: string;
  endTime: string;
  /** The kopia repository holding the data, relative to the location root. */
  repository: string;
  /** The run's output artifacts, as `--artifacts` of a restore takes them. */
  artifacts: Record<string, ArtifactValue>;
  snapshots: RestorePointSnapshot[];
  size: { logicalBytes: number; storedBytes: number };
  cairnVersion: string;
  /** `application`: the restore point of a whole Application (target `namespace/<ns>`, blueprint `application`). */
  scope?: 'component' | 'application';
  /** An Application's spec as it was backed up, so a fresh worker restores from the location alone. */
  spec?: ApplicationSpec;
  /** Per component of an Application: its blueprint run's artifacts (`snapshots` lists all their snapshots too). */
  components?: ComponentRestorePoint[];
  /** The Application's Kubernetes resources: one kopia snapshot (Secrets inside, encrypted) and its index. */
  resources?: { snapshotID: string; items: ResourceItem[]; kinds: Record<string, number> };
  /** Blueprint sources (name → YAML) the components used, so a restore does not depend on the worker's copies. */
  blueprints?: Record<string, string>;
}

export interface ComponentRestorePoint {
  name: string;
  /** `<kind>/<namespace>/<name>` of the component's workload at backup time. */
  target: string;
  blueprint?: string;
  /** The blueprint whose `restore` puts the data back when it is not `blueprint`: `cairn-volume` in a consistency group. */
  dataBlueprint?: string;
  /** In a consistency group: how long the component was quiesced. */
  quiesceWindowMs?: number;
  strategy?: string;
  planHash?: string;
  workflowId?: string;
  artifacts: Record<string, ArtifactValue>;
}

/** Sortable by time as text; the same for every attempt of one run (start time and run identity only). */
export function restorePointId(startTime: string, workflowId: string, runId: string): string {
  const compact = new Date(startTime).toISOString().replace(/[-:]/g, '');
  return `${compact}-${createHash('sha256').update(`${workflowId}/${runId}`).digest('hex').slice(0, 8)}`;
}

export const RESTORE_POINT_ID = /^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{8}$/;

/** Output keys through which functions name kopia snapshots (BackupStream, CopyVolumeData: snapshotID; BackupData: backupID). */
const SNAPSHOT_OUTPUTS = ['snapshotID', 'backupID'];
const KOPIA_ID = /^k?[0-9a-f]{32,64}$/;

/** The kopia snapshots a run's outputs name, each once, in a stable order. */
export function snapshotReferences(phaseOutputs: Record<string, Record<string, JsonValue>>, artifacts: Record<string, ArtifactValue>): { id: string; from: string }[] {
  const found = new Map<string, string>();
  for (const phase of Object.keys(phaseOutputs).sort()) {
    for (const key of SNAPSHOT_OUTPUTS) {
      const value = phaseOutputs[phase]![key];
      if (typeof value === 'string' && KOPIA_ID.test(value) && !found.has(value)) found.set(value, `phases.${phase}.${key}`);
    }
  }
  for (const name of Object.keys(artifacts).sort()) {
    const artifact = artifacts[name]!;
    const candidates = [artifact.KopiaSnapshot, ...SNAPSHOT_OUTPUTS.map((key) => artifact.KeyValue[key])];
    for (const value of candidates) if (value && KOPIA_ID.test(value) && !found.has(value)) found.set(value, `artifacts.${name}`);
  }
  return [...found].map(([id, from]) => ({ id, from }));
}

/** Sums the byte counts functions report (`logicalBytes`, `storedBytes`, Kanister's `size`). */
export function outputSizes(phaseOutputs: Record<string, Record<string, JsonValue>>): RestorePoint['size'] {
  let logicalBytes = 0;
  let storedBytes = 0;
  for (const outputs of Object.values(phaseOutputs)) {
    const logical = Number(outputs.logicalBytes ?? outputs.size ?? 0);
    const stored = Number(outputs.storedBytes ?? 0);
    if (Number.isFinite(logical)) logicalBytes += logical;
    if (Number.isFinite(stored)) storedBytes += stored;
  }
  return { logicalBytes, storedBytes };
}

/** Parses a manifest read from a location; an error names the file and the first problems. */
export function parseRestorePoint(text: string, file: string): RestorePoint {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not JSON: ${(error as Error).message}`);
  }
  const validate = schemaValidator('restore-point.schema.json');
  if (!validate(value)) {
    const problems = (validate.errors ?? []).slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`);
    throw new Error(`${file}: not a restore point (format ${RESTORE_POINT_FORMAT}): ${problems.join('; ')}`);
  }
  return value as RestorePoint;
}
