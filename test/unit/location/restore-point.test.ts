import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { keyFileKey, kopiaDir, restorePointKey } from '../../../src/location/layout.ts';
import { outputSizes, parseRestorePoint, RESTORE_POINT_ID, restorePointId, snapshotReferences, type RestorePoint } from '../../../src/location/restore-point.ts';

const SNAP_A = 'a'.repeat(32);
const SNAP_B = '0123456789abcdef0123456789abcdef';

function point(overrides: Partial<RestorePoint> = {}): RestorePoint {
  return {
    apiVersion: 'cairn.io/v1alpha1',
    kind: 'RestorePoint',
    formatVersion: 1,
    id: restorePointId('2026-11-22T02:40:00.072Z', 'backup-shop-pg', 'run-1'),
    application: 'shop',
    profile: 'default',
    target: 'statefulset/shop/postgres',
    action: 'backup',
    blueprint: 'postgresql',
    planHash: 'f'.repeat(64),
    run: { workflowId: 'backup-shop-pg', runId: 'run-1' },
    startTime: '2026-11-22T02:40:00.072Z',
    endTime: '2026-11-22T02:40:08.528Z',
    repository: kopiaDir('shop'),
    artifacts: { pgDump: { KeyValue: { snapshotID: SNAP_A } } },
    snapshots: [{ id: SNAP_A, from: 'phases.dump.snapshotID', source: 'cairn@shop:/postgres-0/postgres', logicalBytes: 1234 }],
    size: { logicalBytes: 1234, storedBytes: 600 },
    cairnVersion: '0.1.0',
    ...overrides,
  };
}

it('restore-point ids sort by start time as text and are the same for every attempt of one run', () => {
  const early = restorePointId('2026-11-22T02:40:00.072Z', 'w', 'r');
  const late = restorePointId('2026-11-22T10:00:00Z', 'w', 'r');
  assert.match(early, RESTORE_POINT_ID);
  assert.equal(early.slice(0, 20), '20261122T024000.072Z');
  assert.ok(early < late);
  assert.equal(restorePointId('2026-11-22T02:40:00.072Z', 'w', 'r'), early);
  assert.notEqual(restorePointId('2026-11-22T02:40:00.072Z', 'w', 'other-run'), early);
});

it('lays a location out the same on every backend', () => {
  assert.equal(kopiaDir('shop'), 'repositories/shop/kopia/');
  assert.equal(keyFileKey('shop'), 'repositories/shop/key.json');
  assert.equal(restorePointKey('shop', '20261122T024000.072Z-1a2b3c4d'), 'restore-points/shop/20261122T024000.072Z-1a2b3c4d.json');
  assert.throws(() => kopiaDir('../etc'), /invalid application name/);
  assert.throws(() => kopiaDir('Shop'), /invalid application name/);
});

it('finds the kopia snapshots a run named, once each, from outputs and artifacts', () => {
  const references = snapshotReferences(
    { dump: { snapshotID: SNAP_A, logicalBytes: 10 }, files: { backupID: SNAP_B, backupTag: 'x' }, note: { snapshotID: 'not-a-kopia-id' } },
    { pgDump: { KeyValue: { snapshotID: SNAP_A } }, tree: { KeyValue: {}, KopiaSnapshot: SNAP_B } },
  );
  assert.deepEqual(references, [
    { id: SNAP_A, from: 'phases.dump.snapshotID' },
    { id: SNAP_B, from: 'phases.files.backupID' },
  ]);
});

it('sums the sizes functions report', () => {
  assert.deepEqual(outputSizes({ a: { logicalBytes: 100, storedBytes: 40 }, b: { size: '50' }, c: { storedBytes: 'n/a' } }), { logicalBytes: 150, storedBytes: 40 });
});

it('a manifest round-trips through its schema; the schema file is the documented format', () => {
  const text = JSON.stringify(point());
  assert.deepEqual(parseRestorePoint(text, 'x.json'), point());
  const schema = JSON.parse(readFileSync(join(import.meta.dirname, '../../../schemas/restore-point.schema.json'), 'utf8')) as { required: string[] };
  assert.deepEqual([...schema.required].sort(), Object.keys(point()).sort());
});

it('refuses what is not a manifest of this format, naming the file', () => {
  assert.throws(() => parseRestorePoint('{', 'restore-points/shop/x.json'), /restore-points\/shop\/x\.json: not JSON/);
  assert.throws(() => parseRestorePoint(JSON.stringify({ ...point(), formatVersion: 2 }), 'f.json'), /f\.json: not a restore point \(format 1\): \/formatVersion/);
  const { size: _size, ...withoutSize } = point();
  assert.throws(() => parseRestorePoint(JSON.stringify(withoutSize), 'f.json'), /must have required property 'size'/);
  // A manifest never carries resource specs or Secrets: there is no field for them.
  assert.throws(() => parseRestorePoint(JSON.stringify({ ...point(), secrets: { password: 'x' } }), 'f.json'), /must NOT have additional properties/);
});
