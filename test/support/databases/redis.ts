/**
 * The Redis blueprint tests' database: a real redis-server 7 playing examples/redis-app's pod (AOF on,
 * a password), and redis-cli in a pod.
 */
import { exampleDatabaseHarness, type BlueprintHarness } from '../database-blueprint.ts';
import { execUntilSuccess } from '../pod-runtime/testing.ts';

export const REDIS_POD = 'redis-0';

/** The example deployed with `password`, its pod ready. */
export function redisHarness(prefix: string, password: string): Promise<BlueprintHarness> {
  return exampleDatabaseHarness(prefix, 'redis', { REDIS_PASSWORD: password });
}

/** redis-cli in a pod (the runtime's exec env has the address and the password), retried until it exits 0. */
export async function redisIn(harness: BlueprintHarness, pod: string, ...args: string[]): Promise<string> {
  const result = await execUntilSuccess(harness.clients, harness.namespace, pod, 'redis', ['sh', '-c', 'redis-cli --no-auth-warning -h "$REDIS_HOST" "$@"', 'redis-cli', ...args]);
  return result.stdout.trim();
}

/** A Lua script for EVAL setting key:1 … key:`count` to values of their own. */
export function seedStringKeys(count: number): string {
  return `for i = 1, ${count} do redis.call('SET', 'key:' .. i, 'value-' .. i .. '-' .. redis.sha1hex(tostring(i))) end`;
}
