import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createRequest } from '../../../src/cli/schedule.ts';
import { scheduleCommand } from '../../../src/cli/schedule.ts';
import { actionArgs, checkCron, parseRetention, parseScheduleDuration, parseTiming, scheduleOptions, ScheduleSpecError } from '../../../src/schedule/spec.ts';
import { scheduleId, type ApplicationScheduleRequest } from '../../../src/schedule/types.ts';

const base: ApplicationScheduleRequest = { application: 'shop', source: { name: 'shop' }, taskQueue: 'cairn', backup: { cron: '0 2 * * *' } };

describe('schedule timing', () => {
  it('reads durations in seconds, minutes, hours and days', () => {
    assert.equal(parseScheduleDuration('10s', '--every'), 10_000);
    assert.equal(parseScheduleDuration('1h30m', '--every'), 5_400_000);
    assert.equal(parseScheduleDuration('7d', '--every'), 604_800_000);
    assert.throws(() => parseScheduleDuration('500ms', '--every'), /--every must be a duration/);
    assert.throws(() => parseScheduleDuration('0s', '--every'), /at least 1s/);
    assert.throws(() => parseScheduleDuration('soon', '--catchup-window'), /--catchup-window must be a duration like/);
  });

  it('takes words, durations and cron expressions for --drill and --verify', () => {
    assert.deepEqual(parseTiming('weekly', '--drill'), { cron: '@weekly' });
    assert.deepEqual(parseTiming('6h', '--drill'), { every: '6h' });
    assert.deepEqual(parseTiming('every 30s', '--verify'), { every: '30s' });
    assert.deepEqual(parseTiming('0 3 * * SUN', '--drill'), { cron: '0 3 * * SUN' });
  });

  it('refuses what is not a cron expression, naming the flag', () => {
    assert.throws(() => checkCron('0 2 * *', '--cron'), (error: Error) => error instanceof ScheduleSpecError && /--cron must be a cron expression of 5 fields/.test(error.message));
    assert.throws(() => parseTiming('every tuesday', '--drill'), /--drill must be a cron expression/);
    assert.equal(checkCron(' @daily ', '--cron'), '@daily');
  });
});

describe('retention', () => {
  it('reads keep-last and GFS counts', () => {
    assert.deepEqual(parseRetention('last=7,daily=7,weekly=4,monthly=12,yearly=2,hourly=24'), { keepLast: 7, daily: 7, weekly: 4, monthly: 12, yearly: 2, hourly: 24 });
  });
  it('refuses unknown buckets, zero and empty policies', () => {
    assert.throws(() => parseRetention('fortnightly=2'), /--retention takes last=N/);
    assert.throws(() => parseRetention('last=0'), /at least 1/);
    assert.throws(() => parseRetention(','), /at least one count/);
  });
});

describe('schedule options', () => {
  it('makes one schedule per kind, ids cairn-<app>-<kind>, workflow ids prefixed the same', () => {
    const options = scheduleOptions({ ...base, drill: { cron: '@weekly' }, retire: { timing: { cron: '0 2 * * *' }, retention: { keepLast: 7 } }, verify: { every: '1d' } });
    assert.deepEqual(options.map((o) => o.scheduleId), ['cairn-shop-backup', 'cairn-shop-drill', 'cairn-shop-retire', 'cairn-shop-verify']);
    assert.deepEqual(options.map((o) => o.action.workflowType), ['backupApplication', 'drillApplication', 'retireRestorePoints', 'verifyRepository']);
    assert.deepEqual(options.map((o) => o.action.workflowId), options.map((o) => o.scheduleId));
    assert.ok(options.every((o) => o.action.taskQueue === 'cairn'));
    assert.deepEqual(options[0]!.spec, { cronExpressions: ['0 2 * * *'] });
    assert.deepEqual(options[3]!.spec, { intervals: [{ every: 86_400_000 }] });
    assert.deepEqual(options[1]!.memo, { cairn: { application: 'shop', kind: 'drill', timing: '@weekly' } });
  });

  it('defaults to overlap SKIP and a one-hour catch-up window; buffer-one and a time zone when asked', () => {
    const [plain] = scheduleOptions(base);
    assert.deepEqual(plain!.policies, { overlap: 'SKIP', catchupWindow: 3_600_000, pauseOnFailure: false });
    assert.deepEqual(plain!.state, { paused: false });
    const [tuned] = scheduleOptions({ ...base, overlap: 'buffer-one', catchupWindow: '15m', timezone: 'Europe/Paris', paused: true });
    assert.equal(tuned!.policies!.overlap, 'BUFFER_ONE');
    assert.equal(tuned!.policies!.catchupWindow, 900_000);
    assert.deepEqual(tuned!.spec, { cronExpressions: ['0 2 * * *'], timezone: 'Europe/Paris' });
    assert.equal(tuned!.state!.paused, true);
  });

  it('gives each workflow its input: the source for backups, the name for the others', () => {
    const request: ApplicationScheduleRequest = {
      ...base,
      source: { inline: 'kind: Application', file: 'shop.yaml' },
      profile: 'offsite',
      requestedBy: { serviceAccount: 'cairn/scheduler' },
      retire: { timing: base.backup, retention: { keepLast: 3 } },
    };
    const who = { profile: 'offsite', requestedBy: { serviceAccount: 'cairn/scheduler' } };
    assert.deepEqual(actionArgs(request, 'backup'), [{ application: { inline: 'kind: Application', file: 'shop.yaml' }, ...who }]);
    assert.deepEqual(actionArgs(request, 'drill'), [{ application: 'shop', ...who }]);
    assert.deepEqual(actionArgs(request, 'retire'), [{ application: 'shop', policy: { keepLast: 3 }, ...who }]);
    assert.deepEqual(actionArgs(request, 'verify'), [{ application: 'shop', ...who }]);
    assert.equal(scheduleId('shop', 'verify'), 'cairn-shop-verify');
  });
});

describe('cairn schedule create flags', () => {
  it('builds a request from a name', async () => {
    const request = await createRequest('shop', { every: '10s', drill: 'weekly', retention: 'last=5', verify: 'daily', overlap: 'buffer-one', 'service-account': 'cairn/sched' }, 'q');
    assert.deepEqual(request, {
      application: 'shop',
      source: { name: 'shop' },
      taskQueue: 'q',
      backup: { every: '10s' },
      drill: { cron: '@weekly' },
      retire: { timing: { every: '10s' }, retention: { keepLast: 5 } },
      verify: { cron: '@daily' },
      overlap: 'buffer-one',
      requestedBy: { serviceAccount: 'cairn/sched' },
    });
  });

  it('sends a spec file inline and names the schedules after its metadata.name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cairn-schedule-'));
    const file = join(dir, 'app.yaml');
    const text = 'apiVersion: cairn.io/v1alpha1\nkind: Application\nmetadata: {name: shop}\nspec:\n  namespace: shop\n  components: [{name: api, workload: {kind: Deployment, name: api}}]\n';
    await writeFile(file, text);
    const request = await createRequest(file, { cron: '0 2 * * *' }, 'cairn');
    assert.equal(request.application, 'shop');
    assert.deepEqual(request.source, { inline: text, file: 'app.yaml' });
  });

  it('checks a spec file before any schedule exists, naming file and line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cairn-schedule-'));
    const file = join(dir, 'broken.yaml');
    await writeFile(file, 'apiVersion: cairn.io/v1alpha1\nkind: Application\nmetadata: {name: shop}\nspec: {namespace: shop, components: []}\n');
    let stderr = '';
    const code = await scheduleCommand(['create', file, '--every', '1h', '--address', '127.0.0.1:1'], { stdout: () => undefined, stderr: (t) => void (stderr += t) });
    assert.equal(code, 1);
    assert.match(stderr, /broken\.yaml:4:\d+: error: spec\.components: must NOT have fewer than 1 items/);
  });

  it('refuses contradictory or missing timing with exit 2', async () => {
    const out: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void out.push(t) };
    assert.equal(await scheduleCommand(['create', 'shop'], io), 2);
    assert.match(out.join(''), /--cron <expr> or --every <duration>/);
    assert.equal(await scheduleCommand(['create', 'shop', '--cron', '0 2 * * *', '--every', '1h'], io), 2);
    assert.equal(await scheduleCommand(['create', 'shop', '--cron', '10s'], io), 2);
    assert.match(out.join(''), /use --every 10s/);
    assert.equal(await scheduleCommand(['create', 'shop', '--every', '1h', '--overlap', 'sometimes'], io), 2);
    assert.equal(await scheduleCommand(['create', 'Shop!', '--every', '1h'], io), 2);
    assert.equal(await scheduleCommand(['pause', 'shop', '--kind', 'nightly'], io), 2);
    assert.equal(await scheduleCommand(['frobnicate'], io), 2);
    assert.equal(await scheduleCommand(['create', 'missing.yaml', '--every', '1h'], io), 2);
    assert.match(out.join(''), /no such file: missing.yaml/);
  });

  it('prints help with exit 0', async () => {
    let text = '';
    assert.equal(await scheduleCommand(['--help'], { stdout: (t) => void (text += t), stderr: () => undefined }), 0);
    assert.match(text, /cairn schedule create <app\|file>/);
    assert.match(text, /--overlap <policy>/);
  });
});
