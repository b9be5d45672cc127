import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { auditLog, runAuditAction, type AuditLine } from '../../../src/audit/audit-log.ts';
import { describeRequester, subjectOf } from '../../../src/authz/identity.ts';
import { roleGranting, verbFor } from '../../../src/authz/verbs.ts';

it('writes one JSON line per record with kind, version, time and source, appended to a file readable by its group at most', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'cairn-audit-')), 'audit.jsonl');
  const log = auditLog(file, 'cli', () => new Date('2026-11-22T03:00:00.000Z'));
  log.record({ who: { user: 'alice', groups: ['team-a'] }, action: 'run.cancel', what: { workflowId: 'backup-shop-1' }, where: { temporalNamespace: 'default' }, outcome: 'requested' });
  log.record({ who: {}, action: 'run.cancel', what: { workflowId: 'nope' }, where: {}, outcome: 'failed', reason: 'workflow not found' });
  const lines = readFileSync(file, 'utf8').split('\n');
  assert.equal(lines.at(-1), '', 'each record ends with a newline');
  const [first, second] = lines.slice(0, 2).map((line) => JSON.parse(line) as AuditLine);
  assert.deepEqual(first, { kind: 'cairn.audit', version: 1, time: '2026-11-22T03:00:00.000Z', source: 'cli', who: { user: 'alice', groups: ['team-a'] }, action: 'run.cancel', what: { workflowId: 'backup-shop-1' }, where: { temporalNamespace: 'default' }, outcome: 'requested' });
  assert.equal(second?.reason, 'workflow not found');
  assert.equal(statSync(file).mode & 0o007, 0, 'not world-readable');
});

it('off, empty or undefined destinations write nothing', () => {
  for (const destination of [undefined, '', 'off']) assert.doesNotThrow(() => auditLog(destination, 'worker').record({ who: {}, action: 'run.start', what: {}, where: {}, outcome: 'allowed' }));
});

it('restores and deletes of restore points are their own audit actions', () => {
  assert.equal(runAuditAction('backup'), 'run.start');
  assert.equal(runAuditAction('restore'), 'restore');
  assert.equal(runAuditAction('delete'), 'restore-point.delete');
  assert.equal(runAuditAction('custom'), 'run.start');
});

it('a ServiceAccount requester is checked as the ServiceAccount user with its groups; a malformed one as nobody', () => {
  assert.deepEqual(subjectOf({ serviceAccount: 'shop/ui' }), { user: 'system:serviceaccount:shop:ui', groups: ['system:serviceaccounts', 'system:serviceaccounts:shop', 'system:authenticated'] });
  assert.deepEqual(subjectOf({ user: 'alice', groups: ['team-a'] }), { user: 'alice', groups: ['team-a'] });
  assert.equal(subjectOf({ serviceAccount: 'shop' }), undefined);
  assert.equal(subjectOf({ serviceAccount: 'a/b/c' }), undefined);
  assert.equal(subjectOf({}), undefined);
  assert.equal(describeRequester({ serviceAccount: 'shop/ui' }), 'serviceaccount shop/ui');
  assert.equal(describeRequester({ user: 'alice' }), 'user "alice"');
});

it("an action's verb is its name; the shipped roles name who grants backup, delete and restore", () => {
  assert.equal(verbFor('backup'), 'backup');
  assert.equal(roleGranting('backup'), 'cairn-backup-operator');
  assert.equal(roleGranting('delete'), 'cairn-backup-operator');
  assert.equal(roleGranting('restore'), 'cairn-restore-operator');
  assert.equal(roleGranting('inspect'), undefined);
});
