/**
 * Test-only workflows that run the resource activities through Temporal (real scheduling, heartbeats,
 * history), so the tests can scan the histories for a Secret's value. The application workflows call the
 * same activities.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { ApplicationActivities, CapturedResources, CaptureResourcesInput, RestoreResourcesInput, RestoreResourcesResult } from '../../../src/application/types.ts';

const { captureResources, restoreResources } = proxyActivities<Pick<ApplicationActivities, 'captureResources' | 'restoreResources'>>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '90s',
  retry: { maximumAttempts: 2, initialInterval: '1s' },
});

export async function captureResourcesWorkflow(input: CaptureResourcesInput): Promise<CapturedResources> {
  return captureResources(input);
}

export async function restoreResourcesWorkflow(input: RestoreResourcesInput): Promise<RestoreResourcesResult> {
  return restoreResources(input);
}
