/**
 * The first activity of every run: finds the blueprint (inline YAML, the worker's blueprint directories, or
 * a ConfigMap labelled `cairn.io/blueprint: "true"`) and compiles the action. Its result, the plan, is pinned
 * in the workflow's history.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import type { AuditLog } from '../src/audit/audit-log.ts';
import type { AuthorizationSettings } from '../src/authz/authorize.ts';
import { requireAccess } from './authorize.ts';
import { compileBlueprintText } from '../src/blueprint/compile.ts';
import { CairnError, formatDiagnostic } from '../src/diagnostics.ts';
import type { JsonObject } from '../src/json.ts';
import type { KubeClients } from '../src/kube/clients.ts';
import type { CompileActionInput, CompileActionResult } from '../src/run/types.ts';
import { parseTarget } from '../src/target.ts';
import { yamlFilesIn } from '../src/yaml-source.ts';
import { parse } from 'yaml';

export const BLUEPRINT_LABEL = 'cairn.io/blueprint';

export interface CompileDeps {
  blueprintDirs: string[];
  /** Absent when the worker has no cluster: ConfigMap lookup is then skipped. */
  kube?: () => KubeClients;
  /** When enforced, the requester must be allowed the action's verb in the target namespace (src/authz/). */
  authorization?: AuthorizationSettings;
  audit?: AuditLog;
}

export interface FoundBlueprint {
  text: string;
  file: string;
}

export function createCompileAction(deps: CompileDeps) {
  return async function compileAction(input: CompileActionInput): Promise<CompileActionResult> {
    const target = parseTarget(input.target);
    if (!target.ok) throw ApplicationFailure.nonRetryable(target.message, 'InvalidBlueprint');
    // Before anything else of the run happens: a denied run fails here, before its first phase, for good.
    await requireAccess(deps, {
      action: input.action,
      namespace: target.target.namespace,
      ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
      what: 'name' in input.blueprint ? { blueprint: input.blueprint.name } : {},
      where: { target: input.target },
    });
    const found = 'inline' in input.blueprint
      ? { text: input.blueprint.inline, file: input.blueprint.file ?? 'inline.yaml' }
      : await findBlueprint(input.blueprint.name, deps);
    try {
      const plan = compileBlueprintText(found.text, found.file, {
        action: input.action,
        target: target.target,
        options: input.options,
        ...(input.artifacts ? { artifacts: input.artifacts as unknown as Record<string, JsonObject> } : {}),
        ...('name' in input.blueprint ? { blueprintName: input.blueprint.name } : {}),
      });
      return { plan };
    } catch (error) {
      if (error instanceof CairnError) {
        throw ApplicationFailure.nonRetryable(error.diagnostics.map(formatDiagnostic).join('\n'), 'InvalidBlueprint');
      }
      throw error;
    }
  };
}

/** A blueprint by name, as runs find it (also used by application backups to pin the sources they run). */
export async function findBlueprint(name: string, deps: Pick<CompileDeps, 'blueprintDirs' | 'kube'>): Promise<FoundBlueprint> {
  for (const dir of deps.blueprintDirs) {
    const entries = await yamlFilesIn(dir);
    // `<name>.yaml` first, then any file whose metadata.name matches.
    entries.sort((a, b) => Number(b.startsWith(`${name}.`)) - Number(a.startsWith(`${name}.`)));
    for (const entry of entries) {
      const file = join(dir, entry);
      const text = await readFile(file, 'utf8');
      if (declaresName(text, name)) return { text, file };
    }
  }
  let configMapNote = '';
  if (deps.kube) {
    try {
      const { core } = deps.kube();
      const list = await core.listConfigMapForAllNamespaces({ labelSelector: `${BLUEPRINT_LABEL}=true` });
      for (const configMap of list.items) {
        for (const [key, text] of Object.entries(configMap.data ?? {})) {
          if (declaresName(text, name)) return { text, file: `configmap/${configMap.metadata?.namespace}/${configMap.metadata?.name}/${key}` };
        }
      }
      configMapNote = ` or in ConfigMaps labelled ${BLUEPRINT_LABEL}=true`;
    } catch (error) {
      configMapNote = ` (ConfigMaps not searched: ${(error as Error).message})`;
    }
  }
  throw ApplicationFailure.nonRetryable(`no blueprint named "${name}" in ${deps.blueprintDirs.join(', ')}${configMapNote}`, 'InvalidBlueprint');
}

function declaresName(text: string, name: string): boolean {
  try {
    const documents = text.split(/^---\s*$/m).map((part) => parse(part, { maxAliasCount: 100 }) as { metadata?: { name?: string } } | null);
    return documents.some((doc) => doc?.metadata?.name === name);
  } catch {
    return false;
  }
}
