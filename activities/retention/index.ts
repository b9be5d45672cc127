/** The retention activities (src/retention/types.ts RetentionActivities), registered with the run activities. */
import type { RetentionActivities } from '../../src/retention/types.ts';
import type { RetentionDeps } from './catalog.ts';
import { createCollectOrphanSnapshots, createDeleteRestorePoint } from './delete.ts';
import { createMaintainRepository } from './maintenance.ts';
import { createPlanRetirement } from './plan.ts';
import { createVerifySnapshots } from './verify.ts';

export function createRetentionActivities(deps: RetentionDeps): RetentionActivities {
  return {
    planRetirement: createPlanRetirement(deps),
    deleteRestorePoint: createDeleteRestorePoint(deps),
    collectOrphanSnapshots: createCollectOrphanSnapshots(deps),
    maintainRepository: createMaintainRepository(deps),
    verifySnapshots: createVerifySnapshots(deps),
  };
}
