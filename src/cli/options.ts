/** `--option k=v` and `--context file.json`, shared by every command that starts or previews a run. */
import { readFile } from 'node:fs/promises';
import { isJsonObject, type JsonObject } from '../json.ts';
import { UsageError } from './io.ts';

/** `--option` values are strings; typed values go through `--context`. */
export function parseOptionFlags(flags: string[] | undefined): JsonObject {
  const options: JsonObject = {};
  for (const flag of flags ?? []) {
    const equals = flag.indexOf('=');
    if (equals <= 0) throw new UsageError(`--option must be key=value, got "${flag}"`);
    const key = flag.slice(0, equals);
    if (!/^[A-Za-z_][\w-]*$/.test(key)) throw new UsageError(`--option key "${key}" must be letters, digits, "-" or "_"`);
    options[key] = flag.slice(equals + 1);
  }
  return options;
}

export async function readContextFile(file: string | undefined): Promise<JsonObject> {
  if (file === undefined) return {};
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --context file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--context file ${file} is not JSON: ${(error as Error).message}`);
  }
  if (!isJsonObject(value)) throw new UsageError(`--context file ${file} must hold a JSON object`);
  return value;
}
