/**
 * The one Kubernetes client factory. Finds a kubeconfig the way kubectl users expect (an explicit path,
 * then $KUBECONFIG, then the pod's service account when in a cluster, then the local stack's
 * `.cairn/kubeconfig`, then ~/.kube/config) and builds the typed API clients everything else uses.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { DynamicObjectApi } from './dynamic.ts';

export interface KubeClients {
  config: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  batch: k8s.BatchV1Api;
  storage: k8s.StorageV1Api;
  custom: k8s.CustomObjectsApi;
  /** Any object by apiVersion/kind, CRDs included. */
  objects: k8s.KubernetesObjectApi;
  /** Any object by group/version and resource name or kind, through discovery, as plain JSON. */
  dynamic: DynamicObjectApi;
}

const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export function loadKubeConfig(explicitPath?: string): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  for (const candidate of [explicitPath, process.env.KUBECONFIG]) {
    if (candidate && existsSync(candidate)) {
      config.loadFromFile(candidate);
      return config;
    }
  }
  // In a pod, its ServiceAccount before the stack's admin kubeconfig: a worker run in the local cluster from
  // this checkout (the pod runtime) must act with the chart's RBAC, as it would in a real cluster.
  if (process.env.KUBERNETES_SERVICE_HOST && existsSync(SERVICE_ACCOUNT_TOKEN)) {
    config.loadFromCluster();
    return config;
  }
  const stack = join(process.env.CAIRN_STATE_DIR ?? join(REPO_ROOT, '.cairn'), 'kubeconfig');
  if (existsSync(stack)) {
    config.loadFromFile(stack);
    return config;
  }
  const home = join(homedir(), '.kube', 'config');
  if (existsSync(home)) {
    config.loadFromFile(home);
    return config;
  }
  throw new Error('no kubeconfig found: set KUBECONFIG, run `npm run stack:up` for the local cluster, or run inside a cluster');
}

export function kubeClientsFor(config: k8s.KubeConfig): KubeClients {
  return {
    config,
    core: config.makeApiClient(k8s.CoreV1Api),
    apps: config.makeApiClient(k8s.AppsV1Api),
    batch: config.makeApiClient(k8s.BatchV1Api),
    storage: config.makeApiClient(k8s.StorageV1Api),
    custom: config.makeApiClient(k8s.CustomObjectsApi),
    objects: k8s.KubernetesObjectApi.makeApiClient(config),
    dynamic: DynamicObjectApi.make(config),
  };
}

let shared: KubeClients | undefined;

/** Clients for the default kubeconfig, built once per process. */
export function kubeClients(): KubeClients {
  shared ??= kubeClientsFor(loadKubeConfig());
  return shared;
}

/** True for the API's 404, whatever the client version wraps it in. */
export function isNotFound(error: unknown): boolean {
  const code = (error as { code?: number; statusCode?: number; response?: { statusCode?: number } })?.code ?? (error as { statusCode?: number })?.statusCode;
  return code === 404 || /HTTP-Code: 404/.test(String((error as Error)?.message ?? ''));
}
