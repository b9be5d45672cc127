/**
 * What a kubelet gives a pod so that code inside it can talk to the API server as its ServiceAccount, and
 * the images whose entrypoint the runtime knows:
 * - `KUBERNETES_SERVICE_HOST`/`_PORT`: the API server's real address (the `kubernetes` Service's ClusterIP
 *   would need a proxy, and there is none here);
 * - the `serviceAccountToken` source of a projected volume (the ServiceAccount admission plugin adds one,
 *   `kube-api-access-*`, to every pod): a token from the TokenRequest API, bound to the pod, with the audience
 *   and lifetime the projection asks for — what the kubelet does. With the `ca.crt` (ConfigMap
 *   `kube-root-ca.crt`) and `namespace` (downward API) files of the same volume, in-cluster config works;
 * - Cairn's own image (`ghcr.io/cairn-dev/cairn:<tag>`, repository `cairn`): its entrypoint is this checkout's
 *   `bin/cairn.js` on this checkout's Node, so the Helm chart's worker Deployment runs this code.
 * Not done: the kubelet refreshes the token at 80% of its lifetime; here it is minted once per pod start (the
 * API server issues the admission plugin's 3607 s tokens with a year's validity, so that suffices).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { imageRepository } from './databases/engine.ts';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');

/** The entrypoint of an image the runtime knows (`command` in the pod spec overrides it, as in a container). */
export function imageEntrypoint(image: string | undefined): string[] | undefined {
  if (image && imageRepository(image) === 'cairn') return [resolve(ROOT, 'node_modules/.bin/node'), resolve(ROOT, 'bin/cairn.js')];
  return undefined;
}

/** `KUBERNETES_SERVICE_HOST`/`KUBERNETES_SERVICE_PORT` for the API server the runtime itself talks to. */
export function apiServerEnv(config: k8s.KubeConfig): Record<string, string> {
  const server = config.getCurrentCluster()?.server;
  if (!server) return {};
  const url = new URL(server);
  return {
    KUBERNETES_SERVICE_HOST: url.hostname,
    KUBERNETES_SERVICE_PORT: url.port || (url.protocol === 'https:' ? '443' : '80'),
    KUBERNETES_SERVICE_PORT_HTTPS: url.port || '443',
  };
}

/** The token file of a projected `serviceAccountToken` source: a TokenRequest bound to the pod. */
export async function serviceAccountToken(core: k8s.CoreV1Api, pod: k8s.V1Pod, source: k8s.V1ServiceAccountTokenProjection): Promise<string> {
  const namespace = pod.metadata!.namespace!;
  const request = await core.createNamespacedServiceAccountToken({
    namespace,
    name: pod.spec?.serviceAccountName ?? 'default',
    body: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        audiences: source.audience ? [source.audience] : [],
        expirationSeconds: source.expirationSeconds ?? 3600,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata!.name!, uid: pod.metadata!.uid! },
      },
    },
  });
  if (!request.status?.token) throw new Error(`no token for serviceaccount ${namespace}/${pod.spec?.serviceAccountName ?? 'default'}`);
  return request.status.token;
}
