// A deterministic stream for benchmarks: `node generate-stream.mjs <bytes> <seed>` writes <bytes> bytes to
// stdout in 1 MiB blocks, alternating incompressible ones (AES-256-CTR keystream keyed by the seed) and
// compressible ones (text rows naming the seed and block). The same arguments give the same bytes; another
// seed gives different bytes of the same mix, so runs into one repository do not deduplicate each other.
// Plain JavaScript without dependencies, so it starts fast under any Node (it runs "in a pod" too).
import { createCipheriv, createHash } from 'node:crypto';

const BLOCK = 1024 * 1024;
const total = Number(process.argv[2] ?? 0);
const seed = process.argv[3] ?? 'seed';
if (!Number.isSafeInteger(total) || total < 0) {
  process.stderr.write('usage: generate-stream.mjs <bytes> <seed>\n');
  process.exit(2);
}
const key = createHash('sha256').update(`key:${seed}`).digest();
const iv = createHash('sha256').update(`iv:${seed}`).digest().subarray(0, 16);
const cipher = createCipheriv('aes-256-ctr', key, iv);
const zeroes = Buffer.alloc(BLOCK);

// Text rows built once per seed; each block stamps its index into every 4 KiB, so no two blocks are equal.
const baseText = (() => {
  const rows = [];
  let size = 0;
  for (let row = 0; size < BLOCK; row++) {
    const line = `${seed},${row},order-${(row * 7919) % 100000},status=shipped,amount=${(row * 37) % 1000}.00\n`;
    rows.push(line);
    size += line.length;
  }
  return Buffer.from(rows.join('')).subarray(0, BLOCK);
})();

function textBlock(index) {
  const block = Buffer.from(baseText);
  const stamp = `#block-${index}#`;
  for (let at = 0; at < BLOCK; at += 4096) block.write(stamp, at, 'latin1');
  return block;
}

let written = 0;
let index = 0;
function pump() {
  while (written < total) {
    const block = index % 2 === 0 ? cipher.update(zeroes) : textBlock(index);
    const chunk = block.subarray(0, Math.min(BLOCK, total - written));
    written += chunk.length;
    index++;
    if (!process.stdout.write(chunk)) {
      process.stdout.once('drain', pump);
      return;
    }
  }
}
pump();
