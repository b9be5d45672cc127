/**
 * verifySnapshots: checks that the restore points of an application can still be restored from its location.
 * For a sample of restore points (the newest always), every snapshot the manifest names must exist in the
 * repository and pass `kopia snapshot verify` (every object reachable, its content blobs present) with
 * `--verify-files-percent` of the files read back in full and their encryption/checksums checked.
 *
 * kopia reads through its local cache, which would hide a corrupted or lost blob that this worker wrote or
 * read earlier: each verification runs with its own empty cache, so every byte checked comes from the location.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { checkApplication } from '../../src/location/layout.ts';
import type { RestorePoint } from '../../src/location/restore-point.ts';
import { DEFAULT_VERIFY_FILES_PERCENT, type VerifyInput, type VerifyReport } from '../../src/retention/types.ts';
import { runKopia, type KopiaSession } from '../kopia/kopia.ts';
import type { Repository } from '../kopia/repository.ts';
import { listSnapshotEntries } from '../kopia/snapshots.ts';
import type { OpenedLocation } from '../location/location.ts';
import { listRestorePoints } from '../location/restore-points.ts';
import { beat, cancellation, existingRepository, keepAlive, locationFor, ownedSnapshots, type RetentionDeps } from './catalog.ts';

export function createVerifySnapshots(deps: RetentionDeps) {
  return async function verifySnapshots(input: VerifyInput): Promise<VerifyReport> {
    const filesPercent = input.filesPercent ?? DEFAULT_VERIFY_FILES_PERCENT;
    try {
      checkApplication(input.application);
      if (!(filesPercent >= 0 && filesPercent <= 100)) throw new Error(`filesPercent must be between 0 and 100 (got ${filesPercent})`);
      if (input.sample !== undefined && !(Number.isInteger(input.sample) && input.sample >= 1)) throw new Error(`sample must be a whole number ≥ 1 (got ${input.sample})`);
    } catch (error) {
      throw ApplicationFailure.nonRetryable((error as Error).message, 'CairnError');
    }
    return keepAlive('verify', async () =>
      verifyApplication(await locationFor(deps, input.profile), input.application, { filesPercent, ...(input.sample !== undefined ? { sample: input.sample } : {}) }),
    );
  };
}

/** `count` points of `points` (oldest first): the newest always, the others spread evenly over the older ones. */
export function samplePoints<T>(points: readonly T[], count: number): T[] {
  if (count >= points.length) return [...points];
  if (count <= 0) return [];
  const chosen = new Set<number>([points.length - 1]);
  const older = points.length - 1;
  for (let index = 0; index < count - 1; index++) chosen.add(Math.floor((index * older) / (count - 1)));
  return [...chosen].sort((a, b) => a - b).map((index) => points[index]!);
}

export async function verifyApplication(location: OpenedLocation, application: string, options: { filesPercent: number; sample?: number }): Promise<VerifyReport> {
  const started = Date.now();
  const listing = await listRestorePoints(location, { application });
  const sampled = samplePoints(listing.points, options.sample ?? listing.points.length);
  const report: VerifyReport = {
    application,
    profile: location.profile.name,
    ok: true,
    restorePoints: listing.points.length,
    checkedRestorePoints: sampled.map((point) => point.id),
    checkedSnapshots: 0,
    filesPercent: options.filesPercent,
    failures: [],
    problems: listing.problems,
    durationMs: 0,
  };
  const repository = sampled.length ? await existingRepository(location, application) : undefined;
  if (sampled.length && !repository) {
    for (const point of sampled) for (const snapshotID of ownedSnapshots(point)) report.failures.push({ restorePoint: point.id, snapshotID, error: 'the application has no repository (key.json) in the location' });
  }
  if (repository) await verifyPoints(repository, sampled, options.filesPercent, report);
  report.ok = report.failures.length === 0 && report.problems.length === 0;
  report.durationMs = Date.now() - started;
  return report;
}

async function verifyPoints(repository: Repository, points: RestorePoint[], filesPercent: number, report: VerifyReport): Promise<void> {
  const present = new Set((await listSnapshotEntries(repository)).map((snapshot) => snapshot.id));
  const scratch = await mkdtemp(join(tmpdir(), 'cairn-verify-'));
  try {
    // A private copy of the connection: same repository and password, an empty cache of its own.
    await copyFile(join(repository.session.configDir, 'repository.config'), join(scratch, 'repository.config'));
    const session: KopiaSession = { ...repository.session, configDir: scratch };
    const signal = cancellation();
    for (const point of points) {
      for (const snapshotID of ownedSnapshots(point)) {
        if (signal?.aborted) throw new Error('verification cancelled');
        report.checkedSnapshots++;
        if (!present.has(snapshotID)) {
          report.failures.push({ restorePoint: point.id, snapshotID, error: 'snapshot missing from the repository' });
          continue;
        }
        const result = await runKopia(session, ['snapshot', 'verify', `--verify-files-percent=${filesPercent}`, '--no-progress', snapshotID]);
        if (result.code !== 0) {
          const errors = result.stderr.split('\n').filter((line) => /error|unable|invalid|missing/i.test(line));
          report.failures.push({ restorePoint: point.id, snapshotID, error: repository.location.scrub((errors.length ? errors : result.stderr.trim().split('\n')).slice(-3).join(' | ')) });
        }
        beat({ verified: report.checkedSnapshots, failures: report.failures.length });
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
