/**
 * Kanister function names → Cairn's function catalogue. Cairn implements Kanister's functions under the same
 * names and argument shapes (`x-cairn.kanister` in their schemas; the deprecated `Wait` included, run by
 * WaitV2's implementation), so a name Cairn has is kept as is; the cloud-specific and Kopia-server ones are
 * rejected with the catalogue's reason; a Kanister name missing from the catalogue (a worker built without
 * it) is named as not available rather than unknown.
 */
import { didYouMean } from '../diagnostics.ts';
import { functionCatalog, UNSUPPORTED_FUNCTIONS } from '../functions/catalog.ts';
import type { Problem } from './template-params.ts';

/** Every function Kanister registers (pkg/function), for telling "not in Cairn yet" from a typo. */
export const KANISTER_FUNCTIONS = [
  'BackupData', 'BackupDataAll', 'BackupDataStats', 'BackupDataUsingKopiaServer', 'CheckRepository', 'CopyVolumeData',
  'CreateCSISnapshot', 'CreateCSISnapshotStatic', 'CreateRDSSnapshot', 'CreateVolumeFromSnapshot', 'CreateVolumeSnapshot',
  'DeleteCSISnapshot', 'DeleteCSISnapshotContent', 'DeleteData', 'DeleteDataAll', 'DeleteDataUsingKopiaServer',
  'DeleteRDSSnapshot', 'DeleteVolumeSnapshot', 'ExportRDSSnapshotToLocation', 'KubeExec', 'KubeExecAll', 'KubeOps',
  'KubeTask', 'LocationDelete', 'MultiContainerRun', 'PrepareData', 'RestoreCSISnapshot', 'RestoreData', 'RestoreDataAll',
  'RestoreDataUsingKopiaServer', 'RestoreRDSSnapshot', 'ScaleWorkload', 'Wait', 'WaitForSnapshotCompletion', 'WaitV2',
] as const;

export type FunctionMapping = { func: string } | { problem: Problem };

export function mapKanisterFunction(name: string): FunctionMapping {
  const catalog = functionCatalog();
  if (catalog.has(name)) return { func: name };
  if (Object.hasOwn(UNSUPPORTED_FUNCTIONS, name)) {
    return { problem: { code: 'unsupported-function', message: `function "${name}" is not supported: ${UNSUPPORTED_FUNCTIONS[name]}` } };
  }
  if ((KANISTER_FUNCTIONS as readonly string[]).includes(name)) {
    return { problem: { code: 'function-not-available', message: `Kanister function "${name}" is not in Cairn's function library yet`, hint: `available: ${[...catalog.keys()].join(', ')}` } };
  }
  const suggestion = didYouMean(name, [...catalog.keys(), ...KANISTER_FUNCTIONS]);
  return { problem: { code: 'unknown-function', message: `unknown function "${name}"`, hint: suggestion ? `did you mean "${suggestion}"?` : `Cairn's functions: ${[...catalog.keys()].join(', ')}` } };
}
