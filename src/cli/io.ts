/** What every command shares: exit codes, output streams, usage errors, flag parsing and how failures are printed. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
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

/** Flags every command takes: `--output` (unless the command prints no data), `--help` and `--debug`. */
export const STANDARD_FLAGS = {
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
  debug: { type: 'boolean' },
} as const;

type FlagSpec = NonNullable<ParseArgsConfig['options']>;
type ParsedLine<F extends FlagSpec> = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: F & typeof STANDARD_FLAGS }>>;

export interface CommandLine<F extends FlagSpec> {
  values: ParsedLine<F>['values'];
  positionals: string[];
  /** One of `outputs` (text or json unless the command says otherwise). */
  format: string;
  /** Writes `json` to stdout with `--output json`, else `text`. */
  print(json: unknown, text: string): void;
}

export interface CommandSpec<F extends FlagSpec> {
  name: string;
  help: string;
  flags: F;
  /** The `--output` formats the command knows (default text and json). */
  outputs?: readonly string[];
}

/**
 * A command from its flags and body: parsing, `--help`, `--output` and the exit codes are handled here, so each
 * command file holds only what it does.
 */
export function defineCommand<const F extends FlagSpec>(spec: CommandSpec<F>, body: (line: CommandLine<F>, io: CommandIO) => Promise<number>): Command {
  return (argv, io) =>
    runCommand(spec.name, io, argv.includes('--debug'), async () => {
      const parsed = parseFlags(() => parseArgs({ args: argv, allowPositionals: true, options: { ...spec.flags, ...STANDARD_FLAGS } }));
      const values = parsed.values as ParsedLine<F>['values'] & { help?: boolean; output?: string };
      if (values.help) {
        io.stdout(spec.help);
        return EXIT_OK;
      }
      const format = outputFormat(values.output, spec.outputs);
      const print = (json: unknown, text: string) => io.stdout(format === 'json' ? `${JSON.stringify(json, null, 2)}\n` : text);
      return body({ values, positionals: parsed.positionals, format, print }, io);
    });
}
