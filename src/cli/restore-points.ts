import { openNamedLocation } from '../../activities/location/location.ts';
import type { OpenedLocation } from '../../activities/location/location.ts';
import { listRestorePoints, readRestorePoint } from '../../activities/location/restore-points.ts';
import { existingRepository, ownedSnapshots } from '../../activities/retention/catalog.ts';
import { deleteRestorePoint } from '../../activities/retention/delete.ts';
import { runMaintenance } from '../../activities/retention/maintenance.ts';
import { kubeClients } from '../kube/clients.ts';
import { isApplicationName } from '../location/layout.ts';
import { RESTORE_POINT_ID, type RestorePoint } from '../location/restore-point.ts';
import type { DeleteRestorePointResult, MaintenanceResult } from '../retention/types.ts';
import { defineCommand, EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, type CommandIO } from './io.ts';

const HELP = `Usage: cairn restore-points <list|show|describe|delete> [options]

The catalog: the restore-point manifests of a location (restore-points/<application>/<id>.json, see
docs/locations.md), read from the location alone — without Temporal, and without the KEK except to delete.

  cairn restore-points list [--application <name>]
      Every restore point, oldest first: id, target, blueprint, snapshots, size, end time and scope.

  cairn restore-points show <application>/<id>
      One manifest in full (JSON). Its artifacts are what 'cairn run --artifacts' takes for a restore.

  cairn restore-points describe <application>/<id>      (or: describe <application> <id>)
      One restore point for people: run, times, components, resources by kind, each snapshot and its size.

  cairn restore-points delete <application> <id>... --yes [--reclaim]
      Deletes restore points: each manifest first (the point is no longer listed), then its kopia snapshots
      (those no other restore point names). Without --yes, prints what would go and deletes nothing.
      --reclaim then runs kopia's full maintenance so the space is given back (else the next
      'cairn retention apply' does). Needs the KEK, like a backup.

Options:
      --profile <name>      the location profile (default: default, the embedded location)
      --application <name>  list: only this application's restore points
      --yes                 delete: really delete
      --reclaim             delete: run kopia maintenance afterwards
  -o, --output <format>     text (default) or json
      --debug               stack traces of unexpected errors
  -h, --help                show this help

Exit status: 0 done (also when there are none), 1 failed (location unreachable, unknown profile, no such
restore point), 2 usage error (also: delete without --yes).
`;

export const restorePointsCommand = defineCommand(
  {
    name: 'restore-points',
    help: HELP,
    flags: { profile: { type: 'string' }, application: { type: 'string' }, yes: { type: 'boolean' }, reclaim: { type: 'boolean' } },
  },
  async ({ values, positionals, format, print }, io) => {
    const [sub, ...rest] = positionals;
    if (values.application !== undefined && !isApplicationName(values.application)) throw new UsageError(`--application "${values.application}" is not an application name`);
    const open = () => openNamedLocation(values.profile, () => kubeClients());
    switch (sub) {
      case 'list': {
        if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
        const location = await open();
        const listing = await listRestorePoints(location, values.application === undefined ? {} : { application: values.application });
        for (const problem of listing.problems) io.stderr(`cairn restore-points: skipped ${problem}\n`);
        print({ profile: location.profile.name, location: location.label, restorePoints: listing.points, problems: listing.problems }, table(listing.points, location.label));
        return EXIT_OK;
      }
      case 'show':
      case 'describe': {
        const [application, id] = pointArgument(rest);
        const location = await open();
        const point = await readRestorePoint(location, application, id);
        if (!point) {
          io.stderr(`cairn restore-points: no restore point ${application}/${id} in ${location.label}\n`);
          return EXIT_FAILED;
        }
        if (sub === 'show' || format === 'json') io.stdout(`${JSON.stringify(point, null, 2)}\n`);
        else io.stdout(describe(point, location.label));
        return EXIT_OK;
      }
      case 'delete':
        return deleteCommand(rest, { yes: values.yes === true, reclaim: values.reclaim === true, format, open }, io);
      default:
        throw new UsageError(sub === undefined ? 'name a subcommand: list, show, describe or delete' : `unknown subcommand "${sub}" (list, show, describe, delete)`);
    }
  },
);

function pointArgument(rest: string[]): [string, string] {
  const parts = rest.length === 1 ? rest[0]!.split('/') : rest;
  if (parts.length !== 2 || !isApplicationName(parts[0]!) || !RESTORE_POINT_ID.test(parts[1]!)) throw new UsageError('name one restore point as <application>/<id>, as list prints it');
  return [parts[0]!, parts[1]!];
}

async function deleteCommand(rest: string[], options: { yes: boolean; reclaim: boolean; format: string; open: () => Promise<OpenedLocation> }, io: CommandIO): Promise<number> {
  const [application, ...ids] = rest;
  if (application === undefined || ids.length === 0) throw new UsageError('name an application and at least one restore point id: delete <application> <id>...');
  if (!isApplicationName(application)) throw new UsageError(`"${application}" is not an application name`);
  const bad = ids.find((id) => !RESTORE_POINT_ID.test(id));
  if (bad) throw new UsageError(`"${bad}" is not a restore point id (cairn restore-points list shows them)`);
  const location = await options.open();
  const points: RestorePoint[] = [];
  for (const id of new Set(ids)) {
    const point = await readRestorePoint(location, application, id);
    if (!point) {
      io.stderr(`cairn restore-points: no restore point ${application}/${id} in ${location.label}; nothing deleted\n`);
      return EXIT_FAILED;
    }
    points.push(point);
  }
  if (!options.yes) {
    io.stderr(`cairn restore-points: would delete from ${location.label}:\n${points.map((p) => `  ${application}/${p.id}  (${ownedSnapshots(p).length} snapshot(s), ${bytes(p.size.logicalBytes)})\n`).join('')}add --yes to delete\n`);
    return EXIT_USAGE;
  }
  const deleted: DeleteRestorePointResult[] = [];
  for (const point of points) deleted.push(await deleteRestorePoint(location, application, point.id, ownedSnapshots(point)));
  let reclaimed: MaintenanceResult | undefined;
  if (options.reclaim) {
    const repository = await existingRepository(location, application);
    if (repository) reclaimed = await runMaintenance(repository, 'full');
  }
  if (options.format === 'json') {
    io.stdout(`${JSON.stringify({ profile: location.profile.name, application, deleted, ...(reclaimed ? { maintenance: reclaimed } : {}) }, null, 2)}\n`);
  } else {
    for (const d of deleted) {
      io.stdout(`deleted ${application}/${d.id}: ${d.deletedSnapshots.length} snapshot(s)${d.sharedSnapshots.length ? `, ${d.sharedSnapshots.length} kept (named by another restore point)` : ''}\n`);
    }
    io.stdout(reclaimed ? `maintenance: repository ${reclaimed.storedBytesBefore} → ${reclaimed.storedBytesAfter} bytes\n` : `space is given back by the next kopia maintenance ('cairn retention apply', or --reclaim)\n`);
  }
  return EXIT_OK;
}

function table(points: RestorePoint[], label: string): string {
  if (points.length === 0) return `no restore points in ${label}\n`;
  const rows = points.map((p) => [`${p.application}/${p.id}`, p.target, p.blueprint, String(p.snapshots.length), bytes(p.size.logicalBytes), p.endTime, p.scope ?? 'component']);
  const header = ['RESTORE POINT', 'TARGET', 'BLUEPRINT', 'SNAPSHOTS', 'SIZE', 'ENDED', 'SCOPE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`;
  return `${label}\n${line(header)}${rows.map(line).join('')}`;
}

function describe(point: RestorePoint, label: string): string {
  const seconds = (Date.parse(point.endTime) - Date.parse(point.startTime)) / 1000;
  const lines = [
    `restore point ${point.application}/${point.id}   (${label})`,
    `  scope:       ${point.scope ?? 'component'}`,
    `  target:      ${point.target}`,
    `  blueprint:   ${point.blueprint}   action ${point.action}   plan ${point.planHash.slice(0, 12)}`,
    `  run:         ${point.run.workflowId} (${point.run.runId})`,
    `  time:        ${point.startTime} → ${point.endTime} (${Number.isFinite(seconds) ? seconds.toFixed(1) : '?'}s)`,
    `  size:        ${bytes(point.size.logicalBytes)} logical, ${bytes(point.size.storedBytes)} added to the repository`,
    `  repository:  ${point.repository}   (Cairn ${point.cairnVersion})`,
  ];
  if (point.components?.length) {
    lines.push(`  components (${point.components.length}):`);
    for (const c of point.components) lines.push(`    ${c.name}  ${c.target}${c.blueprint ? `  blueprint ${c.blueprint}` : ''}${c.strategy ? ` (${c.strategy})` : ''}  artifacts: ${Object.keys(c.artifacts).join(', ') || '-'}`);
  }
  if (point.resources) {
    const kinds = Object.entries(point.resources.kinds).sort(([a], [b]) => a.localeCompare(b));
    lines.push(`  resources:   ${point.resources.items.length} object(s) in snapshot ${point.resources.snapshotID}`);
    for (const [kind, count] of kinds) lines.push(`    ${kind.padEnd(24)} ${count}`);
  }
  const artifacts = Object.keys(point.artifacts);
  if (artifacts.length) lines.push(`  artifacts:   ${artifacts.join(', ')}`);
  lines.push(`  snapshots (${point.snapshots.length}):`);
  for (const s of point.snapshots) lines.push(`    ${s.id}  ${s.logicalBytes === undefined ? '' : `${bytes(s.logicalBytes)}  `}from ${s.from}${s.source ? `  source ${s.source}` : ''}`);
  if (point.blueprints) lines.push(`  blueprints:  ${Object.keys(point.blueprints).join(', ')}`);
  return `${lines.join('\n')}\n`;
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
