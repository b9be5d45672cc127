import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { ProgressLog } from './component.ts';
import { logFile } from './process.ts';
import { toolDir, type StackPaths } from './paths.ts';

/**
 * One binary built from a published Go module. `install` is `go install pkg@version` (for modules whose
 * version list the proxy serves); `build` is `go build pkg` inside a wrapper module under `tools/` (for
 * modules whose version list is refused, or that need `replace` lines).
 */
export type GoBinary =
  | { binary: string; estimate: string; install: string; ldflags?: string }
  | { binary: string; estimate: string; build: string; module: string; ldflags?: string; env?: Record<string, string> };

export interface GoTool {
  /** Names the cache directory `~/.cache/cairn/bin/<tool>-<version>/`. */
  tool: string;
  /** The pin; changing it gives a new cache directory and so a rebuild. */
  version: string;
  binaries: GoBinary[];
}

export function toolBinary(paths: StackPaths, tool: GoTool, binary: string): string {
  return join(toolDir(paths, tool.tool, tool.version), binary);
}

export function toolInstalled(paths: StackPaths, tool: GoTool): boolean {
  return tool.binaries.every((b) => existsSync(toolBinary(paths, tool, b.binary)));
}

/**
 * Builds every binary of `tool` that is missing from the cache. Each lands in a temporary directory first and
 * is renamed into place only when `go` succeeded, so an interrupted build never counts as installed.
 */
export async function ensureGoTool(paths: StackPaths, tool: GoTool, log: ProgressLog): Promise<void> {
  const dir = toolDir(paths, tool.tool, tool.version);
  for (const spec of tool.binaries) {
    const target = join(dir, spec.binary);
    if (existsSync(target)) continue;
    mkdirSync(dir, { recursive: true });
    const scratch = mkdtempSync(join(dir, `.${spec.binary}.partial-`));
    try {
      const started = Date.now();
      log(`building ${spec.binary} ${tool.version} (first time, ${spec.estimate})…`);
      await runGo(paths, tool, spec, scratch, log);
      renameSync(join(scratch, spec.binary), target);
      log(`built ${spec.binary} ${tool.version} in ${Math.round((Date.now() - started) / 1000)} s`);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
}

function runGo(paths: StackPaths, tool: GoTool, spec: GoBinary, outDir: string, log: ProgressLog): Promise<void> {
  const ldflags = spec.ldflags ? ['-ldflags', spec.ldflags] : [];
  const env: NodeJS.ProcessEnv = { ...process.env };
  let args: string[];
  let cwd = paths.root;
  if ('install' in spec) {
    // GOBIN makes `go install` write into the scratch directory instead of ~/go/bin.
    env.GOBIN = outDir;
    args = ['install', '-trimpath', ...ldflags, spec.install];
  } else {
    cwd = join(paths.root, spec.module);
    Object.assign(env, spec.env);
    args = ['build', '-trimpath', ...ldflags, '-o', join(outDir, spec.binary), spec.build];
  }
  mkdirSync(paths.logs, { recursive: true });
  const logPath = logFile(paths, `build-${tool.tool}`);
  const out = openSync(logPath, 'a');
  writeSync(out, `\n$ (cd ${cwd} && go ${args.join(' ')})\n`);
  return new Promise((resolveBuild, rejectBuild) => {
    const started = Date.now();
    const ticker = setInterval(() => log(`  …still building ${spec.binary} (${Math.round((Date.now() - started) / 1000)} s)`), 30_000);
    const child = spawn('go', args, { cwd, env, stdio: ['ignore', out, out] });
    const finish = (error?: Error) => {
      clearInterval(ticker);
      closeSync(out);
      if (error) rejectBuild(error);
      else resolveBuild();
    };
    child.once('error', (error) => finish(new Error(`could not run go (is it on PATH?): ${error.message}`)));
    child.once('exit', (code) =>
      finish(code === 0 ? undefined : new Error(`building ${spec.binary} ${tool.version} failed (exit ${code}); see ${logPath}`)),
    );
  });
}
