/**
 * Keeps Secret values out of everything that leaves an activity (outputs, error messages, logs), in the
 * forms they are likely to appear in: plain, base64 and JSON-escaped.
 */
import type { JsonValue } from '../src/json.ts';

export const REDACTED = '[redacted]';

export class Redactor {
  private readonly needles: string[] = [];
  private readonly publicValues = new Set<string>();

  /**
   * Values everyone can see (the namespace, the target's name): a Secret that holds one of them (a user name
   * equal to the namespace, say) must not blank them out of every message.
   */
  allow(values: Iterable<string>): void {
    for (const value of values) this.publicValues.add(value);
  }

  add(value: string): void {
    // Very short values (a "1" flag) would turn every message into noise; they are not secrets anyway.
    if (value.length < 4 || this.publicValues.has(value)) return;
    for (const form of [value, Buffer.from(value, 'utf8').toString('base64'), JSON.stringify(value).slice(1, -1)]) {
      if (!this.needles.includes(form)) this.needles.push(form);
    }
    this.needles.sort((a, b) => b.length - a.length);
  }

  text(input: string): string {
    let output = input;
    for (const needle of this.needles) output = output.split(needle).join(REDACTED);
    return output;
  }

  value<T extends JsonValue>(input: T): T {
    if (typeof input === 'string') return this.text(input) as T;
    if (Array.isArray(input)) return input.map((item) => this.value(item)) as T;
    if (input !== null && typeof input === 'object') {
      return Object.fromEntries(Object.entries(input).map(([key, item]) => [key, this.value(item)])) as T;
    }
    return input;
  }
}
