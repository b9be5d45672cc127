/**
 * The series the worker exposes (prom-client). One registry per worker; names and labels are the contract
 * the alerts (deploy/prometheus/) and the dashboard (deploy/grafana/) are written against — a test checks
 * that every series they query is defined here. Counters and the last-success gauges are per worker process:
 * queries aggregate over instances (`sum`, `max`), and the missed-backup alert looks back with
 * `max_over_time` so a restarted worker does not hide an old backup.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RunEnd, RunSummary } from '../worker/run-events.ts';

const RUN_LABELS = ['blueprint', 'action', 'namespace'] as const;

/** Where a function's output says how many bytes it moved, and in which direction. */
export const BYTES_OUTPUTS: Record<string, { output: string; direction: 'backup' | 'restore' }> = {
  BackupStream: { output: 'logicalBytes', direction: 'backup' },
  RestoreStream: { output: 'bytes', direction: 'restore' },
  BackupData: { output: 'size', direction: 'backup' },
  CopyVolumeData: { output: 'size', direction: 'backup' },
};

export class CairnMetrics {
  readonly registry = new Registry();
  readonly runsStarted = new Counter({ name: 'cairn_runs_started_total', help: 'Runs whose plan compiled and whose first phase is about to run', labelNames: RUN_LABELS, registers: [this.registry] });
  readonly runsSucceeded = new Counter({ name: 'cairn_runs_succeeded_total', help: 'Runs that succeeded', labelNames: RUN_LABELS, registers: [this.registry] });
  readonly runsFailed = new Counter({ name: 'cairn_runs_failed_total', help: 'Runs that failed (forbidden and invalid runs included)', labelNames: RUN_LABELS, registers: [this.registry] });
  readonly runsCancelled = new Counter({ name: 'cairn_runs_cancelled_total', help: 'Runs that were cancelled', labelNames: RUN_LABELS, registers: [this.registry] });
  readonly workflowsCompleted = new Counter({
    name: 'cairn_workflows_completed_total',
    help: 'Every workflow this worker finished, by type (runAction, application and drill workflows) and outcome',
    labelNames: ['workflow_type', 'outcome'],
    registers: [this.registry],
  });
  readonly runDuration = new Histogram({
    name: 'cairn_run_duration_seconds',
    help: 'Wall time of runs, from the workflow start to its end',
    labelNames: [...RUN_LABELS, 'outcome'],
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400],
    registers: [this.registry],
  });
  readonly phaseDuration = new Histogram({
    name: 'cairn_phase_duration_seconds',
    help: 'Wall time of one phase attempt, by function and outcome',
    labelNames: ['func', 'outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800],
    registers: [this.registry],
  });
  readonly bytesMoved = new Counter({
    name: 'cairn_bytes_moved_total',
    help: 'Bytes moved by data functions (BackupStream logicalBytes, RestoreStream bytes, BackupData/CopyVolumeData size)',
    labelNames: ['func', 'direction', 'namespace'],
    registers: [this.registry],
  });
  readonly quiesceWindow = new Histogram({
    name: 'cairn_quiesce_window_seconds',
    help: 'How long a scoped-release group (quiesce → snapshot → unquiesce, scale down → copy → scale up) held the application',
    labelNames: RUN_LABELS,
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  readonly restoreDuration = new Histogram({
    name: 'cairn_restore_duration_seconds',
    help: 'Recovery time of successful restores: from the restore run start to its end (RTO)',
    labelNames: ['blueprint', 'namespace'],
    buckets: [5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400],
    registers: [this.registry],
  });
  readonly lastRestoreDuration = new Gauge({
    name: 'cairn_last_restore_duration_seconds',
    help: 'Recovery time of the last successful restore of each target',
    labelNames: ['blueprint', 'namespace', 'target'],
    registers: [this.registry],
  });
  readonly lastBackup = new Gauge({
    name: 'cairn_last_successful_backup_timestamp_seconds',
    help: 'Unix time of the last successful backup of each application (target)',
    labelNames: ['blueprint', 'namespace', 'target'],
    registers: [this.registry],
  });

  runStarted(run: RunSummary): void {
    this.runsStarted.inc(runLabels(run));
  }

  runEnded(workflowType: string, run: RunEnd, durationSeconds: number, endedAtSeconds: number): void {
    this.workflowsCompleted.inc({ workflow_type: workflowType, outcome: run.outcome });
    if (workflowType !== 'runAction') return;
    const labels = runLabels(run);
    ({ succeeded: this.runsSucceeded, failed: this.runsFailed, cancelled: this.runsCancelled })[run.outcome].inc(labels);
    this.runDuration.observe({ ...labels, outcome: run.outcome }, durationSeconds);
    if (run.outcome !== 'succeeded') return;
    const target = run.target ?? '';
    if (run.action === 'backup') this.lastBackup.set({ blueprint: labels.blueprint, namespace: labels.namespace, target }, endedAtSeconds);
    if (run.action === 'restore') {
      this.restoreDuration.observe({ blueprint: labels.blueprint, namespace: labels.namespace }, durationSeconds);
      this.lastRestoreDuration.set({ blueprint: labels.blueprint, namespace: labels.namespace, target }, durationSeconds);
    }
  }

  quiesced(run: RunSummary, windowSeconds: number): void {
    this.quiesceWindow.observe(runLabels(run), windowSeconds);
  }

  phaseEnded(func: string, outcome: 'succeeded' | 'failed' | 'cancelled', seconds: number, namespace: string, outputs?: Record<string, unknown>): void {
    this.phaseDuration.observe({ func, outcome }, seconds);
    const moved = BYTES_OUTPUTS[func];
    const value = moved && outputs ? Number(outputs[moved.output]) : Number.NaN;
    if (moved && Number.isFinite(value) && value >= 0) this.bytesMoved.inc({ func, direction: moved.direction, namespace }, value);
  }
}

function runLabels(run: RunSummary): Record<(typeof RUN_LABELS)[number], string> {
  return { blueprint: run.blueprint ?? '', action: run.action ?? '', namespace: run.namespace ?? '' };
}
