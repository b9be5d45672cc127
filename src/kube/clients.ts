/**
 * The one Kubernetes client factory. Finds a kubeconfig the way kubectl users expect (an explicit path,
 * then $KUBECONFIG, then the local stack's `.cairn/kubeconfig`, then in-cluster service account, then
 * ~/.kube/config) and builds the typed API clients everything else uses.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';

export interface KubeClients {
  config: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  batch: k8s.BatchV1Api;
  storage: k8s.StorageV1Api;
  custom: k8s.CustomObjectsApi;
  /** Any object by apiVersion/kind, CRDs included. */
  objects: k8s.KubernetesObjectApi;
}

const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

export function loadKubeConfig(explicitPath?: string): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  const candidates = [explicitPath, process.env.KUBECONFIG, join(process.env.CAIRN_STATE_DIR ?? join(REPO_ROOT, '.cairn'), 'kubeconfig')];
  for (const candidate of candidates) {
    if (candidate && existsSync(candidate)) {
      config.loadFromFile(candidate);
      return config;
    }
  }
  if (process.env.KUBERNETES_SERVICE_HOST) {
    config.loadFromCluster();
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
