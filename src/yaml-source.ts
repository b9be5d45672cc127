/**
 * The one YAML loader: parses text into plain data while keeping source positions, so every later check can
 * name file, line and column. Guards against the inputs that hurt YAML loaders: oversized files, non-UTF-8,
 * duplicate keys and alias ("billion laughs") bombs.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Node } from 'yaml';
import type { Diagnostic } from './diagnostics.ts';

export const MAX_SOURCE_BYTES = 1024 * 1024;
const MAX_ALIAS_COUNT = 100;

export type PathSegment = string | number;

export interface SourcePosition {
  line: number;
  column: number;
}

export interface SourceDocument {
  file: string;
  /** 0-based index of the document in a multi-document file. */
  index: number;
  value: unknown;
  /** Position of the deepest existing node along `path` (the value's node, or its key for a map entry). */
  positionOf(path: readonly PathSegment[]): SourcePosition;
}

export interface SourceFile {
  file: string;
  text: string;
  documents: SourceDocument[];
  diagnostics: Diagnostic[];
}

export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** The `.yaml`/`.yml` file names directly in a directory, sorted; none when it cannot be read. */
export async function yamlFilesIn(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((entry) => ['.yaml', '.yml'].includes(extname(entry))).sort();
  } catch {
    return [];
  }
}

/** Reads and parses a file; a file that cannot be read comes back as an `unreadable` diagnostic, never a throw. */
export async function readSourceFile(file: string): Promise<SourceFile> {
  try {
    const info = await stat(file);
    if (info.isDirectory()) return failed(file, 'unreadable', 'is a directory');
    if (info.size > MAX_SOURCE_BYTES) {
      return failed(file, 'file-too-large', `file is ${info.size} bytes; the limit is ${MAX_SOURCE_BYTES} bytes (1 MiB)`);
    }
    return parseSourceBytes(await readFile(file), file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return failed(file, 'unreadable', code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message);
  }
}

export function parseSourceBytes(bytes: Uint8Array, file: string): SourceFile {
  if (bytes.byteLength > MAX_SOURCE_BYTES) {
    return failed(file, 'file-too-large', `input is ${bytes.byteLength} bytes; the limit is ${MAX_SOURCE_BYTES} bytes (1 MiB)`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    return failed(file, 'not-utf8', `file is not valid UTF-8 (first bad byte at offset ${offset})`, 'save the file as UTF-8');
  }
  return parseSourceText(text, file);
}

export function parseSourceText(text: string, file: string): SourceFile {
  if (text.trim() === '') return failed(file, 'empty-file', 'file is empty', 'a blueprint needs apiVersion, kind, metadata and actions');
  const lineCounter = new LineCounter();
  const diagnostics: Diagnostic[] = [];
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false, version: '1.2' });
  const list = Array.isArray(docs) ? docs : [];
  if (!Array.isArray(docs)) {
    // parseAllDocuments returns an EmptyStream for input with no documents.
    return failed(file, 'empty-file', 'file holds no YAML document');
  }
  const documents: SourceDocument[] = [];
  list.forEach((doc, index) => {
    for (const error of doc.errors) {
      const position = lineCounter.linePos(error.pos[0]);
      const duplicate = error.code === 'DUPLICATE_KEY';
      const key = duplicate ? /^[^\s:]+/.exec(text.slice(error.pos[0]))?.[0] : undefined;
      diagnostics.push({
        code: duplicate ? 'duplicate-key' : 'yaml-syntax',
        severity: 'error',
        message: duplicate ? `duplicate key${key ? ` "${key}"` : ''}: map keys must be unique` : firstLine(error.message),
        file,
        line: position.line,
        column: position.col,
      });
    }
    if (doc.errors.length > 0) return;
    if (doc.contents === null) return; // a stray `---` at the end
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      diagnostics.push({
        code: /alias/i.test(message) ? 'yaml-alias-limit' : 'yaml-syntax',
        severity: 'error',
        message: /alias/i.test(message) ? `too many alias expansions (limit ${MAX_ALIAS_COUNT}): ${firstLine(message)}` : firstLine(message),
        file,
        line: lineCounter.linePos(doc.range[0]).line,
        column: 1,
        hint: 'YAML anchors and aliases may not expand into huge documents',
      });
      return;
    }
    const root = doc.contents as Node;
    documents.push({
      file,
      index,
      value,
      positionOf(path) {
        const offset = offsetOf(root, path);
        const position = lineCounter.linePos(offset);
        return { line: position.line, column: position.col };
      },
    });
  });
  if (documents.length === 0 && diagnostics.length === 0) {
    diagnostics.push({ code: 'empty-file', severity: 'error', message: 'file holds no YAML document', file, line: 1, column: 1 });
  }
  return { file, text, documents, diagnostics };
}

function offsetOf(root: Node, path: readonly PathSegment[]): number {
  let node: unknown = root;
  let offset = root.range?.[0] ?? 0;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => (isScalar(item.key) ? String(item.key.value) : String(item.key)) === String(segment));
      if (!pair) break;
      const key = pair.key as Node | null;
      const value = pair.value as Node | null;
      offset = value?.range?.[0] ?? key?.range?.[0] ?? offset;
      node = value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  let low = 0;
  let high = bytes.byteLength;
  while (low < high) {
    const mid = Math.floor((low + high + 1) / 2);
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid), { stream: true });
      low = mid;
    } catch {
      high = mid - 1;
    }
  }
  return low;
}

function failed(file: string, code: string, message: string, hint?: string): SourceFile {
  const diagnostic: Diagnostic = { code, severity: 'error', message, file };
  if (hint) diagnostic.hint = hint;
  return { file, text: '', documents: [], diagnostics: [diagnostic] };
}
