import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { temporalAuthFromEnv } from '../../../src/worker/temporal-connection.ts';

// The dev server of the local stack has no TLS, so what is checked here is the mapping from the chart's
// environment (file paths) to the SDK's connection options; mTLS itself is the SDK's.
const dir = mkdtempSync(join(tmpdir(), 'cairn-tls-'));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const cert = file('tls.crt', 'CERT');
const key = file('tls.key', 'KEY');
const ca = file('ca.crt', 'CA');

it('no TLS variables: a plain connection', () => {
  assert.deepEqual(temporalAuthFromEnv({}), {});
});

it('a client certificate, its key, a CA and a server name become mTLS options with the files’ bytes', () => {
  const auth = temporalAuthFromEnv({ TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_CA: ca, TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' });
  const tls = auth.tls as { clientCertPair: { crt: Buffer; key: Buffer }; serverRootCACertificate: Buffer; serverNameOverride: string };
  assert.equal(tls.clientCertPair.crt.toString(), 'CERT');
  assert.equal(tls.clientCertPair.key.toString(), 'KEY');
  assert.equal(tls.serverRootCACertificate.toString(), 'CA');
  assert.equal(tls.serverNameOverride, 'temporal.internal');
});

it('a Temporal Cloud API key turns TLS on; TEMPORAL_TLS=true alone gives TLS with system roots', () => {
  const withKey = temporalAuthFromEnv({ TEMPORAL_API_KEY_FILE: file('api-key', 'secret-key\n') });
  assert.equal(withKey.apiKey, 'secret-key');
  assert.deepEqual(withKey.tls, {});
  assert.deepEqual(temporalAuthFromEnv({ TEMPORAL_TLS: 'true' }), { tls: {} });
});

it('a certificate without its key, or a missing file, is refused with the variable named (never the content)', () => {
  assert.throws(() => temporalAuthFromEnv({ TEMPORAL_TLS_CERT: cert }), /TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together/);
  assert.throws(() => temporalAuthFromEnv({ TEMPORAL_TLS_CA: join(dir, 'absent.crt') }), /TEMPORAL_TLS_CA=.*absent\.crt: ENOENT/);
});
