import type * as k8s from '@kubernetes/client-node';

/** What the runtime knows about one container, as the kubelet would report it. */
export interface ContainerRecord {
  name: string;
  image: string;
  restartCount: number;
  /** Running and, for a database, accepting connections. */
  ready: boolean;
  state:
    | { kind: 'waiting'; reason: string; message?: string }
    | { kind: 'running'; startedAt: Date }
    | { kind: 'terminated'; exitCode: number; reason: string; startedAt: Date; finishedAt: Date; signal?: NodeJS.Signals };
  lastTerminated?: { exitCode: number; reason: string; startedAt: Date; finishedAt: Date };
}

export type PodPhase = 'Running' | 'Succeeded' | 'Failed';

/**
 * The phase the kubelet would report: Succeeded when every container ended with 0 and none will restart,
 * Failed when all ended and one did not end with 0, Running otherwise. Never Pending: kwok has already
 * marked the pod Running, and a pod put back to Pending would be picked up by kwok's pod-ready stage again.
 */
export function podPhase(restartPolicy: string | undefined, containers: ContainerRecord[]): PodPhase {
  const policy = restartPolicy ?? 'Always';
  const allTerminated = containers.every((container) => container.state.kind === 'terminated');
  if (!allTerminated || policy === 'Always') return 'Running';
  const exitCodes = containers.map((container) => (container.state.kind === 'terminated' ? container.state.exitCode : 0));
  if (exitCodes.every((code) => code === 0)) return 'Succeeded';
  return policy === 'Never' ? 'Failed' : 'Running';
}

/** Whether the container is started again after it exits with `exitCode`. */
export function restarts(restartPolicy: string | undefined, exitCode: number): boolean {
  const policy = restartPolicy ?? 'Always';
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

function containerStatus(record: ContainerRecord): k8s.V1ContainerStatus {
  const status: k8s.V1ContainerStatus = {
    name: record.name,
    image: record.image,
    imageID: '',
    restartCount: record.restartCount,
    ready: record.ready && record.state.kind === 'running',
    started: record.state.kind === 'running',
    state: {},
  };
  const state = record.state;
  if (state.kind === 'waiting') status.state = { waiting: { reason: state.reason, message: state.message } };
  if (state.kind === 'running') status.state = { running: { startedAt: state.startedAt } };
  if (state.kind === 'terminated') {
    status.state = {
      terminated: {
        exitCode: state.exitCode,
        reason: state.reason,
        startedAt: state.startedAt,
        finishedAt: state.finishedAt,
        ...(state.signal ? { message: `killed by ${state.signal}` } : {}),
      },
    };
  }
  if (record.lastTerminated) status.lastState = { terminated: record.lastTerminated };
  return status;
}

/** A merge patch for the pod's status subresource; lists replace whole, so it carries all conditions. */
export function statusPatch(pod: k8s.V1Pod, containers: ContainerRecord[], now = new Date()): { status: Partial<k8s.V1PodStatus> } {
  const phase = podPhase(pod.spec?.restartPolicy, containers);
  const ready = phase === 'Running' && containers.every((container) => container.ready && container.state.kind === 'running');
  const previous = new Map((pod.status?.conditions ?? []).map((condition) => [condition.type, condition]));
  const condition = (type: string, status: boolean): k8s.V1PodCondition => {
    const value = status ? 'True' : 'False';
    const before = previous.get(type);
    return { type, status: value, lastTransitionTime: before?.status === value ? before.lastTransitionTime : now };
  };
  return {
    status: {
      phase,
      conditions: [
        condition('PodScheduled', true),
        condition('Initialized', true),
        condition('ContainersReady', ready),
        condition('Ready', ready),
      ],
      containerStatuses: containers.map(containerStatus),
    },
  };
}

/** The kubelet's reasons: Completed for 0, Error otherwise (OOMKilled and the like do not happen here). */
export function terminationReason(exitCode: number): string {
  return exitCode === 0 ? 'Completed' : 'Error';
}
