/** What every command shares: exit codes, output streams, usage errors and how failures are printed. */
import { CairnError, formatDiagnostic } from '../diagnostics.ts';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface CommandIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const processIO: CommandIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export type Command = (argv: string[], io: CommandIO) => Promise<number>;

/** A mistake in how the command was called: printed with a pointer to --help, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type OutputFormat = 'text' | 'json';

export function outputFormat(value: string | undefined, allowed: readonly string[] = ['text', 'json']): OutputFormat {
  const format = value ?? 'text';
  if (!allowed.includes(format)) throw new UsageError(`--output must be one of ${allowed.join(', ')}, got "${format}"`);
  return format as OutputFormat;
}

/** Runs a command body, turning thrown errors into the documented exit codes and messages. */
export async function runCommand(name: string, io: CommandIO, debug: boolean, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`cairn ${name}: ${error.message}\nRun 'cairn ${name} --help' for usage.\n`);
      return EXIT_USAGE;
    }
    if (error instanceof CairnError) {
      for (const diagnostic of error.diagnostics) io.stderr(`${formatDiagnostic(diagnostic)}\n`);
      return EXIT_FAILED;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`cairn ${name}: ${message}\n`);
    if (debug && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
    return EXIT_FAILED;
  }
}

/** node:util parseArgs errors are usage errors. */
export function parseFlags<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}
