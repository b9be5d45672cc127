/** `cairn <command>`: a thin dispatcher; each command lives in its own file under src/cli/. */
import { didYouMean } from '../diagnostics.ts';
import { EXIT_OK, EXIT_USAGE, processIO, type Command, type CommandIO } from './io.ts';
import { renderCommand } from './render.ts';
import { validateCommand } from './validate.ts';

interface CommandEntry {
  summary: string;
  load: () => Promise<Command>;
}

const COMMANDS: Record<string, CommandEntry> = {
  validate: { summary: 'check blueprints before they run', load: async () => validateCommand },
  render: { summary: 'compile an action into its execution plan and preview rendered arguments', load: async () => renderCommand },
  run: { summary: 'start a durable run of a blueprint action', load: async () => (await import('./run.ts')).runActionCommand },
  status: { summary: "show a run's phases and progress", load: async () => (await import('./status.ts')).statusCommand },
  cancel: { summary: 'cancel a run (its defer phases still run)', load: async () => (await import('./cancel.ts')).cancelCommand },
  worker: { summary: 'run the Cairn worker', load: async () => (await import('./worker.ts')).workerCommand },
  'restore-points': { summary: "list a location's restore points, describe or delete them", load: async () => (await import('./restore-points.ts')).restorePointsCommand },
  retention: { summary: "retire an application's expired restore points and reclaim their space", load: async () => (await import('./retention.ts')).retentionCommand },
  verify: { summary: "check that an application's restore points still restore", load: async () => (await import('./verify.ts')).verifyCommand },
  schedule: { summary: 'schedule backups, DR drills, retention and repository checks', load: async () => (await import('./schedule.ts')).scheduleCommand },
  backup: { summary: 'back up a whole Application: its resources and every component, one restore point', load: async () => (await import('./backup.ts')).backupCommand },
  restore: { summary: 'restore an Application in dependency order, into its namespace or another', load: async () => (await import('./restore.ts')).restoreCommand },
  drill: { summary: 'restore an application into an isolated namespace, check it, clean up', load: async () => (await import('./drill.ts')).drillCommand },
  keys: { summary: 'rotate or check the key-encryption key of a location', load: async () => (await import('./keys.ts')).keysCommand },
  discover: { summary: "propose an Application from a namespace's workloads", load: async () => (await import('./discover.ts')).discoverCommand },
  'import-kanister': {
    summary: 'convert a Kanister blueprint into a Cairn blueprint',
    load: async () => (await import('./import-kanister.ts')).importKanisterCommand,
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const list = Object.entries(COMMANDS)
    .map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`)
    .join('\n');
  return `Usage: cairn <command> [options]

Cairn: Kubernetes backup and disaster recovery on durable Temporal workflows.

Commands:
${list}

Run 'cairn <command> --help' for a command's options.
Exit status: 0 ok, 1 failed, 2 usage error.
`;
}

export async function main(argv: string[], io: CommandIO = processIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    if (name === 'help' && rest[0] && COMMANDS[rest[0]]) return main([rest[0], '--help'], io);
    io.stdout(usage());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    const suggestion = didYouMean(name, Object.keys(COMMANDS));
    io.stderr(`cairn: unknown command "${name}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}\nRun 'cairn --help' for the list of commands.\n`);
    return EXIT_USAGE;
  }
  const command = await entry.load();
  return command(rest, io);
}
