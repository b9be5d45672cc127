// `npm run stack:down [-- component…]`: stop what `stack:up` started (PID files only), in reverse order.
import { withStackLock } from './lock.ts';
import { stackPaths } from './paths.ts';
import { stackDown } from './stack.ts';

const only = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const paths = stackPaths();
const log = (message: string) => console.log(`[stack] ${message}`);

try {
  await withStackLock(paths, () => stackDown(paths, log, only.length > 0 ? only : undefined));
} catch (error) {
  console.error(`[stack] down failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
