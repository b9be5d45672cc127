/**
 * The test-side pod runtime as a daemon (started by scripts/stack/components/pod-runtime.ts):
 *   node --import tsx test/support/pod-runtime/main.ts
 * Plays the kubelet for pods on the kwok nodes of the stack in CAIRN_STATE_DIR (default `<clone>/.cairn`)
 * until SIGTERM, then stops every process it started (databases cleanly). See docs/dev-stack-pods.md.
 */
import * as k8s from '@kubernetes/client-node';
import { stackPaths } from '../../../scripts/stack/paths.ts';
import { podPath, writeExecShims } from './exec-shim.ts';
import { runtimeDirs } from './layout.ts';
import { PodRuntime } from './runtime.ts';

const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
const paths = stackPaths();
const config = new k8s.KubeConfig();
config.loadFromFile(paths.kubeconfig);

const shims = writeExecShims(runtimeDirs(paths).execShims, podPath(paths.cache).split(':'));
log(`exec shims for ${shims} command names in ${runtimeDirs(paths).execShims}`);

const runtime = new PodRuntime(paths, config, log);
await runtime.start();
log('watching pods on kwok nodes');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping every pod's processes`);
    void runtime.stop().then(() => process.exit(0));
  });
}
