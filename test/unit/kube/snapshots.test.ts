import assert from 'node:assert/strict';
import { it } from 'node:test';
import { groupLabelValue, memberSnapshotName, selectionLabel } from '../../../activities/kube/group-snapshots.ts';
import { isTransientSnapshotError, quantityBytes } from '../../../activities/kube/snapshots.ts';

it('reads storage quantities in bytes, binary and decimal, and rejects what is not one', () => {
  assert.equal(quantityBytes('1Gi'), 2 ** 30);
  assert.equal(quantityBytes('500Mi'), 500 * 2 ** 20);
  assert.equal(quantityBytes('2G'), 2e9);
  assert.equal(quantityBytes('1.5Gi'), 1.5 * 2 ** 30);
  assert.equal(quantityBytes('1073741824'), 2 ** 30);
  assert.ok(quantityBytes('500Mi')! < quantityBytes('1Gi')!);
  for (const bad of ['', 'big', '1 Gi', '1gi', '-1Gi', '1Gib']) assert.equal(quantityBytes(bad), undefined, bad);
});

it('tells the snapshot controller’s passing errors from lasting ones', () => {
  assert.ok(isTransientSnapshotError('Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version'));
  assert.ok(isTransientSnapshotError('VolumeSnapshotContent is missing'));
  assert.ok(!isTransientSnapshotError('failed to take snapshot of the volume pvc-1: "rpc error: code = NotFound desc = source volume pvc-1 does not exist"'));
});

it('names group members and labels within Kubernetes limits, stably', () => {
  assert.equal(memberSnapshotName('cairn-0123456789-group', 'data-0'), 'cairn-0123456789-group-data-0');
  const long = memberSnapshotName('g'.repeat(200), 'p'.repeat(200));
  assert.ok(long.length <= 253);
  assert.equal(long, memberSnapshotName('g'.repeat(200), 'p'.repeat(200)));
  assert.notEqual(long, memberSnapshotName('g'.repeat(200), `${'p'.repeat(199)}q`));
  assert.equal(groupLabelValue('cairn-0123456789-group'), 'cairn-0123456789-group');
  assert.match(groupLabelValue('x'.repeat(64)), /^h-[0-9a-f]{40}$/);
  assert.match(selectionLabel('ns', 'g'), /^cairn\.io\/snapshot-group-[0-9a-f]{12}$/);
  assert.notEqual(selectionLabel('ns', 'g1'), selectionLabel('ns', 'g2'));
});
