import { spawn } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ProgressLog } from './component.ts';
import { ensureGoTool, toolBinary, type GoTool } from './go-build.ts';
import { withStackLock } from './lock.ts';
import type { StackPaths } from './paths.ts';
import { logFile } from './process.ts';

export const FERRETDB_VERSION = 'v1.24.0';
const WRAPPER_MODULE = 'tools/ferretdb';
const WRAPPER_FILES = ['go.mod', 'go.sum', 'tools.go'];
/** The file FerretDB embeds and its module does not ship; its binary panics at start without it. */
const VERSION_FILE = 'vendor/github.com/FerretDB/FerretDB/build/version/version.txt';

function ferretdbTool(moduleDir: string): GoTool {
  return {
    tool: 'ferretdb',
    version: FERRETDB_VERSION,
    // ensureGoTool builds inside `<root>/<module>`: a path relative to the clone reaches the scratch copy.
    binaries: [{ binary: 'ferretdb', estimate: '2-7 min with cold Go caches', module: moduleDir, build: 'github.com/FerretDB/FerretDB/cmd/ferretdb' }],
  };
}

export function ferretdbBinary(paths: StackPaths): string {
  return toolBinary(paths, ferretdbTool(WRAPPER_MODULE), 'ferretdb');
}

/**
 * FerretDB (the MongoDB wire protocol on SQLite), which the pod runtime runs for `mongo:*` images. Built on
 * first use, not by stack:up, so that only runs that play a MongoDB pod pay for it: the wrapper module
 * `tools/ferretdb` is copied to a scratch directory, vendored there (`go mod vendor`), given the
 * `version.txt` FerretDB's build would generate, and built with the vendored modules. Nothing of FerretDB's
 * source enters the repository. Idempotent: a binary in the cache is returned at once; the stack lock keeps
 * two callers (the runtime and a test) from building it twice.
 */
export async function ensureFerretDB(paths: StackPaths, log: ProgressLog): Promise<string> {
  const binary = ferretdbBinary(paths);
  if (existsSync(binary)) return binary;
  return withStackLock(paths, async () => {
    if (existsSync(binary)) return binary;
    const buildRoot = join(paths.cache, 'build');
    mkdirSync(buildRoot, { recursive: true });
    const scratch = mkdtempSync(join(buildRoot, `ferretdb-${FERRETDB_VERSION}-`));
    try {
      for (const file of WRAPPER_FILES) copyFileSync(join(paths.root, WRAPPER_MODULE, file), join(scratch, file));
      log(`vendoring FerretDB ${FERRETDB_VERSION}'s modules (first time; downloads them when the Go module cache lacks them)…`);
      await runLogged(paths, ['go', 'mod', 'vendor'], scratch, log);
      const versionFile = join(scratch, VERSION_FILE);
      if (!existsSync(join(versionFile, '..'))) throw new Error(`go mod vendor left no ${VERSION_FILE} directory in ${scratch}`);
      writeFileSync(versionFile, `${FERRETDB_VERSION}\n`);
      await ensureGoTool(paths, ferretdbTool(relative(paths.root, scratch)), log);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    return binary;
  });
}

/** Runs a command with its output appended to the FerretDB build log, saying every 30 s that it still runs. */
function runLogged(paths: StackPaths, argv: string[], cwd: string, log: ProgressLog): Promise<void> {
  mkdirSync(paths.logs, { recursive: true });
  const logPath = logFile(paths, 'build-ferretdb');
  const out = openSync(logPath, 'a');
  writeSync(out, `\n$ (cd ${cwd} && ${argv.join(' ')})\n`);
  const started = Date.now();
  const ticker = setInterval(() => log(`  …still running ${argv.join(' ')} (${Math.round((Date.now() - started) / 1000)} s)`), 30_000);
  return new Promise((resolveRun, rejectRun) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, stdio: ['ignore', out, out] });
    const finish = (error?: Error) => {
      clearInterval(ticker);
      closeSync(out);
      if (error) rejectRun(error);
      else resolveRun();
    };
    child.once('error', (error) => finish(new Error(`could not run ${argv[0]} (is it on PATH?): ${error.message}`)));
    child.once('exit', (code) => finish(code === 0 ? undefined : new Error(`${argv.join(' ')} failed (exit ${code}); see ${logPath}`)));
  });
}
