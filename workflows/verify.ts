/**
 * verifyRepository: checks that an application's restore points still restore (activities/retention/verify.ts)
 * and returns the report. A repository that fails verification fails the workflow, naming each bad snapshot
 * and its restore point, with the whole report in the failure's details: a scheduled verification that finds
 * damage shows up as a failed workflow, where alerting looks.
 */
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { RetentionActivities, VerifyInput, VerifyReport } from '../src/retention/types.ts';

const activities = proxyActivities<RetentionActivities>({
  startToCloseTimeout: '12 hours',
  heartbeatTimeout: '2 minutes',
  retry: { maximumAttempts: 3, initialInterval: '5 seconds', nonRetryableErrorTypes: ['CairnError'] },
});

export async function verifyRepository(input: VerifyInput): Promise<VerifyReport> {
  const report = await activities.verifySnapshots(input);
  if (!report.ok) {
    const lines = [
      ...report.failures.map((failure) => `snapshot ${failure.snapshotID} of restore point ${failure.restorePoint}: ${failure.error}`),
      ...report.problems.map((problem) => `unreadable manifest: ${problem}`),
    ];
    throw ApplicationFailure.create({
      type: 'VerificationFailed',
      message: `repository of application ${report.application} failed verification (${report.failures.length} snapshot(s), ${report.problems.length} manifest problem(s)): ${lines.slice(0, 5).join('; ')}`,
      nonRetryable: true,
      details: [report],
    });
  }
  return report;
}
