/**
 * The contract of retention, repository maintenance and verification: the inputs and results of the
 * `retireRestorePoints` and `verifyRepository` workflows and of their activities (activities/retention/).
 * Pure types: workflow code imports this file. Documented in docs/retention.md.
 */
import type { RetentionPolicy } from '../application/types.ts';
import type { RunRequester } from '../run/types.ts';
import type { RetentionDecision } from './gfs.ts';

/** kopia's maintenance safety: `full` (default) keeps its margins for concurrent writers; `none` is for tests. */
export type MaintenanceSafety = 'full' | 'none';

export interface RetireInput {
  /** The application (the repository key, `restore-points/<application>/`). */
  application: string;
  /** Location profile; default the embedded location. */
  profile?: string;
  /**
   * Default: the `retention` of the Application spec stored in the application's newest restore point that
   * has one (so a policy declared once in the spec is what schedules enforce); no policy at all is an error.
   */
  policy?: RetentionPolicy;
  /** Plan only: nothing is deleted, no maintenance runs. */
  dryRun?: boolean;
  /**
   * Snapshots carrying Cairn's marks that no manifest names are collected only once older than this (default
   * 24 h): a running backup's snapshots have no manifest until it ends, and must never be taken.
   */
  orphanGraceMs?: number;
  /** kopia full maintenance after the deletes (default: run, safety `full`); `false` skips it. */
  maintenance?: { safety?: MaintenanceSafety } | false;
  requestedBy?: RunRequester;
}

/** Restore points are retired per series: the same scope, target and blueprint (an Application's points form one). */
export interface RetentionSeries {
  /** `<scope> <target> <blueprint>`. */
  key: string;
  keep: RetentionDecision[];
  expire: RetentionDecision[];
}

export interface ExpiringPoint {
  id: string;
  /** Every kopia snapshot the point names (`snapshots`, and an application's resources bundle). */
  snapshotIDs: string[];
}

export interface OrphanSnapshot {
  id: string;
  startTime: string;
  /** Why it counts as Cairn's (`pin cairn`, `tag cairn-phase`, ...). */
  mark: string;
}

export interface RetirePlan {
  application: string;
  profile: string;
  /** The policy applied, and where it came from (`input`, or `spec of restore point <id>`). */
  policy: RetentionPolicy;
  policySource: string;
  series: RetentionSeries[];
  expire: ExpiringPoint[];
  /** Unreferenced Cairn snapshots older than the grace period (an interrupted delete's or a dead run's). */
  orphans: OrphanSnapshot[];
  /** Unreferenced Cairn snapshots still inside the grace period: left alone. */
  youngOrphans: number;
  /** Manifests that could not be read (named, never deleted). */
  problems: string[];
}

export interface DeleteRestorePointInput {
  application: string;
  profile?: string;
  id: string;
  /** From the plan: a retry after the manifest is gone still knows what to delete. */
  snapshotIDs: string[];
}

export interface DeleteRestorePointResult {
  id: string;
  manifestRemoved: boolean;
  deletedSnapshots: string[];
  /** Snapshots another remaining restore point still names: kept. */
  sharedSnapshots: string[];
}

export interface CollectOrphansInput {
  application: string;
  profile?: string;
  snapshotIDs: string[];
  orphanGraceMs: number;
}

export interface MaintenanceInput {
  application: string;
  profile?: string;
  safety: MaintenanceSafety;
}

export interface MaintenanceResult {
  /** Bytes of the repository in the location before and after. */
  storedBytesBefore: number;
  storedBytesAfter: number;
  durationMs: number;
}

export interface RetireResult {
  application: string;
  dryRun: boolean;
  plan: RetirePlan;
  deleted: DeleteRestorePointResult[];
  orphansDeleted: string[];
  maintenance?: MaintenanceResult;
}

export interface VerifyInput {
  application: string;
  profile?: string;
  /** How many restore points to check: the newest one always, the rest spread evenly over the older ones (default all). */
  sample?: number;
  /** Share of files read back in full and checked (kopia `--verify-files-percent`, 0–100, default 10). */
  filesPercent?: number;
  requestedBy?: RunRequester;
}

export interface VerifyFailure {
  restorePoint: string;
  snapshotID: string;
  error: string;
}

export interface VerifyReport {
  application: string;
  profile: string;
  ok: boolean;
  restorePoints: number;
  checkedRestorePoints: string[];
  checkedSnapshots: number;
  filesPercent: number;
  failures: VerifyFailure[];
  /** Manifests that could not be read. */
  problems: string[];
  durationMs: number;
}

export interface RetentionActivities {
  planRetirement(input: RetireInput): Promise<RetirePlan>;
  deleteRestorePoint(input: DeleteRestorePointInput): Promise<DeleteRestorePointResult>;
  collectOrphanSnapshots(input: CollectOrphansInput): Promise<string[]>;
  maintainRepository(input: MaintenanceInput): Promise<MaintenanceResult>;
  verifySnapshots(input: VerifyInput): Promise<VerifyReport>;
}

export const DEFAULT_ORPHAN_GRACE_MS = 24 * 3600 * 1000;
export const DEFAULT_VERIFY_FILES_PERCENT = 10;
