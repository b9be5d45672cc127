/**
 * The function catalogue the compiler validates against: one JSON Schema per function under
 * `schemas/functions/<Func>.schema.json` (its args), with an `x-cairn` block naming its outputs. The
 * implementations are activities under `activities/functions/`, one file per function with the same name.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCHEMAS_DIR = resolve(fileURLToPath(import.meta.url), '../../../schemas');

export interface FunctionDefinition {
  name: string;
  description: string;
  /** Output keys the function sets; `open` when the blueprint's commands decide (KubeExec's phase outputs). */
  outputs: string[] | 'open';
  /** True when the name and argument shape are Kanister's, so imported blueprints call it unchanged. */
  kanister: boolean;
  argsSchema: Record<string, unknown>;
}

interface SchemaFile {
  title: string;
  description?: string;
  'x-cairn'?: { outputs?: string[] | 'open'; kanister?: boolean };
}

/**
 * Kanister functions Cairn recognises but does not run: validation names them with the reason instead of
 * reporting an unknown function.
 */
export const UNSUPPORTED_FUNCTIONS: Record<string, string> = {
  CreateRDSSnapshot: 'AWS RDS functions are cloud-specific and not supported by Cairn; back the database up logically instead (a KubeTask running its dump into kando location push, or BackupStream)',
  ExportRDSSnapshotToLocation: 'AWS RDS functions are cloud-specific and not supported by Cairn; back the database up logically instead (a KubeTask running its dump into kando location push, or BackupStream)',
  RestoreRDSSnapshot: 'AWS RDS functions are cloud-specific and not supported by Cairn; restore a logical backup instead (kando location pull into the database client, or RestoreStream)',
  DeleteRDSSnapshot: 'AWS RDS functions are cloud-specific and not supported by Cairn; delete logical backups with LocationDelete or kando location delete',
  CreateVolumeSnapshot: 'provider (non-CSI) volume snapshots are not supported; use CreateCSISnapshot',
  WaitForSnapshotCompletion: 'provider (non-CSI) volume snapshots are not supported; use WaitForSnapshotReady',
  CreateVolumeFromSnapshot: 'provider (non-CSI) volume snapshots are not supported; use RestoreCSISnapshot',
  DeleteVolumeSnapshot: 'provider (non-CSI) volume snapshots are not supported; use DeleteCSISnapshot',
  BackupDataUsingKopiaServer: 'the Kopia repository server functions are not supported; use BackupData',
  RestoreDataUsingKopiaServer: 'the Kopia repository server functions are not supported; use RestoreData',
  DeleteDataUsingKopiaServer: 'the Kopia repository server functions are not supported; use DeleteData',
};

let cache: Map<string, FunctionDefinition> | undefined;

export function functionCatalog(): Map<string, FunctionDefinition> {
  if (cache) return cache;
  const dir = join(SCHEMAS_DIR, 'functions');
  const catalog = new Map<string, FunctionDefinition>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.schema.json')).sort()) {
    const schema = JSON.parse(readFileSync(join(dir, file), 'utf8')) as SchemaFile & Record<string, unknown>;
    catalog.set(schema.title, {
      name: schema.title,
      description: schema.description ?? '',
      outputs: schema['x-cairn']?.outputs ?? [],
      kanister: schema['x-cairn']?.kanister ?? false,
      argsSchema: schema,
    });
  }
  cache = catalog;
  return catalog;
}
