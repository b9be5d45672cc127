/**
 * WaitForSnapshotReady: waits until a VolumeSnapshot is ready to use (the CSI counterpart of Kanister's
 * WaitForSnapshotCompletion), heartbeating its state. Fails on the controller's `status.error` and after
 * `timeout` (default 10m). The deadline travels in the heartbeat, so a retried attempt waits only for what is
 * left of it instead of starting the clock again.
 */
import { parseDuration } from '../../src/duration.ts';
import { isJsonObject } from '../../src/json.ts';
import { waitForSnapshotReady } from '../kube/snapshots.ts';
import type { CairnFunction } from './types.ts';

const DEFAULT_TIMEOUT = '10m';

export const WaitForSnapshotReady: CairnFunction = {
  name: 'WaitForSnapshotReady',
  async run({ args, kube, heartbeat, previousHeartbeat, signal }) {
    const namespace = String(args.namespace);
    const name = String(args.name);
    const timeout = String(args.timeout ?? DEFAULT_TIMEOUT);
    const timeoutMs = parseDuration(timeout)!;
    const earlier = isJsonObject(previousHeartbeat) && typeof previousHeartbeat.deadline === 'number' ? previousHeartbeat.deadline : undefined;
    const deadline = earlier ?? Date.now() + timeoutMs;
    const snapshot = await waitForSnapshotReady(kube(), namespace, name, { signal, heartbeat, deadline, timeout, details: { deadline } });
    return {
      restoreSize: snapshot.status?.restoreSize ?? '',
      snapshotContent: snapshot.status?.boundVolumeSnapshotContentName ?? '',
    };
  },
};
