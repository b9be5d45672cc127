import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ComponentStatus, StackComponent } from '../component.ts';
import { ensureGoTool, toolBinary, toolInstalled, type GoTool } from '../go-build.ts';
import type { StackPaths } from '../paths.ts';

const run = promisify(execFile);

/** Built inside `tools/kopia/` (a wrapper module): the proxy refuses kopia's version list, so `go install` fails. */
const KOPIA: GoTool = {
  tool: 'kopia',
  version: 'v0.23.1',
  binaries: [
    {
      binary: 'kopia',
      estimate: '~1 min',
      module: 'tools/kopia',
      build: 'github.com/kopia/kopia',
      ldflags: '-s -w -X github.com/kopia/kopia/repo.BuildVersion=0.23.1',
    },
  ],
};

export function kopiaBinary(paths: StackPaths): string {
  return toolBinary(paths, KOPIA, 'kopia');
}

/** A binary, no daemon: "running" means installed and answering `kopia --version`. */
export const kopia: StackComponent = {
  name: 'kopia',
  version: KOPIA.version,
  after: [],

  async install(paths, log) {
    await ensureGoTool(paths, KOPIA, log);
  },

  async start() {},

  async stop() {},

  async status(paths): Promise<ComponentStatus> {
    const base = { name: 'kopia', version: this.version, address: kopiaBinary(paths) };
    if (!toolInstalled(paths, KOPIA)) return { ...base, state: 'not-installed' };
    try {
      const { stdout } = await run(kopiaBinary(paths), ['--version'], { timeout: 10_000 });
      return { ...base, state: 'running', detail: `kopia --version: ${stdout.trim().split(' ')[0]}` };
    } catch (error) {
      return { ...base, state: 'degraded', detail: `kopia --version failed: ${(error as Error).message}` };
    }
  },

  info(paths) {
    return { binary: kopiaBinary(paths), version: KOPIA.version };
  },

  binaries(paths) {
    return { kopia: kopiaBinary(paths) };
  },
};
