// `npm run stack:down [-- component… | dr]`: stop what `stack:up` started (PID files only), in reverse order.
// Without arguments, second clusters (`dr`) are stopped too, before the main stack.
import { withStackLock } from './lock.ts';
import { stackPaths } from './paths.ts';
import { clusterDown, createdSecondClusters, isSecondCluster } from './second-cluster.ts';
import { stackDown } from './stack.ts';

const names = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const only = names.filter((name) => !isSecondCluster(name));
const paths = stackPaths();
const clusters = names.length === 0 ? createdSecondClusters(paths) : names.filter(isSecondCluster);
const log = (message: string) => console.log(`[stack] ${message}`);

try {
  for (const name of clusters) await clusterDown(paths, name, log);
  if (names.length === 0 || only.length > 0) {
    await withStackLock(paths, () => stackDown(paths, log, only.length > 0 ? only : undefined));
  }
} catch (error) {
  console.error(`[stack] down failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
