/**
 * Phase metrics, taken around the `runPhase` activity rather than inside it: every function is measured the
 * same way without touching the phase runner. Outputs are read only for the byte counts of data functions.
 */
import { CancelledFailure, type Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { PhaseInvocation, PhaseResult } from '../run/types.ts';
import { targetNamespace } from '../worker/run-events.ts';
import type { CairnMetrics } from './cairn-metrics.ts';

export function phaseMetricsInterceptor(metrics: CairnMetrics): ActivityInterceptorsFactory {
  return (context: Context) => ({
    inbound: {
      async execute(input, next) {
        if (context.info.activityType !== 'runPhase') return next(input);
        const invocation = input.args[0] as PhaseInvocation;
        const started = performance.now();
        const seconds = () => (performance.now() - started) / 1000;
        const namespace = targetNamespace(invocation.target);
        try {
          const result = (await next(input)) as PhaseResult;
          metrics.phaseEnded(invocation.step.func, 'succeeded', seconds(), namespace, result.outputs);
          return result;
        } catch (error) {
          const cancelled = error instanceof CancelledFailure || context.cancellationSignal.aborted;
          metrics.phaseEnded(invocation.step.func, cancelled ? 'cancelled' : 'failed', seconds(), namespace);
          throw error;
        }
      },
    },
  });
}
