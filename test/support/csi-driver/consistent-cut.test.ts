import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { processState, resumeLeftoverPauses, withWritersPaused } from './consistent-cut.ts';
import { type CsiLayout, csiLayout, volumeDir, writersFile } from './layout.ts';
import { CsiStore } from './store.ts';

/**
 * A writer that appends line n to first.log and then line n to second.log, forever. Any cut a crash could
 * leave has first.log one line ahead of second.log at most; a copy taken while it runs has them far apart.
 */
const WRITER = `
const { appendFileSync } = require('node:fs');
for (let n = 1; ; n++) {
  appendFileSync('first.log', n + '\\n');
  appendFileSync('second.log', n + '\\n');
}`;

function startWriter(dir: string, extraArgs: string[] = []): ChildProcess {
  return spawn(process.execPath, ['-e', WRITER, ...extraArgs], { cwd: dir, stdio: 'ignore' });
}

function lineCount(file: string): number {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
}

function isTornCut(dir: string): boolean {
  const gap = lineCount(join(dir, 'first.log')) - lineCount(join(dir, 'second.log'));
  return gap !== 0 && gap !== 1;
}

async function waitForGrowth(file: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if (statSync(file).size > 100_000) return;
    } catch {
      // not created yet
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 10));
  }
  throw new Error(`${file} did not grow`);
}

/** SIGSTOP lands when the target next leaves the kernel, not when kill() returns. */
async function stopAndWait(pid: number): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  for (let i = 0; i < 500 && processState(pid) !== 'T'; i++) await new Promise((resolveWait) => setTimeout(resolveWait, 2));
  assert.equal(processState(pid), 'T');
}

describe('consistent cut: writers stand still while a volume is copied', () => {
  let layout: CsiLayout;
  let volume: string;
  let writer: ChildProcess;

  before(async () => {
    layout = csiLayout(mkdtempSync(join(tmpdir(), 'cairn-csi-cut-')));
    new CsiStore(layout); // creates the layout's directories
    volume = volumeDir(layout, 'pvc-live');
    mkdirSync(volume);
    writer = startWriter(volume);
    writeFileSync(writersFile(layout, 'pvc-live'), `${writer.pid}\n`);
    await waitForGrowth(join(volume, 'second.log'));
  });

  after(() => {
    writer.kill('SIGKILL');
    rmSync(layout.root, { recursive: true, force: true });
  });

  it('stops every listed writer during the work and resumes it afterwards', async () => {
    const { pause } = await withWritersPaused(layout, 'pvc-live', async () => {
      assert.equal(processState(writer.pid!), 'T');
      const sizeBefore = statSync(join(volume, 'first.log')).size;
      await new Promise((resolveWait) => setTimeout(resolveWait, 150));
      assert.equal(statSync(join(volume, 'first.log')).size, sizeBefore, 'the writer wrote while paused');
    });
    assert.deepEqual(pause.pausedPids, [writer.pid]);
    assert.ok(pause.pausedMs >= 150);
    assert.notEqual(processState(writer.pid!), 'T');
    const sizeAfter = statSync(join(volume, 'first.log')).size;
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
    assert.ok(statSync(join(volume, 'first.log')).size > sizeAfter, 'the writer did not resume');
  });

  it('resumes the writers when the work fails', async () => {
    await assert.rejects(
      withWritersPaused(layout, 'pvc-live', async () => {
        throw new Error('copy failed');
      }),
      /copy failed/,
    );
    assert.notEqual(processState(writer.pid!), 'T');
  });

  it('pauses the descendants of a listed writer too', async () => {
    const shellVolume = volumeDir(layout, 'pvc-tree');
    mkdirSync(shellVolume);
    // The listed PID is a shell; the process that writes is its child, as with a server started by a wrapper.
    const shell = spawn('sh', ['-c', `"${process.execPath}" -e "$WRITER"; true`], {
      cwd: shellVolume,
      stdio: 'ignore',
      env: { ...process.env, WRITER },
    });
    let child = 0;
    try {
      writeFileSync(writersFile(layout, 'pvc-tree'), `${shell.pid}\n`);
      await waitForGrowth(join(shellVolume, 'second.log'));
      child = Number(execFileSync('pgrep', ['-P', String(shell.pid)], { encoding: 'utf8' }).trim());
      const { pause } = await withWritersPaused(layout, 'pvc-tree', async () => {
        assert.equal(processState(child), 'T');
      });
      assert.deepEqual(new Set(pause.pausedPids), new Set([shell.pid, child]));
      assert.notEqual(processState(child), 'T');
    } finally {
      if (child > 0) process.kill(child, 'SIGKILL');
      shell.kill('SIGKILL');
    }
  });

  it('leaves no wrapper stopped: runuser, like su, stops itself when it sees its child stop', { skip: process.getuid?.() !== 0 }, async () => {
    const wrapper = spawn('runuser', ['-u', 'nobody', '--', 'sleep', '60'], { stdio: 'ignore' });
    let paused: number[] = [];
    try {
      await new Promise((resolveWait) => setTimeout(resolveWait, 200));
      writeFileSync(writersFile(layout, 'pvc-wrapped'), `${wrapper.pid}\n`);
      const { pause } = await withWritersPaused(layout, 'pvc-wrapped', async () => {});
      paused = pause.pausedPids;
      assert.equal(pause.pausedPids.length, 2, 'runuser and its child');
      await new Promise((resolveWait) => setTimeout(resolveWait, 200));
      for (const pid of pause.pausedPids) assert.notEqual(processState(pid), 'T', `process ${pid} was left stopped`);
    } finally {
      for (const pid of paused.reverse()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      wrapper.kill('SIGKILL');
    }
  });

  it('leaves a process that someone else had stopped stopped', async () => {
    await stopAndWait(writer.pid!);
    try {
      const { pause } = await withWritersPaused(layout, 'pvc-live', async () => {});
      assert.deepEqual(pause.pausedPids, []);
      assert.equal(processState(writer.pid!), 'T');
    } finally {
      process.kill(writer.pid!, 'SIGCONT');
    }
  });

  it('ignores listed PIDs that have exited', async () => {
    writeFileSync(writersFile(layout, 'pvc-gone'), '999999999\nnot-a-pid\n');
    const { pause } = await withWritersPaused(layout, 'pvc-gone', async () => {});
    assert.deepEqual(pause.pausedPids, []);
  });

  it('resumes writers that a killed driver left paused', async () => {
    await stopAndWait(writer.pid!);
    writeFileSync(layout.pausedPids, `${writer.pid}\n`);
    assert.deepEqual(resumeLeftoverPauses(layout), [writer.pid]);
    assert.notEqual(processState(writer.pid!), 'T');
  });

  it('a snapshot of a volume being written is a cut a crash could have left', async () => {
    const store = new CsiStore(layout);
    // The volume directory was made by hand above; give it a record so the store knows it.
    writeFileSync(join(layout.volumes, 'pvc-live.json'), JSON.stringify({ name: 'pvc-live', volumeId: 'pvc-live', capacityBytes: 1, parameters: {}, createdAt: '' }));
    for (let i = 0; i < 5; i++) {
      const snapshot = await store.createSnapshot({ name: `snapshot-cut-${i}`, sourceVolumeId: 'pvc-live', parameters: {} });
      const copy = join(layout.snapshots, snapshot.snapshotId);
      assert.equal(isTornCut(copy), false, `snapshot ${i}: first.log ${lineCount(join(copy, 'first.log'))} lines, second.log ${lineCount(join(copy, 'second.log'))}`);
      assert.deepEqual(snapshot.pausedPids, [writer.pid]);
    }
  });

  it('a group snapshot is one cut across volumes written by the same process', async () => {
    const store = new CsiStore(layout);
    for (const name of ['pvc-pair-1', 'pvc-pair-2']) {
      await store.createVolume({ name, parameters: {} });
    }
    // Writes line n to pvc-pair-1/first.log, then line n to pvc-pair-2/second.log.
    const pairWriter = spawn(
      process.execPath,
      ['-e', WRITER.replace("'first.log'", "'pvc-pair-1/first.log'").replace("'second.log'", "'pvc-pair-2/second.log'")],
      { cwd: layout.volumes, stdio: 'ignore' },
    );
    try {
      writeFileSync(writersFile(layout, 'pvc-pair-1'), `${pairWriter.pid}\n`);
      writeFileSync(writersFile(layout, 'pvc-pair-2'), `${pairWriter.pid}\n`);
      await waitForGrowth(join(volumeDir(layout, 'pvc-pair-2'), 'second.log'));
      for (let i = 0; i < 3; i++) {
        const group = await store.createGroupSnapshot({ name: `groupsnapshot-${i}`, sourceVolumeIds: ['pvc-pair-1', 'pvc-pair-2'], parameters: {} });
        const [first, second] = group.snapshotIds.map((id) => join(layout.snapshots, id));
        const gap = lineCount(join(first!, 'first.log')) - lineCount(join(second!, 'second.log'));
        assert.ok(gap === 0 || gap === 1, `group snapshot ${i}: the volumes are ${gap} writes apart`);
      }
    } finally {
      pairWriter.kill('SIGKILL');
    }
  });

  it('the same slow copy without the pause is torn, so the check has teeth', async () => {
    // A copy that takes its time between two files, as a large volume's copy does.
    const slowCopy = async (to: string) => {
      mkdirSync(to);
      copyFileSync(join(volume, 'second.log'), join(to, 'second.log'));
      await new Promise((resolveWait) => setTimeout(resolveWait, 50));
      copyFileSync(join(volume, 'first.log'), join(to, 'first.log'));
    };
    await slowCopy(join(layout.root, 'plain'));
    assert.equal(isTornCut(join(layout.root, 'plain')), true);
    await withWritersPaused(layout, 'pvc-live', () => slowCopy(join(layout.root, 'paused')));
    assert.equal(isTornCut(join(layout.root, 'paused')), false);
  });
});
