/**
 * `backup` and `restore`: thin, typed wrappers over `runAction` for the common case, so a person starting a
 * run from the Web UI fills in fewer fields.
 */
import type { RunActionInput, RunActionResult } from '../src/run/types.ts';
import { runAction } from './runAction.ts';

export type BackupInput = Omit<RunActionInput, 'action' | 'artifacts'>;
export type RestoreInput = Omit<RunActionInput, 'action'> & { artifacts: NonNullable<RunActionInput['artifacts']> };

export async function backup(input: BackupInput): Promise<RunActionResult> {
  return runAction({ ...input, action: 'backup' });
}

export async function restore(input: RestoreInput): Promise<RunActionResult> {
  return runAction({ ...input, action: 'restore' });
}
