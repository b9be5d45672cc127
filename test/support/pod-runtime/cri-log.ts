import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * Container output in the CRI log format that kwok's `Logs` (and so `kubectl logs`) reads, one entry a line:
 * `2026-11-21T23:50:00.000000000Z stdout F line one`. A line longer than `MAX_ENTRY_BYTES` is split into
 * partial (`P`) entries ended by a full (`F`) one, as the kubelet does; plain text is refused by kwok.
 */
export type LogStream = 'stdout' | 'stderr';

export const MAX_ENTRY_BYTES = 16 * 1024;

/** RFC 3339 with nanoseconds, which is what CRI readers parse; JavaScript clocks stop at milliseconds. */
export function criTimestamp(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

export function criEntry(date: Date, stream: LogStream, tag: 'P' | 'F', content: string): string {
  return `${criTimestamp(date)} ${stream} ${tag} ${content}\n`;
}

/** Splits one stream's chunks into CRI entries; keeps an unfinished line until its newline or `flush`. */
export class CriLineSplitter {
  private pending = '';

  constructor(
    private readonly stream: LogStream,
    private readonly emit: (entry: string) => void,
    private readonly now: () => Date = () => new Date(),
  ) {}

  write(chunk: string): void {
    this.pending += chunk;
    let newline = this.pending.indexOf('\n');
    while (newline >= 0) {
      this.emitLine(this.pending.slice(0, newline), 'F');
      this.pending = this.pending.slice(newline + 1);
      newline = this.pending.indexOf('\n');
    }
    while (Buffer.byteLength(this.pending) > MAX_ENTRY_BYTES) {
      const head = this.pending.slice(0, MAX_ENTRY_BYTES);
      this.emit(criEntry(this.now(), this.stream, 'P', head));
      this.pending = this.pending.slice(head.length);
    }
  }

  /** Ends an unfinished last line (the process exited without a trailing newline). */
  flush(): void {
    if (this.pending !== '') this.emitLine(this.pending, 'F');
    this.pending = '';
  }

  private emitLine(line: string, tag: 'P' | 'F'): void {
    this.emit(criEntry(this.now(), this.stream, tag, line.endsWith('\r') ? line.slice(0, -1) : line));
  }
}

/** One container's log file: both streams, appended synchronously so entries never interleave mid-line. */
export class CriLogFile {
  private readonly fd: number;
  readonly stdout: CriLineSplitter;
  readonly stderr: CriLineSplitter;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
    const append = (entry: string) => {
      writeSync(this.fd, entry);
    };
    this.stdout = new CriLineSplitter('stdout', append);
    this.stderr = new CriLineSplitter('stderr', append);
  }

  /** A line of the runtime's own, e.g. why a container could not start (the kubelet reports such in events). */
  note(line: string): void {
    writeSync(this.fd, criEntry(new Date(), 'stderr', 'F', line));
  }

  close(): void {
    this.stdout.flush();
    this.stderr.flush();
    closeSync(this.fd);
  }
}
