// `npm run stack:up [-- component…]`: install what is missing, then start the local stack.
import { withStackLock } from './lock.ts';
import { stackPaths } from './paths.ts';
import { stackUp } from './stack.ts';

const only = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const paths = stackPaths();
const log = (message: string) => console.log(`[stack] ${message}`);

try {
  await withStackLock(paths, () => stackUp(paths, log, only.length > 0 ? only : undefined));
} catch (error) {
  console.error(`[stack] up failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
