// `npm run stack:up [-- component…]`: install what is missing, then start the local stack.
import { withStackLock } from './lock.ts';
import { stackPaths } from './paths.ts';
import { stackUp } from './stack.ts';

const only = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const paths = stackPaths();
const log = (message: string) => console.log(`[stack] ${message}`);

try {
  const info = await withStackLock(paths, () => stackUp(paths, log, only.length > 0 ? only : undefined));
  log(`Temporal ${info.temporal.address}, Web UI ${info.temporal.uiUrl}`);
  log(`kubectl: ${info.binaries.kubectl} --kubeconfig ${info.kube.kubeconfig}`);
  log(`S3 ${info.s3.endpoint} (bucket ${info.s3.bucket}, access key ${info.s3.accessKey})`);
} catch (error) {
  console.error(`[stack] up failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
