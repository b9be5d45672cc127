/** The function registry: every file here exports one function, registered under its own name. */
import { BackupData } from './BackupData.ts';
import { BackupStream } from './BackupStream.ts';
import { CopyVolumeData } from './CopyVolumeData.ts';
import { CreateCSIGroupSnapshot } from './CreateCSIGroupSnapshot.ts';
import { CreateCSISnapshot } from './CreateCSISnapshot.ts';
import { DeleteCSISnapshot } from './DeleteCSISnapshot.ts';
import { DeleteData } from './DeleteData.ts';
import { KubeExec } from './KubeExec.ts';
import { KubeExecAll } from './KubeExecAll.ts';
import { KubeOps } from './KubeOps.ts';
import { KubeTask } from './KubeTask.ts';
import { LocationDelete } from './LocationDelete.ts';
import { RestoreCSISnapshot } from './RestoreCSISnapshot.ts';
import { RestoreData } from './RestoreData.ts';
import { RestoreStream } from './RestoreStream.ts';
import { ScaleWorkload } from './ScaleWorkload.ts';
import { Sleep } from './Sleep.ts';
import type { CairnFunction } from './types.ts';
import { WaitForSnapshotReady } from './WaitForSnapshotReady.ts';
import { WaitV2 } from './WaitV2.ts';

export const FUNCTIONS: ReadonlyMap<string, CairnFunction> = new Map([BackupData, BackupStream, CopyVolumeData, DeleteData, LocationDelete, RestoreData, CreateCSIGroupSnapshot, CreateCSISnapshot, DeleteCSISnapshot, RestoreCSISnapshot, WaitForSnapshotReady, KubeExec, KubeExecAll, KubeOps, KubeTask, RestoreStream, ScaleWorkload, Sleep, WaitV2].map((f) => [f.name, f]));
