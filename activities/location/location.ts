/**
 * A location opened for use: its profile, its small-file store, and what kopia needs to reach a repository
 * in it (storage flags for argv, credentials for the environment). Every error names the profile and the
 * endpoint or path, and is scrubbed of the credentials.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { KubeClients } from '../../src/kube/clients.ts';
import { kopiaDir, REPOSITORIES_DIR } from '../../src/location/layout.ts';
import { describeCredentials, describeLocation, type LocationProfile } from '../../src/location/profile.ts';
import { resolveCredentials } from './credentials.ts';
import { profileSources, resolveProfile } from './profiles.ts';
import { CREDENTIAL_ERRORS, S3Error, type S3Credentials } from './s3.ts';
import { FilesystemStore, S3Store, type LocationStore } from './store.ts';

export interface OpenedLocation {
  profile: LocationProfile;
  store: LocationStore;
  /** `profile "offsite" (s3 http://host:9000 bucket b prefix p/)`, for messages. */
  label: string;
  /** Identity of the place (path or endpoint/bucket/prefix), for cache keys; no credentials. */
  identity: string;
  /** Variables kopia needs besides its password: S3 credentials travel in kopia's environment, never argv. */
  kopiaEnv: Readonly<Record<string, string>>;
  /** A hash of the credentials (in memory only): changed credentials mean a new kopia session. */
  credentialsHash: string;
  /** `kopia repository create|connect` storage arguments for the repository of `application`. */
  kopiaStorage(application: string, forCreate: boolean): string[];
  /** Filesystem locations: the root directory. */
  root?: string;
  /** Hides the credentials in a message (kopia's and S3's messages should not hold them; this makes sure). */
  scrub(message: string): string;
}

export async function openLocation(profile: LocationProfile, options: { kube?: () => KubeClients; credentials?: S3Credentials } = {}): Promise<OpenedLocation> {
  const label = `profile "${profile.name}" (${describeLocation(profile.location)})`;
  const location = profile.location;
  if (location.type === 'filesystem') {
    return {
      profile,
      store: new FilesystemStore(location.path),
      label,
      identity: `file://${location.path}`,
      kopiaEnv: {},
      credentialsHash: '',
      root: location.path,
      kopiaStorage: (application) => ['filesystem', '--path', join(location.path, REPOSITORIES_DIR, application, 'kopia')],
      scrub: (message) => message,
    };
  }
  const credentials = options.credentials ?? (await resolveCredentials(profile, location, options.kube));
  const secrets = [credentials.secretAccessKey, credentials.sessionToken, credentials.accessKeyId].filter((s): s is string => !!s && s.length >= 4);
  const scrub = (message: string) => secrets.reduce((text, secret) => text.split(secret).join('<redacted>'), message);
  const endpoint = new URL(location.endpoint);
  const env: Record<string, string> = { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey };
  if (credentials.sessionToken) env.AWS_SESSION_TOKEN = credentials.sessionToken;
  return {
    profile,
    store: guarded(new S3Store(location, credentials), label, describeCredentials(location.credentials), scrub),
    label,
    identity: `s3://${endpoint.host}/${location.bucket}/${location.prefix}`,
    kopiaEnv: env,
    credentialsHash: createHash('sha256').update(`${credentials.accessKeyId}\0${credentials.secretAccessKey}\0${credentials.sessionToken ?? ''}`).digest('hex'),
    kopiaStorage(application, forCreate) {
      const args = ['s3', '--bucket', location.bucket, '--prefix', `${location.prefix}${kopiaDir(application)}`, '--endpoint', endpoint.host, '--region', location.region];
      if (endpoint.protocol === 'http:') args.push('--disable-tls');
      if (location.skipTLSVerify) args.push('--disable-tls-verification');
      // Object lock: kopia sets this retention on every blob it writes (S3 Object Lock on the bucket).
      if (forCreate && location.objectLock) args.push('--retention-mode', location.objectLock.mode, '--retention-period', `${location.objectLock.retentionDays * 24}h`);
      return args;
    },
    scrub,
  };
}

/** Store errors name the profile and the endpoint; refused credentials say where they came from. */
function guarded(store: LocationStore, label: string, credentialSource: string, scrub: (text: string) => string): LocationStore {
  const wrap = <T>(work: () => Promise<T>): Promise<T> =>
    work().catch((error: unknown) => {
      const message = scrub(error instanceof Error ? error.message : String(error));
      if (error instanceof S3Error && CREDENTIAL_ERRORS.has(error.code)) {
        throw new S3Error(`${label}: the S3 service refused the credentials from ${credentialSource} (${error.code}). ${message}`, error.code, error.status);
      }
      throw error instanceof S3Error ? new S3Error(`${label}: ${message}`, error.code, error.status) : new Error(`${label}: ${message}`);
    });
  return {
    read: (key) => wrap(() => store.read(key)),
    write: (key, bytes, options) => wrap(() => store.write(key, bytes, options)),
    list: (prefix) => wrap(() => store.list(prefix)),
    remove: (key) => wrap(() => store.remove(key)),
  };
}

/** The location of the profile named `name` (default: `default`), as the CLI and other callers open it. */
export async function openNamedLocation(name: string | undefined, kube?: () => KubeClients): Promise<OpenedLocation> {
  const profile = await resolveProfile(name, profileSources(kube));
  return openLocation(profile, kube ? { kube } : {});
}
