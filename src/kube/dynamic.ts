/**
 * Any object by group/version and resource name (what Kanister's object references name) or by kind, found
 * through the API server's discovery. Built on client-node's KubernetesObjectApi (its configuration, auth and
 * HTTP stack) but answering plain JSON: the typed deserialisation of KubernetesObjectApi drops fields its models
 * do not know, and a function that returns an object or evaluates a condition on it must see all of it.
 */
import * as k8s from '@kubernetes/client-node';
import type { JsonObject } from '../json.ts';

/** One resource the API server serves. `apiVersion` is `group/version`, or `version` for the core group. */
export interface ApiResource {
  group: string;
  version: string;
  apiVersion: string;
  /** Plural resource name, as in the URL: `configmaps`. */
  resource: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
}

/** Discovery has no such group/version, kind or resource: retrying will not help until someone installs it. */
export class UnknownResourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownResourceError';
  }
}

interface DiscoveredResource {
  name: string;
  singularName?: string;
  shortNames?: string[];
  kind: string;
  namespaced: boolean;
  verbs?: string[];
}

const RAW = 'cairn:raw-json';

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** `group/version` from Kanister's split form (apiVersion holds the version, group the group) or the joined one. */
export function joinApiVersion(apiVersion: string, group?: string): string {
  if (apiVersion.includes('/')) {
    const [own] = apiVersion.split('/');
    if (group && group !== own) throw new UnknownResourceError(`apiVersion "${apiVersion}" and group "${group}" disagree`);
    return apiVersion;
  }
  return group ? `${group}/${apiVersion}` : apiVersion;
}

export class DynamicObjectApi extends k8s.KubernetesObjectApi {
  private readonly discovery = new Map<string, DiscoveredResource[]>();

  static make(config: k8s.KubeConfig): DynamicObjectApi {
    const api = config.makeApiClient(DynamicObjectApi);
    api.setDefaultNamespace(config);
    return api;
  }

  /** The resource of `kind` in `apiVersion` (`apps/v1`). */
  async resourceForKind(apiVersion: string, kind: string): Promise<ApiResource> {
    return this.find(apiVersion, (r) => r.kind === kind, `kind "${kind}"`);
  }

  /** The resource named `name` (plural, singular, a short name or the kind, any case) in `apiVersion`. */
  async resourceNamed(apiVersion: string, name: string): Promise<ApiResource> {
    const wanted = name.toLowerCase();
    return this.find(apiVersion, (r) => r.name === wanted || r.singularName === wanted || (r.shortNames ?? []).includes(wanted) || r.kind.toLowerCase() === wanted, `resource "${name}"`);
  }

  /**
   * Every resource the API server serves, in the core `v1` and each group's preferred version. A group whose
   * discovery fails (an aggregated API that is down) is left out and named in `unavailable`.
   */
  async serverResources(): Promise<{ resources: ApiResource[]; unavailable: string[] }> {
    const groups = (await this.send(k8s.HttpMethod.GET, '/apis')) as { groups?: Array<{ preferredVersion?: { groupVersion?: string } }> };
    const versions = ['v1', ...(groups.groups ?? []).map((g) => g.preferredVersion?.groupVersion).filter((v): v is string => !!v)];
    const resources: ApiResource[] = [];
    const unavailable: string[] = [];
    for (const apiVersion of versions) {
      let served: DiscoveredResource[];
      try {
        served = await this.discover(apiVersion, true);
      } catch {
        unavailable.push(apiVersion);
        continue;
      }
      const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
      for (const r of served) resources.push({ group, version, apiVersion, resource: r.name, kind: r.kind, namespaced: r.namespaced, verbs: r.verbs ?? [] });
    }
    return { resources, unavailable };
  }

  async get(resource: ApiResource, name: string, namespace?: string): Promise<JsonObject> {
    return this.send(k8s.HttpMethod.GET, this.objectPath(resource, namespace, name));
  }

  async listObjects(resource: ApiResource, namespace: string | undefined, labelSelector: string): Promise<JsonObject[]> {
    const list = await this.send(k8s.HttpMethod.GET, this.objectPath(resource, namespace), { query: { labelSelector } });
    return (Array.isArray(list.items) ? list.items : []) as JsonObject[];
  }

  async createObject(resource: ApiResource, body: JsonObject, namespace?: string, fieldManager = 'cairn'): Promise<JsonObject> {
    return this.send(k8s.HttpMethod.POST, this.objectPath(resource, namespace), { body: JSON.stringify(body), contentType: 'application/json', query: { fieldManager } });
  }

  /** `patch` is the body as sent: a JSON object (merge, strategic, apply) or a JSON array (json). */
  async patchObject(resource: ApiResource, name: string, namespace: string | undefined, patch: unknown, type: PatchType, fieldManager = 'cairn'): Promise<JsonObject> {
    const query: Record<string, string> = { fieldManager };
    // Server-side apply takes over fields other managers set, as `kubectl apply --server-side --force-conflicts`.
    if (type === 'apply') query.force = 'true';
    return this.send(k8s.HttpMethod.PATCH, this.objectPath(resource, namespace, name), { body: JSON.stringify(patch), contentType: PATCH_CONTENT_TYPES[type], query });
  }

  async deleteObject(resource: ApiResource, name: string, namespace?: string): Promise<JsonObject> {
    return this.send(k8s.HttpMethod.DELETE, this.objectPath(resource, namespace, name), { body: JSON.stringify({ propagationPolicy: 'Background' }), contentType: 'application/json' });
  }

  private objectPath(resource: ApiResource, namespace: string | undefined, name?: string): string {
    const parts = [this.apiVersionPath(resource.apiVersion)];
    if (resource.namespaced) parts.push('namespaces', encodeURIComponent(namespace || this.defaultNamespace));
    parts.push(resource.resource);
    if (name !== undefined) parts.push(encodeURIComponent(name));
    return parts.join('/');
  }

  private async find(apiVersion: string, match: (r: DiscoveredResource) => boolean, what: string): Promise<ApiResource> {
    let found = (await this.discover(apiVersion, false)).find(match);
    // A CRD installed since the last look: ask again before giving up.
    if (!found) found = (await this.discover(apiVersion, true)).find(match);
    if (!found) {
      const served = (await this.discover(apiVersion, false)).map((r) => r.name);
      throw new UnknownResourceError(`the API server has no ${what} in ${apiVersion}${served.length ? ` (it serves ${served.join(', ')})` : ''}`);
    }
    const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
    return { group, version, apiVersion, resource: found.name, kind: found.kind, namespaced: found.namespaced, verbs: found.verbs ?? [] };
  }

  private async discover(apiVersion: string, refresh: boolean): Promise<DiscoveredResource[]> {
    const cached = this.discovery.get(apiVersion);
    if (cached && !refresh) return cached;
    let list: { resources?: DiscoveredResource[] };
    try {
      list = await this.send(k8s.HttpMethod.GET, this.apiVersionPath(apiVersion));
    } catch (error) {
      if ((error as { code?: number }).code === 404) throw new UnknownResourceError(`the API server does not serve ${apiVersion} (no such API group or version)`);
      throw error;
    }
    // Subresources (`pods/log`) are not objects of their own.
    const resources = (list.resources ?? []).filter((r) => !r.name.includes('/'));
    this.discovery.set(apiVersion, resources);
    return resources;
  }

  private async send(method: k8s.HttpMethod, path: string, options: { body?: string; contentType?: string; query?: Record<string, string> } = {}): Promise<JsonObject> {
    const context = this.configuration.baseServer.makeRequestContext(path, method);
    context.setHeaderParam('Accept', 'application/json');
    for (const [key, value] of Object.entries(options.query ?? {})) context.setQueryParam(key, value);
    if (options.body !== undefined) {
      context.setHeaderParam('Content-Type', options.contentType ?? 'application/json');
      context.setBody(options.body);
    }
    return (await this.requestPromise(context, RAW)) as unknown as JsonObject;
  }

  protected override async processResponse<T extends k8s.KubernetesObject>(response: k8s.ResponseContext, type?: string): Promise<T> {
    if (type !== RAW) return super.processResponse<T>(response, type);
    const text = await response.body.text();
    if (response.httpStatusCode >= 200 && response.httpStatusCode <= 299) return (text ? JSON.parse(text) : {}) as T;
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: keep the text.
    }
    throw new k8s.ApiException(response.httpStatusCode, statusMessage(body) ?? `HTTP ${response.httpStatusCode}`, body, response.headers);
  }
}

/** The API server's own words (`configmaps "x" already exists`), when the body is a Status. */
function statusMessage(body: unknown): string | undefined {
  const message = (body as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : undefined;
}

/** The HTTP status of an API error, whatever wraps it. */
export function statusCodeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The API server's message for an API error (`configmaps "x" already exists`), else the error's own. */
export function apiErrorMessage(error: unknown): string {
  const body = (error as { body?: unknown } | null)?.body;
  return statusMessage(body) ?? (error instanceof Error ? error.message : String(error));
}
