/** The function registry: every file here exports one function, registered under its own name. */
import { BackupStream } from './BackupStream.ts';
import { KubeExec } from './KubeExec.ts';
import { KubeTask } from './KubeTask.ts';
import { RestoreStream } from './RestoreStream.ts';
import { ScaleWorkload } from './ScaleWorkload.ts';
import { Sleep } from './Sleep.ts';
import type { CairnFunction } from './types.ts';

export const FUNCTIONS: ReadonlyMap<string, CairnFunction> = new Map([BackupStream, KubeExec, KubeTask, RestoreStream, ScaleWorkload, Sleep].map((f) => [f.name, f]));
