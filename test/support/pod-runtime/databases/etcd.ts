import { chmodSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hostPathFor } from '../pod-volumes.ts';
import { containerPort, type DatabaseEngine, flagValue } from './engine.ts';

/**
 * The etcd binary: `CAIRN_ETCD_BINARY`, else the newest `etcd` among the stack's built tools
 * (`<cache>/bin/<tool>-<version>/etcd`, from the Kubernetes wrapper module), else the PATH.
 */
export function findEtcd(cacheDir: string): string {
  if (process.env.CAIRN_ETCD_BINARY) return process.env.CAIRN_ETCD_BINARY;
  const bin = join(cacheDir, 'bin');
  const candidates = existsSync(bin)
    ? readdirSync(bin)
        .map((tool) => join(bin, tool, 'etcd'))
        .filter((path) => existsSync(path))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
    : [];
  return candidates[0] ?? 'etcd';
}

/**
 * `etcd*` images as a one-member cluster on the pod's address (client 2379, peer 2380). The data directory is
 * `--data-dir`, else `ETCD_DATA_DIR`, else `/var/lib/etcd`. Other `ETCD_*` variables are not passed on: etcd
 * refuses a variable that shadows a flag this runtime sets.
 */
export const etcd: DatabaseEngine = {
  name: 'etcd',
  matches: (repository) => repository.startsWith('etcd') && !/operator|backup|exporter/.test(repository),
  async prepare(context) {
    const { env, container, pod } = context;
    const commandLine = [...(container.command ?? []), ...(container.args ?? [])];
    const port = containerPort(container, 2379);
    const podDataDir = flagValue(commandLine, '--data-dir') ?? env.ETCD_DATA_DIR ?? '/var/lib/etcd';
    const dataDir = hostPathFor(podDataDir, context.mounts) ?? join(context.scratchDir, 'etcd');
    mkdirSync(dataDir, { recursive: true });
    chmodSync(dataDir, 0o700);
    const name = pod.metadata?.name ?? 'default';
    const client = `http://${context.ip}:${port}`;
    const peer = `http://${context.ip}:2380`;
    return {
      argv: [
        findEtcd(context.cacheDir),
        `--name=${name}`,
        `--data-dir=${dataDir}`,
        `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=${name}=${peer}`,
      ],
      env: { PATH: '/usr/bin:/bin' },
      port,
      dataDir,
      stopSignal: 'SIGTERM',
      stopTimeoutMs: 30_000,
      execEnv: { ETCDCTL_ENDPOINTS: client, ETCDCTL_API: '3' },
    };
  },
};
