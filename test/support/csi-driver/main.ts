/**
 * The test-side CSI driver as a daemon:
 *   node --import tsx test/support/csi-driver/main.ts --root <dir> --proto <csi.proto>
 * Started by scripts/stack/components/csi.ts; serves `unix://<root>/csi.sock` until SIGTERM.
 */
import { parseArgs } from 'node:util';
import { csiLayout } from './layout.ts';
import { csiProtoFromModuleCache } from './proto.ts';
import { startCsiDriver } from './server.ts';

const { values } = parseArgs({
  options: {
    root: { type: 'string' },
    proto: { type: 'string' },
  },
});
if (values.root === undefined) {
  console.error('usage: main.ts --root <dir> [--proto <csi.proto>]');
  process.exit(2);
}

const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
const driver = await startCsiDriver(csiLayout(values.root), values.proto ?? csiProtoFromModuleCache(), log);
log(`serving ${driver.endpoint}`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    log(`${signal}: finishing calls in flight`);
    void driver.stop().then(() => process.exit(0));
  });
}
