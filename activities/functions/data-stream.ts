/**
 * The two byte paths of the data functions, between a command run in a pod (through the API server's exec)
 * and a kopia snapshot on the worker. Nothing is staged on disk, and memory stays bounded: exec.ts applies
 * backpressure in both directions.
 *
 * - out: the command's stdout becomes the one file of a new snapshot (BackupStream, BackupData,
 *   CopyVolumeData). A command that fails — even after writing most of its output — leaves no snapshot, and
 *   neither does a stream shorter than the pod says it sent (stream-report.ts).
 * - in: one file of a snapshot becomes the command's stdin, framed as `head -c <size> | <command>` so the
 *   command sees the end of its input on kwok (whose exec never delivers stdin's end) as on a real kubelet.
 */
import { createHash } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { JsonValue } from '../../src/json.ts';
import { execInPod, tail } from '../kube/exec.ts';
import type { Repository } from '../kopia/repository.ts';
import { openSnapshotFileReader, openSnapshotWriter, type SnapshotEntry, type StreamSnapshotOptions } from '../kopia/snapshots.ts';
import { countedCommand, countedInputScript, inputVerdict, readStreamReport, streamVerdict } from './stream-report.ts';
import type { FunctionContext } from './types.ts';

export interface PodCommand {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
}

/** How often progress is heartbeated, also while a command is silent (a dump still planning). */
const HEARTBEAT_MS = 5_000;
/** What the sink buffers before the exec socket stops reading: a few websocket messages. */
const SINK_HIGH_WATER = 4 * 1024 * 1024;

/** Counts bytes on their way to `target` and passes `target`'s backpressure back to its writer. */
class CountingSink extends Writable {
  /** Bytes handed to `target`. */
  bytes = 0;
  private waiting = 0;
  constructor(private readonly target: Writable) {
    super({ highWaterMark: SINK_HIGH_WATER });
  }
  /** Bytes written into the sink so far, whether or not `target` has taken them yet. */
  get received(): number {
    // writableLength counts the chunk being handed over, which `bytes` already does.
    return this.bytes + this.writableLength - this.waiting;
  }
  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    let size = 0;
    let accepted = true;
    // One writev(2) for what queued up while kopia was busy, instead of one write(2) per websocket message.
    this.target.cork();
    for (const { chunk } of chunks) {
      size += chunk.length;
      accepted = this.target.write(chunk);
    }
    this.target.uncork();
    this.handOver(size, accepted, callback);
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.handOver(chunk.length, this.target.write(chunk), callback);
  }
  private handOver(size: number, accepted: boolean, callback: (error?: Error | null) => void): void {
    this.bytes += size;
    if (accepted) return callback();
    this.waiting = size;
    const settle = (error?: Error) => {
      this.waiting = 0;
      this.target.off('drain', onDrain);
      this.target.off('close', onClose);
      callback(error);
    };
    const onDrain = () => settle();
    const onClose = () => settle(new Error('the consumer stopped reading'));
    this.target.on('drain', onDrain);
    this.target.on('close', onClose);
  }
}

/** Heartbeats `details()` now and every few seconds until the returned function is called. */
export function heartbeatEvery(context: FunctionContext, details: () => JsonValue): () => void {
  context.heartbeat(details());
  const timer = setInterval(() => context.heartbeat(details()), HEARTBEAT_MS);
  return () => clearInterval(timer);
}

/**
 * Runs `command` in the pod and writes its stdout into a new snapshot. `label` names the command in errors
 * (never the command itself: it may carry a rendered secret).
 */
export async function snapshotCommandOutput(
  context: FunctionContext,
  repository: Repository,
  command: PodCommand,
  snapshot: StreamSnapshotOptions,
  label = 'command',
): Promise<{ snapshotID: string; bytes: number }> {
  const writer = openSnapshotWriter(repository, snapshot);
  const sink = new CountingSink(writer.input);
  // Errors of the sink (kopia gone) are read from kopia's exit below; unhandled they would crash the worker.
  sink.on('error', () => {});
  // A kopia that dies mid-stream (location full, repository unreachable) ends the exec instead of draining it.
  const stop = new AbortController();
  const cancel = () => stop.abort();
  context.signal.addEventListener('abort', cancel, { once: true });
  let committing = false;
  let kopiaFailure: string | undefined;
  void writer.exited.then(({ code, stderr }) => {
    if (committing) return;
    kopiaFailure = `kopia snapshot create failed (exit ${code}) after ${sink.bytes} bytes: ${stderr}`;
    stop.abort();
  });
  const stopBeating = heartbeatEvery(context, () => ({ bytes: sink.bytes }));
  try {
    const result = await execInPod(context.kube().config, { ...command, command: countedCommand(command.command), stdout: sink, signal: stop.signal }).catch(async (error: unknown) => {
      committing = true;
      await writer.abort();
      throw kopiaFailure ? new Error(kopiaFailure) : error;
    });
    const where = `in ${command.namespace}/${command.pod} (${command.container})`;
    const report = readStreamReport(result.stderr);
    const failed = streamVerdict(result.exitCode, report, sink.received);
    if (!failed.ok && failed.exitCode !== undefined) {
      // Counted as received: kopia may not have read all of it yet.
      const received = sink.received;
      committing = true;
      await writer.abort();
      throw new Error(`${label} ${failed.message} ${where} after ${received} bytes; no snapshot was written${report.stderr.trim() ? `; stderr:\n${tail(report.stderr)}` : ''}`);
    }
    // client-node ends stdout when the status arrives; what the sink still holds must reach kopia first.
    if (!sink.writableEnded) sink.end();
    await finished(sink).catch(() => {
      // kopia stopped reading: commit() reports its exit and stderr.
    });
    const verdict = streamVerdict(result.exitCode, report, sink.bytes);
    if (!verdict.ok) {
      committing = true;
      await writer.abort();
      throw new Error(`${label} ${where} ${verdict.message}; no snapshot was written (a retry sends it again)`);
    }
    committing = true;
    const snapshotID = await writer.commit();
    context.heartbeat({ bytes: sink.bytes, snapshotID });
    return { snapshotID, bytes: sink.bytes };
  } finally {
    stopBeating();
    context.signal.removeEventListener('abort', cancel);
  }
}

/**
 * Streams `file` of `snapshot` into `shellCommand` (a `sh -c` script reading stdin) run in the pod. stdin is
 * never ended: the `head -c` framing ends the command's input, and ending the stream would close the whole
 * exec on servers that predate the v5 stream protocol.
 */
export async function restoreIntoCommand(
  context: FunctionContext,
  repository: Repository,
  snapshot: SnapshotEntry,
  file: string,
  target: Omit<PodCommand, 'command'>,
  shellCommand: string,
  label = 'restore command',
): Promise<{ bytes: number }> {
  const reader = openSnapshotFileReader(repository, snapshot, file);
  const stdin = new PassThrough({ highWaterMark: SINK_HIGH_WATER });
  let bytes = 0;
  reader.process.stdout!.on('data', (chunk: Buffer) => (bytes += chunk.length));
  reader.process.stdout!.pipe(stdin, { end: false });
  // A kopia that fails mid-stream (a corrupted repository) would leave the command waiting for the rest.
  const stop = new AbortController();
  const cancel = () => stop.abort();
  context.signal.addEventListener('abort', cancel, { once: true });
  let execDone = false;
  let kopiaFailure: string | undefined;
  void reader.done.then(({ code, stderr }) => {
    if (!execDone && code !== 0 && bytes < snapshot.size) {
      kopiaFailure = `kopia could not read snapshot ${snapshot.id} (exit ${code}): ${stderr}`;
      stop.abort();
    }
  });
  const stopBeating = heartbeatEvery(context, () => ({ bytes, totalBytes: snapshot.size }));
  try {
    const command = ['sh', '-c', countedInputScript(snapshot.size, shellCommand)];
    const result = await execInPod(context.kube().config, { ...target, command, stdin, signal: stop.signal }).catch((error: unknown) => {
      throw kopiaFailure ? new Error(kopiaFailure) : error;
    });
    execDone = true;
    const report = readStreamReport(result.stderr);
    if (result.exitCode !== 0) {
      throw new Error(`${label} exited ${result.exitCode} in ${target.namespace}/${target.pod} (${target.container}) after ${bytes} of ${snapshot.size} bytes${report.stderr.trim() ? `; stderr:\n${tail(report.stderr)}` : ''}`);
    }
    const verdict = inputVerdict(report, snapshot.size);
    // Retried: the restore commands start from a clean slate (blueprints drop what they restore first).
    if (!verdict.ok) throw new Error(`${label} in ${target.namespace}/${target.pod} (${target.container}) ${verdict.message}`);
    return { bytes: snapshot.size };
  } finally {
    execDone = true;
    stopBeating();
    context.signal.removeEventListener('abort', cancel);
    reader.process.kill('SIGKILL');
    await reader.done;
  }
}

/**
 * The tag a data function puts on its snapshot (Kanister's `backupTag`): the same for every attempt of the
 * phase in one run, so a retry finds the snapshot of the attempt before, and different for another run even
 * if it reuses the workflow ID (the run's start time is part of it).
 */
export function runTag(context: FunctionContext, suffix: string): string {
  const run = createHash('sha256').update(context.template.Time).digest('hex').slice(0, 6);
  return context.resourceName(`${suffix}-${run}`);
}
