/**
 * How the worker reaches Temporal beyond its address: mTLS for a self-hosted server or Temporal Cloud, or a
 * Temporal Cloud API key. Read from the environment with the Temporal CLI's variable names, each a file path
 * (the chart mounts them from Secrets), so no credential ever appears on a command line or in a log.
 */
import { readFileSync } from 'node:fs';
import type { NativeConnectionOptions } from '@temporalio/worker';

export interface TemporalAuthEnv {
  TEMPORAL_TLS?: string;
  TEMPORAL_TLS_CERT?: string;
  TEMPORAL_TLS_KEY?: string;
  TEMPORAL_TLS_CA?: string;
  TEMPORAL_TLS_SERVER_NAME?: string;
  TEMPORAL_API_KEY_FILE?: string;
}

export type TemporalAuth = Pick<NativeConnectionOptions, 'tls' | 'apiKey'>;

export function temporalAuthFromEnv(env: TemporalAuthEnv = process.env as TemporalAuthEnv): TemporalAuth {
  const read = (variable: keyof TemporalAuthEnv) => {
    const path = env[variable];
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      throw new Error(`${variable}=${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  };
  const crt = read('TEMPORAL_TLS_CERT');
  const key = read('TEMPORAL_TLS_KEY');
  if (Boolean(crt) !== Boolean(key)) throw new Error('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together (a client certificate and its key)');
  const ca = read('TEMPORAL_TLS_CA');
  const apiKey = read('TEMPORAL_API_KEY_FILE')?.toString('utf8').trim();
  const wantsTls = crt !== undefined || ca !== undefined || env.TEMPORAL_TLS === 'true' || env.TEMPORAL_TLS_SERVER_NAME !== undefined || apiKey !== undefined;
  if (!wantsTls) return {};
  return {
    tls: {
      ...(crt && key ? { clientCertPair: { crt, key } } : {}),
      ...(ca ? { serverRootCACertificate: ca } : {}),
      ...(env.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: env.TEMPORAL_TLS_SERVER_NAME } : {}),
    },
    ...(apiKey ? { apiKey } : {}),
  };
}
