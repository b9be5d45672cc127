/** Builds the activities the worker registers (the `CairnActivities` contract in src/run/types.ts). */
import type { AuditLog } from '../src/audit/audit-log.ts';
import type { AuthorizationSettings } from '../src/authz/authorize.ts';
import type { KubeClients } from '../src/kube/clients.ts';
import type { CairnActivities } from '../src/run/types.ts';
import { createApplicationActivities } from './application/index.ts';
import { createCompileAction } from './compile-action.ts';
import { FUNCTIONS } from './functions/index.ts';
import type { CairnFunction } from './functions/types.ts';
import type { ProfileSources } from './location/profiles.ts';
import { createWriteRestorePoint } from './location/restore-points.ts';
import { createRenderOutputArtifacts } from './render-artifacts.ts';
import { createRetentionActivities } from './retention/index.ts';
import { createRunPhase } from './run-phase.ts';

export interface ActivityDeps {
  kube: () => KubeClients;
  blueprintDirs: string[];
  /** Where Applications named by workflows are looked for before ConfigMaps (`cairn worker --applications`). */
  applicationDirs?: string[];
  /** Defaults to the full registry; tests may add functions. */
  functions?: ReadonlyMap<string, CairnFunction>;
  /** Off unless given: the worker's `--authorize` (src/authz/). */
  authorization?: AuthorizationSettings;
  audit?: AuditLog;
  /** Where location profiles are found; default from the environment (CAIRN_PROFILES_DIR, CAIRN_NAMESPACE). */
  profiles?: (kube: () => KubeClients) => ProfileSources;
}

export function createActivities(deps: ActivityDeps): CairnActivities {
  const functions = deps.functions ?? FUNCTIONS;
  return {
    compileAction: createCompileAction({
      blueprintDirs: deps.blueprintDirs,
      kube: deps.kube,
      ...(deps.authorization ? { authorization: deps.authorization } : {}),
      ...(deps.audit ? { audit: deps.audit } : {}),
    }),
    runPhase: createRunPhase({ kube: deps.kube, functions, ...(deps.profiles ? { profiles: deps.profiles } : {}) }),
    renderOutputArtifacts: createRenderOutputArtifacts({ kube: deps.kube }),
    writeRestorePoint: createWriteRestorePoint({ kube: deps.kube, ...(deps.profiles ? { profiles: deps.profiles } : {}) }),
    ...createRetentionActivities({ kube: deps.kube, ...(deps.profiles ? { profiles: deps.profiles } : {}) }),
    ...createApplicationActivities({
      kube: deps.kube,
      ...(deps.authorization ? { authorization: deps.authorization } : {}),
      ...(deps.audit ? { audit: deps.audit } : {}),
      blueprintDirs: deps.blueprintDirs,
      ...(deps.applicationDirs ? { applicationDirs: deps.applicationDirs } : {}),
      ...(deps.profiles ? { profiles: deps.profiles } : {}),
    }),
  };
}
