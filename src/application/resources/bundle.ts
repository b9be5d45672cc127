/**
 * The resource bundle: an application's captured Kubernetes objects as one JSON document, the one file
 * (`resources.json`) of one kopia snapshot in the application's repository. It holds Secrets whole, so it lives
 * only inside kopia (encrypted); what leaves kopia is its index (`indexOf`): identities and counts.
 *
 *   { "apiVersion": "cairn.io/v1alpha1", "kind": "ResourceBundle", "formatVersion": 1,
 *     "application": "shop", "namespace": "shop", "capturedAt": "2026-...Z",
 *     "objects": [ { "apiVersion": "v1", "kind": "ConfigMap", "metadata": {...}, ... }, ... ] }
 *
 * Objects are stored as the API server returned them (not cleaned): cleaning and transforms belong to the
 * restore, so a later Cairn can clean differently from the same bundle.
 */
import { isJsonObject, type JsonObject } from '../../json.ts';
import type { CapturedResources, ResourceItem } from '../types.ts';
import { identityOf } from './clean.ts';

export const BUNDLE_FILE = 'resources.json';
export const BUNDLE_FORMAT = 1;

export interface ResourceBundle {
  apiVersion: 'cairn.io/v1alpha1';
  kind: 'ResourceBundle';
  formatVersion: number;
  application: string;
  namespace: string;
  capturedAt: string;
  objects: JsonObject[];
}

export function makeBundle(application: string, namespace: string, capturedAt: string, objects: JsonObject[]): ResourceBundle {
  return { apiVersion: 'cairn.io/v1alpha1', kind: 'ResourceBundle', formatVersion: BUNDLE_FORMAT, application, namespace, capturedAt, objects };
}

export function itemOf(object: JsonObject): ResourceItem {
  return identityOf(object);
}

/** What may be shown and kept in workflow history: identities and counts, no object content. */
export function indexOf(bundle: ResourceBundle, snapshotID: string): CapturedResources {
  const items = bundle.objects.map(itemOf);
  const kinds: Record<string, number> = {};
  for (const item of items) kinds[item.kind] = (kinds[item.kind] ?? 0) + 1;
  return { snapshotID, items, kinds };
}

export function parseBundle(text: string, where: string): ResourceBundle {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where}: the resource bundle is not JSON (${(error as Error).message})`);
  }
  if (!isJsonObject(parsed) || parsed.kind !== 'ResourceBundle' || !Array.isArray(parsed.objects)) throw new Error(`${where}: not a Cairn resource bundle`);
  if (typeof parsed.formatVersion !== 'number' || parsed.formatVersion > BUNDLE_FORMAT) {
    throw new Error(`${where}: resource bundle format ${String(parsed.formatVersion)} is newer than this Cairn reads (${BUNDLE_FORMAT}); upgrade Cairn`);
  }
  if (!parsed.objects.every(isJsonObject)) throw new Error(`${where}: the resource bundle holds something that is not an object`);
  return parsed as unknown as ResourceBundle;
}

/**
 * Every value of every Secret of the bundle, plain and base64-decoded, longest first: scrubbed from any message
 * that leaves a restore (an API server's refusal may quote what it refused).
 */
export function bundleSecretValues(bundle: ResourceBundle): string[] {
  const values = new Set<string>();
  for (const object of bundle.objects) {
    if (object.kind !== 'Secret') continue;
    for (const field of ['data', 'stringData']) {
      const map = object[field];
      if (!isJsonObject(map)) continue;
      for (const value of Object.values(map)) {
        if (typeof value !== 'string') continue;
        values.add(value);
        if (field === 'data') values.add(Buffer.from(value, 'base64').toString('utf8'));
      }
    }
  }
  // Very short values would turn every message into <redacted> soup, and guessing them gains nothing.
  return [...values].filter((v) => v.length >= 4).sort((a, b) => b.length - a.length);
}

/** `text` with every Secret value of the bundle replaced by `<redacted>`. */
export function scrubSecretValues(text: string, values: string[]): string {
  return values.reduce((message, secret) => message.split(secret).join('<redacted>'), text);
}
