import { parseArgs } from 'node:util';
import { openNamedLocation } from '../../activities/location/location.ts';
import { listRestorePoints, readRestorePoint } from '../../activities/location/restore-points.ts';
import { kubeClients } from '../kube/clients.ts';
import { isApplicationName } from '../location/layout.ts';
import { RESTORE_POINT_ID, type RestorePoint } from '../location/restore-point.ts';
import { EXIT_FAILED, EXIT_OK, outputFormat, parseFlags, runCommand, UsageError, type CommandIO } from './io.ts';

const HELP = `Usage: cairn restore-points <list|show> [options]

Reads the restore-point manifests of a location (restore-points/<application>/<id>.json, see
docs/locations.md): from the location alone, without Temporal and without the KEK.

  cairn restore-points list [--profile <name>] [--application <name>]
      Every restore point, oldest first: id, application, target, blueprint, snapshots and size.

  cairn restore-points show <application>/<id> [--profile <name>]
      One manifest in full (JSON). Its artifacts are what 'cairn run --artifacts' takes for a restore.

Options:
      --profile <name>      the location profile (default: default, the embedded location)
      --application <name>  only this application's restore points
  -o, --output <format>     text (default) or json
      --debug               stack traces of unexpected errors
  -h, --help                show this help

Exit status: 0 listed (also when there are none), 1 failed (location unreachable, unknown profile, no such
restore point), 2 usage error.
`;

export async function restorePointsCommand(argv: string[], io: CommandIO): Promise<number> {
  return runCommand('restore-points', io, argv.includes('--debug'), async () => {
    const { values, positionals } = parseFlags(() =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          profile: { type: 'string' },
          application: { type: 'string' },
          output: { type: 'string', short: 'o' },
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
    const [sub, ...rest] = positionals;
    if (sub !== 'list' && sub !== 'show') throw new UsageError(sub === undefined ? 'name a subcommand: list or show' : `unknown subcommand "${sub}" (list, show)`);
    if (values.application !== undefined && !isApplicationName(values.application)) throw new UsageError(`--application "${values.application}" is not an application name`);

    if (sub === 'show') {
      const match = rest.length === 1 ? /^([^/]+)\/([^/]+)$/.exec(rest[0]!) : null;
      if (!match || !isApplicationName(match[1]!) || !RESTORE_POINT_ID.test(match[2]!)) throw new UsageError('name one restore point as <application>/<id>, as list prints it');
      const location = await openNamedLocation(values.profile, () => kubeClients());
      const point = await readRestorePoint(location, match[1]!, match[2]!);
      if (!point) {
        io.stderr(`cairn restore-points: no restore point ${rest[0]} in ${location.label}\n`);
        return EXIT_FAILED;
      }
      io.stdout(`${JSON.stringify(point, null, 2)}\n`);
      return EXIT_OK;
    }

    if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
    const location = await openNamedLocation(values.profile, () => kubeClients());
    const listing = await listRestorePoints(location, values.application === undefined ? {} : { application: values.application });
    for (const problem of listing.problems) io.stderr(`cairn restore-points: skipped ${problem}\n`);
    if (format === 'json') {
      io.stdout(`${JSON.stringify({ profile: location.profile.name, location: location.label, restorePoints: listing.points, problems: listing.problems }, null, 2)}\n`);
    } else {
      io.stdout(table(listing.points, location.label));
    }
    return EXIT_OK;
  });
}

function table(points: RestorePoint[], label: string): string {
  if (points.length === 0) return `no restore points in ${label}\n`;
  const rows = points.map((p) => [`${p.application}/${p.id}`, p.target, p.blueprint, String(p.snapshots.length), bytes(p.size.logicalBytes), p.endTime]);
  const header = ['RESTORE POINT', 'TARGET', 'BLUEPRINT', 'SNAPSHOTS', 'SIZE', 'ENDED'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`;
  return `${label}\n${line(header)}${rows.map(line).join('')}`;
}

function bytes(count: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}
