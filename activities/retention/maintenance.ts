/**
 * maintainRepository: kopia's full maintenance of an application's repository, run by Cairn. kopia lets one
 * `user@host` own maintenance; Cairn schedules it (the retire workflow), so the worker running it claims
 * ownership first — workers come and go, a stale owner would mean maintenance never runs.
 *
 * Safety `full` (the default) keeps kopia's margins: contents are dropped only after two GC cycles and an hour
 * or more, so a snapshot being written concurrently is never broken, and space comes back over later runs.
 * `none` drops at once and is only for tests and for a repository nobody is writing to.
 * Where the space comes from: a pack holding only deleted contents is removed; a small pack is first rewritten
 * together with other small ones, and its dead bytes go when the merged pack is compacted in a later cycle.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { MaintenanceInput, MaintenanceResult } from '../../src/retention/types.ts';
import { kopiaOrThrow, spawnKopia } from '../kopia/kopia.ts';
import { repositoryBytes, type Repository } from '../kopia/repository.ts';
import { beat, cancellation, existingRepository, locationFor, type RetentionDeps } from './catalog.ts';

const HEARTBEAT_MS = 5_000;

export function createMaintainRepository(deps: RetentionDeps) {
  return async function maintainRepository(input: MaintenanceInput): Promise<MaintenanceResult> {
    if (input.safety !== 'full' && input.safety !== 'none') throw ApplicationFailure.nonRetryable(`maintenance safety must be full or none (got ${String(input.safety)})`, 'CairnError');
    const location = await locationFor(deps, input.profile);
    const repository = await existingRepository(location, input.application);
    if (!repository) return { storedBytesBefore: 0, storedBytesAfter: 0, durationMs: 0 };
    return runMaintenance(repository, input.safety);
  };
}

export async function runMaintenance(repository: Repository, safety: MaintenanceInput['safety']): Promise<MaintenanceResult> {
  const started = Date.now();
  const storedBytesBefore = await repositoryBytes(repository);
  await kopiaOrThrow(repository.session, ['maintenance', 'set', '--owner=me'], 'maintenance set --owner');
  const signal = cancellation();
  const kopia = spawnKopia(repository.session, ['maintenance', 'run', '--full', `--safety=${safety}`]);
  let stderr = '';
  kopia.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-8192)));
  kopia.stdout!.resume();
  // kopia holds its maintenance lock while it runs: a cancelled activity stops it rather than leave it behind.
  const stop = () => kopia.kill('SIGTERM');
  signal?.addEventListener('abort', stop, { once: true });
  const timer = setInterval(() => beat({ maintenance: 'running', seconds: Math.round((Date.now() - started) / 1000) }), HEARTBEAT_MS);
  const code = await new Promise<number>((resolve) => {
    kopia.once('error', () => resolve(127));
    kopia.once('close', (exit) => resolve(exit ?? 1));
  }).finally(() => {
    clearInterval(timer);
    signal?.removeEventListener('abort', stop);
  });
  if (signal?.aborted) throw new Error('maintenance cancelled');
  if (code !== 0) {
    const tail = stderr.trim().split('\n').slice(-5).join(' | ');
    throw new Error(repository.location.scrub(`${repository.label}: kopia maintenance run --full failed for application ${repository.application} (exit ${code}): ${tail}`));
  }
  return { storedBytesBefore, storedBytesAfter: await repositoryBytes(repository), durationMs: Date.now() - started };
}
