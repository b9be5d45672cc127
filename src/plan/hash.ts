import { createHash } from 'node:crypto';
import { canonicalJson } from '../json.ts';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** sha256 of the canonical JSON (keys sorted at every level), so equal data always hashes equal. */
export function canonicalHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
