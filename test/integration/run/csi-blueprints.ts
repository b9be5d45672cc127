// What the CSI snapshot function tests share: blueprints written as data, run by a worker against one
// namespace, pods that write and read PVCs through KubeTask, and listings of the snapshot objects.
import assert from 'node:assert/strict';
import type { WorkflowFailedError } from '@temporalio/client';
import type { RunActionResult } from '../../../src/run/types.ts';
import type { KubeClients } from '../../support/stack.ts';
import type { TemporalFixture } from '../../support/temporal.ts';

export const SNAPSHOT_API = { group: 'snapshot.storage.k8s.io', version: 'v1' };
export const GROUP_SNAPSHOT_API = { group: 'groupsnapshot.storage.k8s.io', version: 'v1' };

export interface VolumeSnapshot {
  metadata: { name: string; uid: string; labels?: Record<string, string> };
  spec: { source: { persistentVolumeClaimName?: string } };
  status?: { readyToUse?: boolean; boundVolumeSnapshotContentName?: string; restoreSize?: string; volumeGroupSnapshotName?: string };
}

export type Phase = Record<string, unknown>;
export type Outcome = RunActionResult | WorkflowFailedError;

/**
 * A KubeTask whose pod (played by the pod runtime) mounts `claims` (mount name → PVC) at `/mnt/<mount name>`:
 * under a directory the host has, so the runtime overlays it instead of creating directories on the host.
 */
export function task(name: string, command: string, claims: Record<string, string>): Phase {
  return {
    name,
    func: 'KubeTask',
    retry: { maxAttempts: 1 },
    args: {
      namespace: '{{Namespace}}',
      image: 'busybox:1.36',
      command: ['sh', '-c', command],
      podOverride: {
        volumes: Object.entries(claims).map(([mount, claim]) => ({ name: mount, persistentVolumeClaim: { claimName: claim } })),
        containers: [{ name: 'container', volumeMounts: Object.keys(claims).map((mount) => ({ name: mount, mountPath: `/mnt/${mount}` })) }],
      },
    },
  };
}

/** A shell command printing `file`'s content as the phase output `key`. */
export const outputFile = (key: string, file: string) => `echo "###Phase-output###: {\\"key\\":\\"${key}\\",\\"value\\":\\"$(cat ${file})\\"}"`;

/**
 * Runs `phases` as the backup action of a blueprint on the namespace. The workflow ID, and so every phase's
 * resource names, comes from `id`: running the same `id` again is what a retried attempt sees.
 */
export function runner(fixture: TemporalFixture, namespace: () => string) {
  return async (id: string, phases: Phase[]): Promise<Outcome> => {
    // JSON is YAML: the blueprint is written as data.
    const blueprint = JSON.stringify({
      apiVersion: 'cairn.io/v1alpha1',
      kind: 'Blueprint',
      metadata: { name: 'csi-test' },
      actions: { backup: { kinds: ['Namespace'], phases }, restore: { kinds: ['Namespace'], phases: [{ name: 'r', func: 'Sleep', args: { duration: '1ms' } }] } },
    });
    return fixture.client.workflow
      .execute('runAction', { taskQueue: fixture.taskQueue, workflowId: `${fixture.taskQueue}-${id}`, args: [{ blueprint: { inline: blueprint }, action: 'backup', target: `namespace/${namespace()}` }] })
      .then((r) => r as RunActionResult, (e: WorkflowFailedError) => e);
  };
}

export function succeeded(outcome: Outcome): RunActionResult {
  assert.ok(!(outcome instanceof Error), `the run failed: ${outcome instanceof Error ? String((outcome.cause as Error | undefined)?.message ?? outcome.message) : ''}`);
  return outcome;
}

/** The failed phase's message. */
export function failure(outcome: Outcome): string {
  assert.ok(outcome instanceof Error, 'the run should have failed');
  return String((outcome.cause as Error | undefined)?.message);
}

export async function listSnapshots(clients: KubeClients, namespace: string, labelSelector?: string): Promise<VolumeSnapshot[]> {
  const list = (await clients.custom.listNamespacedCustomObject({ ...SNAPSHOT_API, namespace, plural: 'volumesnapshots', ...(labelSelector ? { labelSelector } : {}) })) as {
    items: VolumeSnapshot[];
  };
  return list.items;
}
