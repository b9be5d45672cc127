import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { processState } from './consistent-cut.ts';
import { csiLayout } from './layout.ts';
import { csiProtoFromModuleCache } from './proto.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

test('the driver daemon resumes writers a killed run left paused, serves its socket and exits cleanly on SIGTERM', async () => {
  const layout = csiLayout(mkdtempSync(join(tmpdir(), 'cairn-csi-main-')));
  mkdirSync(layout.root, { recursive: true });
  const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    process.kill(sleeper.pid!, 'SIGSTOP');
    for (let i = 0; i < 500 && processState(sleeper.pid!) !== 'T'; i++) await new Promise((r) => setTimeout(r, 2));
    writeFileSync(layout.pausedPids, `${sleeper.pid}\n`);

    const driver = spawn(process.execPath, ['--import', 'tsx', MAIN, '--root', layout.root, '--proto', csiProtoFromModuleCache()], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    driver.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolveExit) => driver.once('exit', (code) => resolveExit(code)));
    for (let i = 0; i < 200 && !output.includes('serving'); i++) await new Promise((r) => setTimeout(r, 50));

    assert.match(output, /serving unix:\/\/.*csi\.sock/);
    assert.match(output, new RegExp(`resumed processes a previous run left paused: ${sleeper.pid}`));
    assert.notEqual(processState(sleeper.pid!), 'T');
    assert.ok(existsSync(layout.socket));

    driver.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    sleeper.kill('SIGKILL');
    rmSync(layout.root, { recursive: true, force: true });
  }
});
