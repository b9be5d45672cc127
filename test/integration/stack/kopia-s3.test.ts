import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { once } from 'node:events';
import { ensureStack, type StackInfo } from '../../support/stack.ts';

const MiB = 1024 * 1024;

/** Runs kopia with its config, cache and logs in `home`, so the test touches nothing of the user's. */
function kopia(stack: StackInfo, home: string, args: string[]) {
  return spawn(stack.kopia.binary, [...args, '--config-file', join(home, 'repository.config')], {
    env: {
      ...process.env,
      KOPIA_PASSWORD: 'stack-test-password',
      KOPIA_CHECK_FOR_UPDATES: 'false',
      KOPIA_LOG_DIR: join(home, 'logs'),
      KOPIA_CACHE_DIRECTORY: join(home, 'cache'),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Waits for kopia to exit 0; collects its stdout unless a caller consumes the stream itself. */
async function finished(child: ReturnType<typeof kopia>, what: string, collect = true): Promise<string> {
  let stdout = '';
  let stderr = '';
  if (collect) child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0, `${what} failed: ${stderr}`);
  return stdout;
}

test('a 100 MiB stream goes through kopia into the S3 gateway and comes back byte-identical', async (t) => {
  const stack = await ensureStack();
  const home = mkdtempSync(join(tmpdir(), 'cairn-kopia-'));
  const prefix = `kopia-test-${randomBytes(4).toString('hex')}/`;
  t.after(() => {
    rmSync(home, { recursive: true, force: true });
    rmSync(join(stack.s3.rootDir, stack.s3.testBucket, prefix), { recursive: true, force: true });
  });
  const endpoint = new URL(stack.s3.endpoint);

  await finished(
    kopia(stack, home, [
      'repository', 'create', 's3',
      '--bucket', stack.s3.testBucket,
      '--prefix', prefix,
      '--endpoint', endpoint.host,
      '--disable-tls',
      '--region', stack.s3.region,
      '--access-key', stack.s3.accessKey,
      '--secret-access-key', stack.s3.secretKey,
    ]),
    'kopia repository create s3',
  );

  const written = createHash('sha256');
  const snapshot = kopia(stack, home, ['snapshot', 'create', '--stdin-file', 'dump.bin', '-']);
  const snapshotDone = finished(snapshot, 'kopia snapshot create');
  // If kopia dies early, writing fails with EPIPE; the exit code then tells what happened.
  snapshot.stdin.on('error', () => undefined);
  for (let sent = 0; sent < 100 * MiB; sent += MiB) {
    const chunk = randomBytes(MiB);
    written.update(chunk);
    if (!snapshot.stdin.write(chunk)) await once(snapshot.stdin, 'drain');
  }
  snapshot.stdin.end();
  await snapshotDone;

  const listed = JSON.parse(await finished(kopia(stack, home, ['snapshot', 'list', '--all', '--json']), 'kopia snapshot list')) as Array<{
    rootEntry: { obj: string };
  }>;
  assert.equal(listed.length, 1);
  const root = listed[0]!.rootEntry.obj;

  const read = createHash('sha256');
  const show = kopia(stack, home, ['show', `${root}/dump.bin`]);
  let bytes = 0;
  show.stdout.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    read.update(chunk);
  });
  await finished(show, 'kopia show', false);

  assert.equal(bytes, 100 * MiB);
  assert.equal(read.digest('hex'), written.digest('hex'));
});
