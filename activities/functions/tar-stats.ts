/**
 * Counts what a tar stream holds without keeping it: a Writable that reads the 512-byte headers (ustar, GNU
 * and pax, sizes in octal or base-256), skips the data, and tallies entries. BackupDataStats reads the archive
 * of a BackupData/CopyVolumeData snapshot through it, as restic's stats read the files of a restic snapshot.
 */
import { Writable } from 'node:stream';

const BLOCK = 512;

type State = { kind: 'header' } | { kind: 'skip'; left: number } | { kind: 'pax'; left: number; padding: number; chunks: Buffer[] } | { kind: 'done' };

export class TarStats extends Writable {
  /** Entries that are not directories: files, symlinks, hard links, devices. */
  files = 0;
  directories = 0;
  /** Bytes of the regular files' contents. */
  bytes = 0;
  private state: State = { kind: 'header' };
  private header = Buffer.alloc(0);
  /** A pax `size` record for the next entry (sizes beyond the header's 8 GiB). */
  private paxSize: number | undefined;

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      this.consume(chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  private consume(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && this.state.kind !== 'done') {
      const state = this.state;
      if (state.kind === 'skip') {
        const n = Math.min(state.left, chunk.length - offset);
        state.left -= n;
        offset += n;
        if (state.left === 0) this.state = { kind: 'header' };
        continue;
      }
      if (state.kind === 'pax') {
        const n = Math.min(state.left, chunk.length - offset);
        state.chunks.push(chunk.subarray(offset, offset + n));
        state.left -= n;
        offset += n;
        if (state.left === 0) {
          this.paxSize = paxSize(Buffer.concat(state.chunks).toString('utf8')) ?? this.paxSize;
          this.state = state.padding > 0 ? { kind: 'skip', left: state.padding } : { kind: 'header' };
        }
        continue;
      }
      const n = Math.min(BLOCK - this.header.length, chunk.length - offset);
      this.header = Buffer.concat([this.header, chunk.subarray(offset, offset + n)]);
      offset += n;
      if (this.header.length === BLOCK) {
        const header = this.header;
        this.header = Buffer.alloc(0);
        this.entry(header);
      }
    }
  }

  private entry(header: Buffer): void {
    // An all-zero block ends the archive (tar writes two; the rest is padding to its record size).
    if (header.every((byte) => byte === 0)) {
      this.state = { kind: 'done' };
      return;
    }
    const size = headerSize(header.subarray(124, 136));
    const type = String.fromCharCode(header[156]!);
    const padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (type === 'x') {
      this.state = size > 0 ? { kind: 'pax', left: size, padding, chunks: [] } : { kind: 'header' };
      return;
    }
    if (type === 'g' || type === 'L' || type === 'K') {
      // Global pax records and GNU long names describe entries; they are not entries.
      this.skipData(size + padding);
      return;
    }
    const effective = this.paxSize ?? size;
    this.paxSize = undefined;
    if (type === '5') this.directories++;
    else this.files++;
    const regular = type === '0' || type === '\0' || type === '7';
    if (regular) this.bytes += effective;
    // Only regular files carry data; a hard link's or symlink's size field is 0.
    const data = regular ? effective : size;
    this.skipData(data + ((BLOCK - (data % BLOCK)) % BLOCK));
  }

  private skipData(bytes: number): void {
    this.state = bytes > 0 ? { kind: 'skip', left: bytes } : { kind: 'header' };
  }
}

/** The size field: octal digits, or base-256 (high bit of the first byte set) for sizes beyond 8 GiB. */
function headerSize(field: Buffer): number {
  if ((field[0]! & 0x80) !== 0) {
    let value = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
    return value;
  }
  const text = field.toString('ascii').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : parseInt(text, 8);
}

/** The `size` of pax records `"<len> size=<n>\n"…`. */
function paxSize(records: string): number | undefined {
  const match = /(?:^|\n)\d+ size=(\d+)\n/.exec(records);
  return match ? Number(match[1]) : undefined;
}
