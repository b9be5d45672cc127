/**
 * Which blueprints exist and what their actions take, for checks that name blueprints without running them
 * (`cairn validate` on an Application, `cairn discover`). Reads only names, action names and kinds: validating
 * the blueprints themselves is `cairn validate`'s blueprint path.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isJsonObject, type JsonValue } from '../json.ts';
import { readSourceFile, yamlFilesIn } from '../yaml-source.ts';

/** The blueprints shipped with Cairn (the worker's default directory). */
export const SHIPPED_BLUEPRINTS_DIR = resolve(fileURLToPath(import.meta.url), '../../../blueprints');

export type BlueprintCatalog = Map<string, { actions: Record<string, string[]>; options: string[] }>;

/** Blueprints of these directories (their .yaml/.yml files); a directory that cannot be read adds nothing. */
export async function readBlueprintCatalog(dirs: readonly string[]): Promise<BlueprintCatalog> {
  const catalog: BlueprintCatalog = new Map();
  for (const dir of dirs) {
    for (const entry of await yamlFilesIn(dir)) {
      const source = await readSourceFile(join(dir, entry));
      for (const document of source.documents) addBlueprint(catalog, document.value);
    }
  }
  return catalog;
}

/** Adds a parsed document when it is a blueprint; the first of a name wins, as when the worker looks one up. */
export function addBlueprint(catalog: BlueprintCatalog, value: unknown): void {
  if (!isJsonObject(value) || value.kind !== 'Blueprint' || !isJsonObject(value.metadata) || typeof value.metadata.name !== 'string') return;
  if (catalog.has(value.metadata.name) || !isJsonObject(value.actions)) return;
  const actions: Record<string, string[]> = {};
  for (const [name, action] of Object.entries(value.actions)) {
    const kinds: JsonValue | undefined = isJsonObject(action) ? action.kinds : undefined;
    actions[name] = Array.isArray(kinds) ? kinds.filter((k): k is string => typeof k === 'string') : [];
  }
  // The options its templates read (`Options.strategy`, `Options.credentialsSecret`): what a component may set.
  const options = [...new Set([...JSON.stringify(value.actions).matchAll(/\bOptions\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!))].sort();
  catalog.set(value.metadata.name, { actions, options });
}
