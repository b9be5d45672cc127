// `npm run stack:up [-- component… | dr]`: install what is missing, then start the local stack (or, given a
// second cluster's name, that cluster beside it: scripts/stack/second-cluster.ts).
import { withStackLock } from './lock.ts';
import { stackPaths } from './paths.ts';
import { clusterUp, isSecondCluster } from './second-cluster.ts';
import { stackUp } from './stack.ts';

const names = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const clusters = names.filter(isSecondCluster);
const only = names.filter((name) => !isSecondCluster(name));
const paths = stackPaths();
const log = (message: string) => console.log(`[stack] ${message}`);

try {
  if (clusters.length === 0 || only.length > 0) {
    const info = await withStackLock(paths, () => stackUp(paths, log, only.length > 0 ? only : undefined));
    log(`Temporal ${info.temporal.address}, Web UI ${info.temporal.uiUrl}`);
    log(`kubectl: ${info.binaries.kubectl} --kubeconfig ${info.kube.kubeconfig}`);
    log(`S3 ${info.s3.endpoint} (bucket ${info.s3.bucket}, access key ${info.s3.accessKey})`);
  }
  for (const name of clusters) {
    const cluster = await clusterUp(paths, name, log);
    log(`cluster ${name}: ${cluster.server}, kubeconfig ${cluster.kubeconfig}, storage class ${cluster.storageClass}`);
  }
} catch (error) {
  console.error(`[stack] up failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
