import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { errorsOf, formatDiagnostic } from '../diagnostics.ts';
import { importKanisterFile } from '../kanister/import.ts';
import { EXIT_FAILED, EXIT_OK, outputFormat, parseFlags, runCommand, UsageError } from './io.ts';

const HELP = `Usage: cairn import-kanister <file> [-o out.yaml] [--output text|json]

Converts a Kanister cr.kanister.io/v1alpha1 Blueprint into a Cairn blueprint: actions, phases, functions,
arguments and objects, with every Go template translated into a Cairn (handlebars) template. The result is
validated as 'cairn validate' would. Every construct that cannot be converted is reported with
file:line:column; then nothing is written. See docs/kanister-import.md for the mapping.

Options:
  -o, --out <file>       write the Cairn blueprint to <file> instead of stdout
      --output <format>  text (default) or json (a report with the blueprint and diagnostics on stdout)
      --debug            print stack traces of unexpected errors
  -h, --help             show this help

Exit status: 0 converted (warnings allowed), 1 not convertible or invalid, 2 usage error.
`;

export async function importKanisterCommand(argv: string[], io: { stdout: (s: string) => void; stderr: (s: string) => void }): Promise<number> {
  return runCommand('import-kanister', io, argv.includes('--debug'), async () => {
    const { values, positionals } = parseFlags(() =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          out: { type: 'string', short: 'o' },
          output: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
          debug: { type: 'boolean' },
        },
      }),
    );
    if (values.help) {
      io.stdout(HELP);
      return EXIT_OK;
    }
    const format = outputFormat(values.output);
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'name the Kanister blueprint file to import' : 'import one file at a time');
    const file = positionals[0]!;
    const result = await importKanisterFile(file);
    const failed = errorsOf(result.diagnostics).length > 0 || result.yaml === undefined;
    if (!failed && values.out !== undefined) await writeFile(values.out, result.yaml!);
    if (format === 'json') {
      const report = { file, converted: !failed, ...(values.out && !failed ? { written: values.out } : {}), ...(!failed && !values.out ? { blueprint: result.yaml } : {}), diagnostics: result.diagnostics };
      io.stdout(`${JSON.stringify(report, null, 2)}\n`);
      return failed ? EXIT_FAILED : EXIT_OK;
    }
    for (const diagnostic of result.diagnostics) io.stderr(`${formatDiagnostic(diagnostic)}\n`);
    if (failed) {
      const count = errorsOf(result.diagnostics).length;
      io.stderr(`cairn import-kanister: ${file} was not converted (${count} problem${count === 1 ? '' : 's'}); nothing written\n`);
      return EXIT_FAILED;
    }
    if (values.out !== undefined) io.stderr(`wrote ${values.out} (${summary(result.blueprints)})\n`);
    else io.stdout(result.yaml!);
    return EXIT_OK;
  });
}

function summary(blueprints: { metadata: { name: string }; actions: Record<string, unknown> }[]): string {
  return blueprints.map((b) => `${b.metadata.name}: ${Object.keys(b.actions).join(', ')}`).join('; ');
}
