/**
 * The etcd blueprint tests' database: a real etcd 3.6 playing examples/etcd-app's pod, etcdctl in it, and
 * etcd's JSON gateway for what would take one etcdctl process per key.
 */
import assert from 'node:assert/strict';
import { exampleDatabaseHarness, type BlueprintHarness } from '../database-blueprint.ts';
import { execInPod, execUntilSuccess } from '../pod-runtime/testing.ts';

export const ETCD_POD = 'etcd-0';

/** The example deployed with `password` for root (authentication stays off until enableAuthentication). */
export function etcdHarness(prefix: string, password: string): Promise<BlueprintHarness> {
  return exampleDatabaseHarness(prefix, 'etcd', { ETCD_ROOT_PASSWORD: password });
}

/** What the image does at first start with ETCD_ROOT_PASSWORD (the pod runtime passes no ETCD_* to etcd). */
export async function enableAuthentication(harness: BlueprintHarness, password: string): Promise<void> {
  const enable = await execInPod(harness.clients, harness.namespace, ETCD_POD, 'etcd', ['sh', '-c', 'etcdctl user add root --new-user-password="$1" && etcdctl auth enable', 'sh', password]);
  assert.equal(enable.exitCode, 0, enable.stderr);
}

/** A shell `script` of etcdctl commands in the pod as root; the runtime's exec env has the endpoint. */
export async function etcdctlIn(harness: BlueprintHarness, password: string, script: string): Promise<string> {
  const command = ['sh', '-c', `export ETCDCTL_USER=root ETCDCTL_PASSWORD="$1"; ${script}`, 'sh', password];
  return (await execUntilSuccess(harness.clients, harness.namespace, ETCD_POD, 'etcd', command)).stdout.trim();
}

export const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

export interface EtcdGateway {
  /** A JSON request that must answer 200; its parsed body. */
  post(path: string, body: unknown): Promise<Record<string, unknown>>;
  /** Sends root's token with every later request (authentication on). */
  authenticate(password: string): Promise<void>;
}

/** etcd's JSON gateway at the pod's own address, from its exec env. */
export async function etcdGateway(harness: BlueprintHarness): Promise<EtcdGateway> {
  const endpoint = (await execUntilSuccess(harness.clients, harness.namespace, ETCD_POD, 'etcd', ['sh', '-c', 'echo "$ETCDCTL_ENDPOINTS"'])).stdout.trim();
  let token = '';
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${endpoint}${path}`, { method: 'POST', body: JSON.stringify(body), headers: token ? { Authorization: token } : {} });
    const text = await response.text();
    assert.equal(response.status, 200, `${path}: ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  return {
    post,
    async authenticate(password) {
      token = String((await post('/v3/auth/authenticate', { name: 'root', password })).token);
    },
  };
}

/**
 * config/000001 … config/<count> with values of their own, through the gateway in transactions of 128 puts (the
 * server's limit): <count> `etcdctl put` processes would take many minutes.
 */
export async function seedConfigKeys(gateway: EtcdGateway, count: number): Promise<void> {
  for (let start = 1; start <= count; start += 128) {
    const puts = [];
    for (let i = start; i < Math.min(start + 128, count + 1); i++) puts.push({ requestPut: { key: b64(`config/${String(i).padStart(6, '0')}`), value: b64(`value-${i}-${(i * 7919) % 100_003}`) } });
    await gateway.post('/v3/kv/txn', { success: puts });
  }
}
