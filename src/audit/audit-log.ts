/**
 * The audit log: one JSON object per line for every start, cancel, restore, restore-point deletion and key
 * rotation — who, what, where, when, outcome — for a SIEM, beside Temporal's history. Lines never carry run
 * options, artifacts, Secret values or tokens: only names (blueprint, action, target, profile, workflow ID) and
 * the requester's user name and groups. `kind: "cairn.audit"` tells them apart from log lines on a shared stream.
 */
import { appendFileSync } from 'node:fs';
import type { RunRequester } from '../run/types.ts';

export type AuditAction =
  | 'run.start'
  | 'run.authorize'
  | 'run.end'
  | 'run.cancel'
  | 'restore'
  | 'restore-point.delete'
  | 'key.rotate';

export type AuditOutcome = 'requested' | 'allowed' | 'denied' | 'succeeded' | 'failed' | 'cancelled';

export interface AuditRecord {
  /** Who: the requester as the API server authenticated them (never a credential). */
  who: RunRequester;
  action: AuditAction;
  /** What: blueprint, action, workflow ID, restore point, key id… (names only). */
  what: Record<string, string>;
  /** Where: namespace, target, Temporal namespace. */
  where: Record<string, string>;
  outcome: AuditOutcome;
  /** For denied and failed: the reason, already free of Secret values. */
  reason?: string;
}

export interface AuditLine extends AuditRecord {
  kind: 'cairn.audit';
  version: 1;
  time: string;
  source: 'cli' | 'worker';
}

export interface AuditLog {
  record(entry: AuditRecord): void;
}

/**
 * `-` or `stdout`: standard output; `stderr`; a path: appended (created if missing); undefined or `off`: nothing.
 * Writes are synchronous so a line is on disk before the action it reports is acknowledged.
 */
export function auditLog(destination: string | undefined, source: AuditLine['source'], now: () => Date = () => new Date()): AuditLog {
  if (!destination || destination === 'off') return { record() {} };
  const write = destination === '-' || destination === 'stdout'
    ? (line: string) => process.stdout.write(line)
    : destination === 'stderr'
      ? (line: string) => process.stderr.write(line)
      : (line: string) => appendFileSync(destination, line, { mode: 0o640 });
  return {
    record(entry) {
      const line: AuditLine = { kind: 'cairn.audit', version: 1, time: now().toISOString(), source, ...entry };
      write(`${JSON.stringify(line)}\n`);
    },
  };
}

/** The CLI's audit log: `CAIRN_AUDIT_LOG` (a file path, or `stderr`); off when unset. */
export function cliAuditLog(): AuditLog {
  return auditLog(process.env.CAIRN_AUDIT_LOG, 'cli');
}

/** The audit action of a run's start: restores are their own kind, deletes of restore points too. */
export function runAuditAction(action: string | undefined): AuditAction {
  if (action === 'restore') return 'restore';
  if (action === 'delete') return 'restore-point.delete';
  return 'run.start';
}
