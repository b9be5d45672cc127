import { parseArgs } from 'node:util';
import { errorsOf, formatDiagnostic } from '../diagnostics.ts';
import { expandBlueprintPaths, validateFile, type ValidationResult } from '../blueprint/validate.ts';
import { EXIT_FAILED, EXIT_OK, outputFormat, parseFlags, runCommand, UsageError, type CommandIO } from './io.ts';

const HELP = `Usage: cairn validate <file|dir>... [--output text|json]

Checks blueprints before they run: YAML syntax, the blueprint schema, each function's arguments, phase
names and dependencies, and every template (syntax, helpers, what it references). Directories are searched
for .yaml/.yml files. Every problem is reported with file:line:column, path and a hint.

Options:
  -o, --output <format>  text (default) or json
      --debug            print stack traces of unexpected errors
  -h, --help             show this help

Exit status: 0 all valid (warnings allowed), 1 problems found, 2 usage error.
`;

export async function validateCommand(argv: string[], io: CommandIO): Promise<number> {
  return runCommand('validate', io, argv.includes('--debug'), async () => {
    const { values, positionals } = parseFlags(() =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        options: { output: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' }, debug: { type: 'boolean' } },
      }),
    );
    if (values.help) {
      io.stdout(HELP);
      return EXIT_OK;
    }
    const format = outputFormat(values.output);
    if (positionals.length === 0) throw new UsageError('name at least one blueprint file or directory');
    const files = await expandBlueprintPaths(positionals);
    if (files.length === 0) throw new UsageError(`no .yaml or .yml files under ${positionals.join(', ')}`);
    const results: ValidationResult[] = [];
    for (const file of files) results.push(await validateFile(file));
    const errorCount = results.reduce((n, r) => n + errorsOf(r.diagnostics).length, 0);
    if (format === 'json') {
      io.stdout(`${JSON.stringify({ valid: errorCount === 0, files: results.map(toJson) }, null, 2)}\n`);
    } else {
      printText(results, io);
    }
    return errorCount === 0 ? EXIT_OK : EXIT_FAILED;
  });
}

function toJson(result: ValidationResult) {
  return {
    file: result.file,
    valid: errorsOf(result.diagnostics).length === 0,
    blueprints: result.blueprints.map((b) => ({ name: b.blueprint.metadata.name, actions: Object.keys(b.blueprint.actions) })),
    diagnostics: result.diagnostics,
  };
}

function printText(results: ValidationResult[], io: CommandIO): void {
  let blueprints = 0;
  let errors = 0;
  let warnings = 0;
  for (const result of results) {
    const fileErrors = errorsOf(result.diagnostics).length;
    errors += fileErrors;
    warnings += result.diagnostics.length - fileErrors;
    blueprints += result.blueprints.length;
    if (fileErrors === 0) {
      const names = result.blueprints.map((b) => `${b.blueprint.metadata.name} (${Object.keys(b.blueprint.actions).join(', ')})`);
      io.stdout(`ok   ${result.file}: ${names.join('; ')}\n`);
    } else {
      io.stdout(`FAIL ${result.file}\n`);
    }
    for (const diagnostic of result.diagnostics) io.stdout(`  ${formatDiagnostic(diagnostic)}\n`);
  }
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  io.stdout(`${plural(results.length, 'file')}, ${plural(blueprints, 'valid blueprint')}, ${plural(errors, 'error')}, ${plural(warnings, 'warning')}\n`);
}
