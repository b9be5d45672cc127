/**
 * Helm, for the chart under deploy/helm/cairn. Not a stack component (nothing runs): a pinned build in the
 * shared cache, built on first use by whatever needs it (the chart's tests, `npm run deploy:render`), so a
 * fresh clone in CI gets it without a separate step. `go install …@v3.19.0` works on this module proxy.
 */
import type { ProgressLog } from './component.ts';
import { ensureGoTool, toolBinary, type GoTool } from './go-build.ts';
import { stackPaths, type StackPaths } from './paths.ts';

export const HELM: GoTool = {
  tool: 'helm',
  version: 'v3.19.0',
  binaries: [
    {
      binary: 'helm',
      estimate: '~1 min',
      install: 'helm.sh/helm/v3/cmd/helm@v3.19.0',
      // Without it `helm version` says v3.x-dev-ish and charts with a kubeVersion constraint misjudge it.
      ldflags: '-s -w -X helm.sh/helm/v3/internal/version.version=v3.19.0',
    },
  ],
};

/** The helm binary, built into `~/.cache/cairn/bin/helm-v3.19.0/` when missing (idempotent). */
export async function ensureHelm(paths: StackPaths = stackPaths(), log: ProgressLog = (line) => process.stderr.write(`[helm] ${line}\n`)): Promise<string> {
  await ensureGoTool(paths, HELM, log);
  return toolBinary(paths, HELM, 'helm');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${await ensureHelm()}\n`);
}
