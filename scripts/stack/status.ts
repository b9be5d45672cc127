// `npm run stack:status [-- --output json]`: each component's version, address and state; exit 0 only if all of
// the main stack run. A second cluster that was ever started (`stack:up -- dr`) is listed as `dr/<component>`.
import { parseArgs } from 'node:util';
import { stackPaths } from './paths.ts';
import { clusterStatus, createdSecondClusters } from './second-cluster.ts';
import { stackStatus } from './stack.ts';

const { values } = parseArgs({ options: { output: { type: 'string', short: 'o', default: 'table' } } });
const paths = stackPaths();
const main = await stackStatus(paths);
const statuses = [...main, ...(await Promise.all(createdSecondClusters(paths).map((name) => clusterStatus(paths, name)))).flat()];

if (values.output === 'json') {
  console.log(JSON.stringify(statuses, null, 2));
} else {
  const rows = [['COMPONENT', 'VERSION', 'ADDRESS', 'STATE'], ...statuses.map((s) => [s.name, s.version, s.address, s.detail ? `${s.state} (${s.detail})` : s.state])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) console.log(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}
process.exitCode = main.every((s) => s.state === 'running') ? 0 : 1;
