/** The activities of the application workflows (the `ApplicationActivities` contract in src/application/types.ts). */
import type { ApplicationActivities, DrillActivities } from '../../src/application/types.ts';
import type { AuthorizeDeps } from '../authorize.ts';
import type { ApplicationActivityDeps } from './application-repository.ts';
import { createAuthorizeApplication } from './authorize-application.ts';
import { createCaptureResources } from './capture-resources.ts';
import { createCreateDrillNamespace, createDeleteDrillNamespace, createInspectDrillSource } from './drill.ts';
import { createLoadApplication, type LoadApplicationDeps } from './load-application.ts';
import { createRestoreResources } from './restore-resources.ts';
import { createReadApplicationRestorePoint, createResolveBlueprints, createWriteApplicationRestorePoint } from './application-restore-point.ts';
import { createWaitWorkloadReady } from './readiness.ts';

export type { ApplicationActivityDeps } from './application-repository.ts';

/** Each helper area adds its entries here; the type widens to ApplicationActivities as they land. */
export function createApplicationActivities(
  deps: ApplicationActivityDeps & Pick<LoadApplicationDeps, 'applicationDirs'> & Omit<AuthorizeDeps, 'kube'> & { blueprintDirs?: string[] },
): ApplicationActivities & DrillActivities {
  const pointDeps = { kube: deps.kube, blueprintDirs: deps.blueprintDirs ?? [], ...(deps.profiles ? { profiles: deps.profiles } : {}) };
  return {
    authorizeApplication: createAuthorizeApplication({
      kube: deps.kube,
      ...(deps.authorization ? { authorization: deps.authorization } : {}),
      ...(deps.audit ? { audit: deps.audit } : {}),
    }),
    waitWorkloadReady: createWaitWorkloadReady(deps),
    resolveBlueprints: createResolveBlueprints(pointDeps),
    writeApplicationRestorePoint: createWriteApplicationRestorePoint(pointDeps),
    readApplicationRestorePoint: createReadApplicationRestorePoint(pointDeps),
    loadApplication: createLoadApplication({ kube: deps.kube, ...(deps.applicationDirs ? { applicationDirs: deps.applicationDirs } : {}) }),
    captureResources: createCaptureResources(deps),
    restoreResources: createRestoreResources(deps),
    createDrillNamespace: createCreateDrillNamespace(deps),
    inspectDrillSource: createInspectDrillSource(deps),
    deleteDrillNamespace: createDeleteDrillNamespace(deps),
  };
}
