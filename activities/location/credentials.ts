/**
 * Resolves a profile's S3 credentials, inside activities only: from the Secret it references or from the
 * worker's environment variables it names. The values go to the S3 client and to kopia's environment and
 * nowhere else: not into workflow input, history, outputs, logs or error messages.
 */
import type { KubeClients } from '../../src/kube/clients.ts';
import { describeCredentials, type LocationProfile, type S3Location } from '../../src/location/profile.ts';
import type { S3Credentials } from './s3.ts';

export async function resolveCredentials(profile: LocationProfile, location: S3Location, kube?: () => KubeClients): Promise<S3Credentials> {
  const source = location.credentials;
  const where = `profile "${profile.name}": credentials from ${describeCredentials(source)}`;
  if ('env' in source) {
    const value = (name: string) => {
      const text = process.env[name];
      if (!text) throw new Error(`${where}: the worker has no environment variable ${name}`);
      return text;
    };
    const credentials: S3Credentials = { accessKeyId: value(source.env.accessKeyId), secretAccessKey: value(source.env.secretAccessKey) };
    if (source.env.sessionToken) credentials.sessionToken = value(source.env.sessionToken);
    return credentials;
  }
  const { namespace, name, keys } = source.secretRef;
  if (!kube) throw new Error(`${where}: no Kubernetes cluster to read the Secret from`);
  let data: Record<string, string>;
  try {
    const secret = await kube().core.readNamespacedSecret({ name, namespace });
    data = secret.data ?? {};
  } catch (error) {
    const status = (error as { code?: number }).code;
    throw new Error(`${where}: cannot read the Secret${status ? `: HTTP ${status}` : `: ${(error as Error).message}`}`);
  }
  const value = (key: string) => {
    const encoded = data[key];
    if (encoded === undefined) throw new Error(`${where}: the Secret has no key "${key}" (it has ${Object.keys(data).sort().join(', ') || 'none'})`);
    return Buffer.from(encoded, 'base64').toString('utf8').trim();
  };
  const credentials: S3Credentials = { accessKeyId: value(keys.accessKeyId), secretAccessKey: value(keys.secretAccessKey) };
  if (keys.sessionToken) credentials.sessionToken = value(keys.sessionToken);
  return credentials;
}
