/**
 * The DR drill's side effects: the isolated namespace (labelled as the drill's, NetworkPolicies that cut it
 * off from everything outside it, created before anything is restored), a read-only look at the source
 * (resourceVersions, Ingress hosts), and the namespace's deletion, which only ever touches a namespace that
 * carries this drill's label.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import * as k8s from '@kubernetes/client-node';
import type { V1Namespace } from '@kubernetes/client-node';
import {
  DRILL_LABEL,
  sourceKey,
  DRILL_OF_LABEL,
  type CreateDrillNamespaceInput,
  type DeleteDrillNamespaceInput,
  type DrillSourceState,
  type InspectDrillSourceInput,
} from '../../src/application/types.ts';
import { describeRequester, subjectOf } from '../../src/authz/identity.ts';
import { CAIRN_API_GROUP, OPERATOR_ROLES, RUNS_RESOURCE } from '../../src/authz/verbs.ts';
import { isJsonObject, type JsonObject } from '../../src/json.ts';
import type { RunRequester } from '../../src/run/types.ts';
import { waitForDefaultServiceAccount } from '../../src/kube/apply.ts';
import { isNotFound, type KubeClients } from '../../src/kube/clients.ts';
import { apiErrorMessage, statusCodeOf } from '../../src/kube/dynamic.ts';
import { pause } from '../functions/pause.ts';

const DRILL_REQUESTER_BINDING = 'cairn-drill-requester';

export interface DrillDeps {
  kube: () => KubeClients;
}

const POLL_MS = 1000;

/**
 * Pods of the drill namespace talk to each other (the api must reach its database to become ready) and to
 * DNS, and to nothing else; Cairn's own data movers (task pods, labelled managed-by cairn) may also reach
 * the location. NetworkPolicies add up: deny-all plus these allows is exactly that.
 */
export function drillNetworkPolicies(namespace: string, drill: string): JsonObject[] {
  const metadata = (name: string) => ({ name, namespace, labels: { [DRILL_LABEL]: drill } });
  return [
    { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: metadata('cairn-drill-deny-all'), spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata('cairn-drill-allow-internal'),
      spec: {
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ podSelector: {} }] }],
        egress: [
          { to: [{ podSelector: {} }] },
          { to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] },
        ],
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata('cairn-drill-allow-data-movers'),
      spec: { podSelector: { matchLabels: { 'app.kubernetes.io/managed-by': 'cairn' } }, policyTypes: ['Egress'], egress: [{}] },
    },
  ];
}

function isDrillNamespace(namespace: V1Namespace, drill: string): boolean {
  return namespace.metadata?.labels?.[DRILL_LABEL] === drill;
}

async function readNamespace(kube: KubeClients, name: string): Promise<V1Namespace | undefined> {
  try {
    return await kube.core.readNamespace({ name });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export function createCreateDrillNamespace(deps: DrillDeps) {
  return async function createDrillNamespace(input: CreateDrillNamespaceInput): Promise<{ created: boolean }> {
    const kube = deps.kube();
    if (input.namespace === input.sourceNamespace) throw ApplicationFailure.nonRetryable(`a drill never restores into its source namespace ${input.sourceNamespace}`, 'CairnError');
    let created = false;
    const existing = await readNamespace(kube, input.namespace);
    if (existing && !isDrillNamespace(existing, input.drill)) {
      throw ApplicationFailure.nonRetryable(`namespace ${input.namespace} exists and is not drill ${input.drill}'s; a drill never touches what it did not create (choose another suffix)`, 'CairnError');
    }
    if (existing?.metadata?.deletionTimestamp) throw new Error(`namespace ${input.namespace} of an earlier attempt is still being deleted`);
    if (!existing) {
      try {
        await kube.core.createNamespace({
          body: {
            metadata: {
              name: input.namespace,
              labels: { [DRILL_LABEL]: input.drill, [DRILL_OF_LABEL]: input.application },
              annotations: { 'cairn.io/drill-source': input.sourceNamespace, 'cairn.io/drill-workflow': input.workflowId },
            },
          },
        });
        created = true;
      } catch (error) {
        // A create that raced our own earlier attempt is fine; anything else that exists is not ours.
        if (statusCodeOf(error) !== 409) throw new Error(`cannot create namespace ${input.namespace}: ${apiErrorMessage(error)}`);
        const raced = await readNamespace(kube, input.namespace);
        if (!raced || !isDrillNamespace(raced, input.drill)) throw ApplicationFailure.nonRetryable(`namespace ${input.namespace} appeared and is not drill ${input.drill}'s`, 'CairnError');
      }
    }
    const resource = await kube.dynamic.resourceForKind('networking.k8s.io/v1', 'NetworkPolicy');
    for (const policy of drillNetworkPolicies(input.namespace, input.drill)) {
      try {
        await kube.dynamic.createObject(resource, policy, input.namespace, 'cairn-drill');
      } catch (error) {
        if (statusCodeOf(error) !== 409) throw new Error(`cannot create NetworkPolicy ${input.namespace}/${(policy.metadata as JsonObject).name}: ${apiErrorMessage(error)}`);
      }
    }
    if (input.requestedBy) await bindRequester(kube, input.namespace, input.requestedBy);
    await waitForDefaultServiceAccount(kube, input.namespace);
    return { created };
  };
}

/** Reads only: what the source looks like now (to prove afterwards that the drill did not change it). */
export function createInspectDrillSource(deps: DrillDeps) {
  return async function inspectDrillSource(input: InspectDrillSourceInput): Promise<DrillSourceState> {
    const kube = deps.kube();
    const state: DrillSourceState = { resourceVersions: {}, ingressHosts: [] };
    const hosts = new Set<string>();
    for (const item of input.items) {
      const key = sourceKey(item);
      let object: JsonObject;
      try {
        object = await kube.dynamic.get(await kube.dynamic.resourceForKind(item.apiVersion, item.kind), item.name, input.namespace);
      } catch (error) {
        if (!isNotFound(error)) throw error;
        state.resourceVersions[key] = 'absent';
        continue;
      }
      const metadata = isJsonObject(object.metadata) ? object.metadata : {};
      state.resourceVersions[key] = String(metadata.resourceVersion ?? '');
      if (item.kind === 'Ingress') for (const host of ingressHostsOf(object)) hosts.add(host);
    }
    state.ingressHosts = [...hosts].sort();
    return state;
  };
}

function ingressHostsOf(ingress: JsonObject): string[] {
  const spec = isJsonObject(ingress.spec) ? ingress.spec : {};
  const hosts: string[] = [];
  for (const rule of Array.isArray(spec.rules) ? spec.rules : []) if (isJsonObject(rule) && typeof rule.host === 'string') hosts.push(rule.host);
  for (const tls of Array.isArray(spec.tls) ? spec.tls : []) {
    if (isJsonObject(tls) && Array.isArray(tls.hosts)) for (const host of tls.hosts) if (typeof host === 'string') hosts.push(host);
  }
  return hosts;
}

export function createDeleteDrillNamespace(deps: DrillDeps) {
  return async function deleteDrillNamespace(input: DeleteDrillNamespaceInput): Promise<{ deleted: boolean; skipped?: string }> {
    const context = Context.current();
    const kube = deps.kube();
    const deadline = Date.now() + input.timeoutMs;
    let namespace = await readNamespace(kube, input.namespace);
    if (!namespace) return { deleted: false };
    // Someone else's namespace of that name (the drill refused to start in it): never ours to delete.
    if (!isDrillNamespace(namespace, input.drill)) return { deleted: false, skipped: `namespace ${input.namespace} does not carry ${DRILL_LABEL}=${input.drill}: left alone` };
    if (!namespace.metadata?.deletionTimestamp) {
      try {
        await kube.core.deleteNamespace({ name: input.namespace });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    for (;;) {
      namespace = await readNamespace(kube, input.namespace);
      if (!namespace) return { deleted: true };
      const conditions = (namespace.status?.conditions ?? []).filter((c) => c.status === 'True').map((c) => `${c.type}: ${c.message ?? ''}`);
      context.heartbeat({ namespace: input.namespace, phase: namespace.status?.phase, conditions });
      if (Date.now() > deadline) {
        throw new Error(`namespace ${input.namespace} is still ${namespace.status?.phase ?? 'there'} after ${Math.round(input.timeoutMs / 1000)}s${conditions.length ? ` (${conditions.join('; ')})` : ''}`);
      }
      await pause(POLL_MS, context.cancellationSignal, `cancelled while waiting for namespace ${input.namespace} to be deleted`);
    }
  };
}

/**
 * A namespace-scoped operator may restore their namespace but holds no rights in the drill's fresh namespace:
 * the drill (after the requester passed the check on the source) grants them the restore operator's verbs
 * there, and the grant goes with the namespace. A Role of its own rather than a binding to the shipped
 * ClusterRole: the drill must work where the chart's operator roles are not installed (rbac.operatorRoles=false).
 */
async function bindRequester(kube: KubeClients, namespace: string, requester: RunRequester): Promise<void> {
  const subject = subjectOf(requester);
  if (!subject) throw ApplicationFailure.nonRetryable(`requestedBy ${describeRequester(requester)} names no user or ServiceAccount`, 'CairnError');
  const [saNamespace, saName] = requester.serviceAccount?.split('/') ?? [];
  const rbac = kube.config.makeApiClient(k8s.RbacAuthorizationV1Api);
  const metadata = { name: DRILL_REQUESTER_BINDING, labels: { [DRILL_LABEL]: namespace } };
  const role: k8s.V1Role = {
    metadata,
    rules: [{ apiGroups: [CAIRN_API_GROUP], resources: [RUNS_RESOURCE], verbs: [...OPERATOR_ROLES['cairn-restore-operator']] }],
  };
  const binding: k8s.V1RoleBinding = {
    metadata,
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: DRILL_REQUESTER_BINDING },
    subjects: saNamespace && saName ? [{ kind: 'ServiceAccount', name: saName, namespace: saNamespace }] : [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: subject.user }],
  };
  try {
    await rbac.createNamespacedRole({ namespace, body: role }).catch((error: unknown) => {
      if (statusCodeOf(error) !== 409) throw error;
    });
    await rbac.createNamespacedRoleBinding({ namespace, body: binding }).catch((error: unknown) => {
      if (statusCodeOf(error) !== 409) throw error;
    });
  } catch (error) {
    throw new Error(`cannot grant the drill's requester the restore operator's verbs in ${namespace}: ${apiErrorMessage(error)}`);
  }
}
