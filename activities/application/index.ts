/** The activities of the application workflows (the `ApplicationActivities` contract in src/application/types.ts). */
import type { ApplicationActivities, DrillActivities } from '../../src/application/types.ts';
import type { ApplicationActivityDeps } from './application-repository.ts';
import { createCaptureResources } from './capture-resources.ts';
import { createCreateDrillNamespace, createDeleteDrillNamespace, createInspectDrillSource } from './drill.ts';
import { createLoadApplication, type LoadApplicationDeps } from './load-application.ts';
import { createRestoreResources } from './restore-resources.ts';

export type { ApplicationActivityDeps } from './application-repository.ts';

/** Each helper area adds its entries here; the type widens to ApplicationActivities as they land. */
export function createApplicationActivities(
  deps: ApplicationActivityDeps & Pick<LoadApplicationDeps, 'applicationDirs'>,
): Pick<ApplicationActivities, 'loadApplication' | 'captureResources' | 'restoreResources'> & DrillActivities {
  return {
    loadApplication: createLoadApplication({ kube: deps.kube, ...(deps.applicationDirs ? { applicationDirs: deps.applicationDirs } : {}) }),
    captureResources: createCaptureResources(deps),
    restoreResources: createRestoreResources(deps),
    createDrillNamespace: createCreateDrillNamespace(deps),
    inspectDrillSource: createInspectDrillSource(deps),
    deleteDrillNamespace: createDeleteDrillNamespace(deps),
  };
}
