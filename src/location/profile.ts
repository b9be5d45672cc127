/**
 * Location profiles: where a run's data goes. A profile names a location (a filesystem directory or an S3
 * bucket and prefix) and, for S3, where the worker finds the credentials (a Secret or environment variable
 * names): never the credentials themselves, so a profile may be shown, logged and put in a template.
 * Pure parsing and types; loading them from files or the cluster is activities/location/profiles.ts.
 * Format: schemas/profile.schema.json, documented in docs/locations.md.
 */
import { checkAgainstSchema, schemaValidator } from '../blueprint/schema-check.ts';
import type { Diagnostic } from '../diagnostics.ts';
import type { ProfileContext } from '../template/context.ts';
import { parseSourceText, type SourceDocument, type SourceFile } from '../yaml-source.ts';

export const PROFILE_API_VERSION = 'cairn.io/v1alpha1';
/** The profile a run without `profile` uses: the embedded filesystem location (or a profile file of that name). */
export const DEFAULT_PROFILE = 'default';
/** Label of the Secrets and ConfigMaps in the worker's namespace that hold profiles. */
export const PROFILE_LABEL = 'cairn.io/profile';

export interface FilesystemLocation {
  type: 'filesystem';
  /** Absolute path of the location's root directory. */
  path: string;
}

export interface SecretCredentials {
  secretRef: {
    namespace: string;
    name: string;
    /** Data keys of the Secret; defaults aws_access_key_id, aws_secret_access_key (Kanister's). */
    keys: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  };
}

export interface EnvCredentials {
  /** Names of the worker's environment variables holding the credentials (for a worker's own local use). */
  env: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export type S3CredentialSource = SecretCredentials | EnvCredentials;

export interface ObjectLock {
  mode: 'GOVERNANCE' | 'COMPLIANCE';
  retentionDays: number;
}

export interface S3Location {
  type: 's3';
  /** `http(s)://host[:port]`, no path. */
  endpoint: string;
  bucket: string;
  /** '' or a key prefix ending in '/'. */
  prefix: string;
  region: string;
  skipTLSVerify: boolean;
  credentials: S3CredentialSource;
  objectLock?: ObjectLock;
}

export type Location = FilesystemLocation | S3Location;

export interface LocationProfile {
  name: string;
  description?: string;
  location: Location;
  /** Where the profile was defined, `file:line` (for messages). */
  source: string;
}

export const DEFAULT_S3_ENDPOINT = 'https://s3.amazonaws.com';
export const DEFAULT_S3_REGION = 'us-east-1';
export const DEFAULT_SECRET_KEYS = { accessKeyId: 'aws_access_key_id', secretAccessKey: 'aws_secret_access_key' } as const;

export interface ParsedProfiles {
  profiles: LocationProfile[];
  diagnostics: Diagnostic[];
}

/** Parses and validates every document of one profile file (or one Secret/ConfigMap data value). */
export function parseProfileText(text: string, file: string): ParsedProfiles {
  return parseProfileSource(parseSourceText(text, file));
}

/** The same for a file the one YAML loader has read (readSourceFile). */
export function parseProfileSource(source: SourceFile): ParsedProfiles {
  const diagnostics = [...source.diagnostics];
  const profiles: LocationProfile[] = [];
  for (const document of source.documents) {
    const problems = checkAgainstSchema(schemaValidator('profile.schema.json'), document.value, document, [], 'the profile');
    diagnostics.push(...problems);
    if (problems.length === 0) profiles.push(toProfile(document));
  }
  return { profiles, diagnostics };
}

interface ProfileDocument {
  metadata: { name: string };
  description?: string;
  location: { type: 'filesystem'; path: string } | RawS3;
}

interface RawS3 {
  type: 's3';
  endpoint?: string;
  bucket: string;
  prefix?: string;
  region?: string;
  skipTLSVerify?: boolean;
  credentials: { secretRef?: { namespace: string; name: string; keys?: Partial<SecretCredentials['secretRef']['keys']> }; env?: EnvCredentials['env'] };
  objectLock?: ObjectLock;
}

function toProfile(document: SourceDocument): LocationProfile {
  const value = document.value as ProfileDocument;
  const line = document.positionOf([]).line;
  const profile: LocationProfile = { name: value.metadata.name, location: toLocation(value.location), source: `${document.file}:${line}` };
  if (value.description !== undefined) profile.description = value.description;
  return profile;
}

function toLocation(raw: ProfileDocument['location']): Location {
  if (raw.type === 'filesystem') return { type: 'filesystem', path: raw.path.replace(/(.)\/+$/, '$1') };
  const credentials: S3CredentialSource = raw.credentials.secretRef
    ? {
        secretRef: {
          namespace: raw.credentials.secretRef.namespace,
          name: raw.credentials.secretRef.name,
          keys: { ...DEFAULT_SECRET_KEYS, ...raw.credentials.secretRef.keys },
        },
      }
    : { env: raw.credentials.env! };
  const location: S3Location = {
    type: 's3',
    endpoint: (raw.endpoint ?? DEFAULT_S3_ENDPOINT).replace(/\/+$/, ''),
    bucket: raw.bucket,
    prefix: normalisePrefix(raw.prefix ?? ''),
    region: raw.region ?? DEFAULT_S3_REGION,
    skipTLSVerify: raw.skipTLSVerify ?? false,
    credentials,
  };
  if (raw.objectLock) location.objectLock = { mode: raw.objectLock.mode, retentionDays: raw.objectLock.retentionDays };
  return location;
}

export function normalisePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed ? `${trimmed}/` : '';
}

/** The embedded default: a filesystem location under the worker's state directory. */
export function defaultProfile(path: string): LocationProfile {
  return { name: DEFAULT_PROFILE, location: { type: 'filesystem', path }, source: 'embedded default' };
}

/** What templates may read (`Profile`): the location, never where its credentials are. */
export function profileContext(profile: LocationProfile): ProfileContext {
  const { location } = profile;
  if (location.type === 'filesystem') return { name: profile.name, location: { type: 'filesystem', path: location.path } };
  return { name: profile.name, location: { type: 's3', bucket: location.bucket, prefix: location.prefix, endpoint: location.endpoint, region: location.region } };
}

/** One line naming the location for messages: no credentials, no credential references. */
export function describeLocation(location: Location): string {
  return location.type === 'filesystem' ? `filesystem ${location.path}` : `s3 ${location.endpoint} bucket ${location.bucket}${location.prefix ? ` prefix ${location.prefix}` : ''}`;
}

/** Where a profile's S3 credentials come from, for messages (names only). */
export function describeCredentials(credentials: S3CredentialSource): string {
  return 'secretRef' in credentials
    ? `Secret ${credentials.secretRef.namespace}/${credentials.secretRef.name} (keys ${credentials.secretRef.keys.accessKeyId}, ${credentials.secretRef.keys.secretAccessKey})`
    : `environment variables ${credentials.env.accessKeyId}, ${credentials.env.secretAccessKey}`;
}
