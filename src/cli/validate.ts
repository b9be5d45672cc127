import { parseArgs } from 'node:util';
import { errorsOf, formatDiagnostic } from '../diagnostics.ts';
import { resolve } from 'node:path';
import { addBlueprint, readBlueprintCatalog, SHIPPED_BLUEPRINTS_DIR } from '../application/blueprint-catalog.ts';
import { isApplicationDocument, validateApplicationSource, type LoadedApplication } from '../application/spec.ts';
import { expandBlueprintPaths, validateSource, type ValidationResult } from '../blueprint/validate.ts';
import { readSourceFile, type SourceFile } from '../yaml-source.ts';
import { EXIT_FAILED, EXIT_OK, outputFormat, parseFlags, runCommand, UsageError, type CommandIO } from './io.ts';

const HELP = `Usage: cairn validate <file|dir>... [--output text|json] [--blueprints <dir>]

Checks blueprints before they run: YAML syntax, the blueprint schema, each function's arguments, phase
names and dependencies, and every template (syntax, helpers, what it references). Documents with
kind: Application are checked as Applications (docs/applications.md): the schema, unique component names,
dependsOn (unknown, self, cycles), and that each named blueprint exists (in the files given, else in the
--blueprints directories) and takes the component's workload kind. Directories are searched for .yaml/.yml
files. Every problem is reported with file:line:column, path and a hint.

Options:
  -o, --output <format>  text (default) or json
      --blueprints <dir> where the blueprints Applications name are found (repeatable; default: the
                         shipped blueprints/); blueprints among the files given are found too
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
        options: {
          output: { type: 'string', short: 'o' },
          blueprints: { type: 'string', multiple: true },
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
    if (positionals.length === 0) throw new UsageError('name at least one blueprint file or directory');
    const files = await expandBlueprintPaths(positionals);
    if (files.length === 0) throw new UsageError(`no .yaml or .yml files under ${positionals.join(', ')}`);
    const sources: SourceFile[] = [];
    for (const file of files) sources.push(await readSourceFile(file));
    const results = await validateSources(sources, values.blueprints?.map((dir) => resolve(dir)) ?? [SHIPPED_BLUEPRINTS_DIR]);
    const errorCount = results.reduce((n, r) => n + errorsOf(r.diagnostics).length, 0);
    if (format === 'json') {
      io.stdout(`${JSON.stringify({ valid: errorCount === 0, files: results.map(toJson) }, null, 2)}\n`);
    } else {
      printText(results, io);
    }
    return errorCount === 0 ? EXIT_OK : EXIT_FAILED;
  });
}

type FileResult = ValidationResult & { applications: LoadedApplication[] };

/**
 * Each file's Application documents go to the Application checks, the rest to the blueprint checks. Blueprints
 * named by Applications are looked up among the files' own blueprints first, then in `blueprintDirs`.
 */
async function validateSources(sources: SourceFile[], blueprintDirs: string[]): Promise<FileResult[]> {
  const catalog = new Map() as Awaited<ReturnType<typeof readBlueprintCatalog>>;
  for (const source of sources) for (const document of source.documents) addBlueprint(catalog, document.value);
  for (const [name, blueprint] of await readBlueprintCatalog(blueprintDirs)) if (!catalog.has(name)) catalog.set(name, blueprint);
  return sources.map((source) => {
    const applicationDocuments = source.documents.filter((d) => isApplicationDocument(d.value));
    const blueprints = validateSource({ ...source, documents: source.documents.filter((d) => !isApplicationDocument(d.value)) });
    if (applicationDocuments.length === 0) return { ...blueprints, applications: [] };
    const applications = validateApplicationSource({ ...source, documents: applicationDocuments, diagnostics: [] }, { blueprints: catalog });
    const diagnostics = [...blueprints.diagnostics, ...applications.diagnostics].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    return { ...blueprints, applications: applications.applications, diagnostics };
  });
}

function toJson(result: FileResult) {
  return {
    file: result.file,
    valid: errorsOf(result.diagnostics).length === 0,
    blueprints: result.blueprints.map((b) => ({ name: b.blueprint.metadata.name, actions: Object.keys(b.blueprint.actions) })),
    ...(result.applications.length
      ? { applications: result.applications.map((a) => ({ name: a.spec.metadata.name, namespace: a.spec.spec.namespace, components: a.spec.spec.components.map((c) => c.name) })) }
      : {}),
    diagnostics: result.diagnostics,
  };
}

function printText(results: FileResult[], io: CommandIO): void {
  let applications = 0;
  let blueprints = 0;
  let errors = 0;
  let warnings = 0;
  for (const result of results) {
    const fileErrors = errorsOf(result.diagnostics).length;
    errors += fileErrors;
    warnings += result.diagnostics.length - fileErrors;
    blueprints += result.blueprints.length;
    applications += result.applications.length;
    if (fileErrors === 0) {
      const names = [
        ...result.blueprints.map((b) => `${b.blueprint.metadata.name} (${Object.keys(b.blueprint.actions).join(', ')})`),
        ...result.applications.map((a) => `${a.spec.metadata.name} (Application: ${a.spec.spec.components.map((c) => c.name).join(', ')})`),
      ];
      io.stdout(`ok   ${result.file}: ${names.join('; ')}\n`);
    } else {
      io.stdout(`FAIL ${result.file}\n`);
    }
    for (const diagnostic of result.diagnostics) io.stdout(`  ${formatDiagnostic(diagnostic)}\n`);
  }
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const apps = applications ? `${plural(applications, 'valid application')}, ` : '';
  io.stdout(`${plural(results.length, 'file')}, ${plural(blueprints, 'valid blueprint')}, ${apps}${plural(errors, 'error')}, ${plural(warnings, 'warning')}\n`);
}
