/**
 * Restore points for the retention tests, made with the building blocks a backup uses: a pinned, tagged
 * kopia snapshot written through Cairn's stream writer (what BackupStream does), then the restore-point
 * manifest built and written by the same code as a run's last activity. Run times are chosen by the test so
 * that series span days.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readKekFile } from '../../../activities/location/envelope.ts';
import { buildRestorePoint, writeRestorePoint } from '../../../activities/location/restore-points.ts';
import { openNamedLocation, type OpenedLocation } from '../../../activities/location/location.ts';
import { openRepository, type Repository } from '../../../activities/kopia/repository.ts';
import { artifactSource, openSnapshotWriter } from '../../../activities/kopia/snapshots.ts';
import type { ApplicationSpec } from '../../../src/application/types.ts';
import type { RestorePoint } from '../../../src/location/restore-point.ts';
import { ensureStack, type StackInfo } from '../../support/stack.ts';
import { freshState, writeProfile } from '../location/location-testing.ts';

export interface LocalLocation {
  stack: StackInfo;
  /** The location's root directory (profile `local`, filesystem). */
  root: string;
  location: OpenedLocation;
  /** The application's repository in it, opened with this state's KEK. */
  repository: Repository;
}

/** A fresh state (KEK, profiles) whose profile `local` is a filesystem location, and `application`'s repository in it. */
export async function localLocation(state: string, application: string): Promise<LocalLocation> {
  const stack = await ensureStack();
  process.env.CAIRN_KOPIA = stack.kopia.binary;
  const { dir, profiles, kekFile } = await freshState(state);
  const root = join(dir, 'location');
  await writeProfile(profiles, 'local', `apiVersion: cairn.io/v1alpha1\nkind: Profile\nmetadata: {name: local}\nlocation: {type: filesystem, path: ${root}}\n`);
  const location = await openNamedLocation('local');
  return { stack, root, location, repository: await openRepository(location, application, { kek: await readKekFile(kekFile) }) };
}

/** A complete snapshot of `bytes` as the one file `stream`, pinned and tagged like BackupStream's. */
export async function streamSnapshot(repository: Repository, bytes: Buffer, phaseTag: string, path = 'db/dump'): Promise<string> {
  const writer = openSnapshotWriter(repository, { file: 'stream', source: artifactSource('shop', path), tags: { 'cairn-phase': phaseTag } });
  writer.input.write(bytes);
  return writer.commit();
}

/** A component restore point of blueprint `stream-db` on `namespace/shop` whose one artifact is `snapshotID`. */
export async function componentPoint(location: OpenedLocation, application: string, runTime: string, snapshotID: string, run: string): Promise<RestorePoint> {
  const point = await buildRestorePoint(
    location,
    {
      workflowId: `retention-test-${run}`,
      runId: run,
      runTime,
      target: 'namespace/shop',
      application,
      action: 'backup',
      blueprint: 'stream-db',
      planHash: 'test',
      phaseOutputs: { dump: { snapshotID, logicalBytes: 0 } },
      outputArtifacts: { dump: { KeyValue: { snapshotID } } },
    },
    application,
  );
  await writeRestorePoint(location, point);
  return point;
}

/** An Application restore point: one component's snapshot and the resources bundle, both listed in `snapshots`. */
export async function applicationPoint(location: OpenedLocation, application: string, runTime: string, componentSnapshot: string, resourcesSnapshot: string, run: string, spec?: ApplicationSpec): Promise<RestorePoint> {
  const base = await buildRestorePoint(
    location,
    {
      workflowId: `retention-app-${run}`,
      runId: run,
      runTime,
      target: 'namespace/shop',
      application,
      action: 'backup',
      blueprint: 'application',
      planHash: 'test',
      phaseOutputs: {},
      outputArtifacts: {},
    },
    application,
  );
  const point: RestorePoint = {
    ...base,
    scope: 'application',
    ...(spec ? { spec } : {}),
    components: [{ name: 'db', target: 'statefulset/shop/db', blueprint: 'stream-db', artifacts: { dump: { KeyValue: { snapshotID: componentSnapshot } } } }],
    resources: { snapshotID: resourcesSnapshot, items: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'settings', namespace: 'shop' }], kinds: { ConfigMap: 1 } },
    snapshots: [
      { id: componentSnapshot, from: 'components.db.artifacts.dump' },
      { id: resourcesSnapshot, from: 'resources' },
    ],
  };
  await writeRestorePoint(location, point);
  return point;
}

/** Bytes on disk under a directory (what the location stores for a repository). */
export async function directoryBytes(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** Pack files (`p…`) of a filesystem kopia repository, as paths. */
export async function packFiles(kopiaDirectory: string): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(join(kopiaDirectory, 'p'), { withFileTypes: true, recursive: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.isFile()) found.push(join(entry.parentPath, entry.name));
  }
  return found.sort();
}
