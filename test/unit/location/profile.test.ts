import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { loadProfiles, resolveProfile, type ProfileSources } from '../../../activities/location/profiles.ts';
import { CairnError, formatDiagnostic } from '../../../src/diagnostics.ts';
import { describeLocation, parseProfileText, profileContext } from '../../../src/location/profile.ts';

const S3 = `apiVersion: cairn.io/v1alpha1
kind: Profile
metadata: {name: offsite}
location:
  type: s3
  endpoint: http://127.0.0.1:9000/
  bucket: cairn-test
  prefix: /prod/eu/
  credentials:
    secretRef: {namespace: cairn, name: offsite-s3}
  objectLock: {mode: GOVERNANCE, retentionDays: 30}
`;

it('parses an S3 profile and fills in the defaults (region, Secret keys, prefix with one trailing slash)', () => {
  const { profiles, diagnostics } = parseProfileText(S3, 'offsite.yaml');
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(profiles, [{
    name: 'offsite',
    source: 'offsite.yaml:1',
    location: {
      type: 's3', endpoint: 'http://127.0.0.1:9000', bucket: 'cairn-test', prefix: 'prod/eu/', region: 'us-east-1', skipTLSVerify: false,
      credentials: { secretRef: { namespace: 'cairn', name: 'offsite-s3', keys: { accessKeyId: 'aws_access_key_id', secretAccessKey: 'aws_secret_access_key' } } },
      objectLock: { mode: 'GOVERNANCE', retentionDays: 30 },
    },
  }]);
});

it('gives templates the location only: no credential source, no object-lock settings', () => {
  const [profile] = parseProfileText(S3, 'offsite.yaml').profiles;
  const context = profileContext(profile!);
  assert.deepEqual(context, { name: 'offsite', location: { type: 's3', bucket: 'cairn-test', prefix: 'prod/eu/', endpoint: 'http://127.0.0.1:9000', region: 'us-east-1' } });
  assert.ok(!JSON.stringify(context).includes('offsite-s3'));
  assert.equal(describeLocation(profile!.location), 's3 http://127.0.0.1:9000 bucket cairn-test prefix prod/eu/');
});

it('parses several profiles of one file, filesystem ones too', () => {
  const text = `apiVersion: cairn.io/v1alpha1
kind: Profile
metadata: {name: local}
location: {type: filesystem, path: /backups/}
---
apiVersion: cairn.io/v1alpha1
kind: Profile
metadata: {name: lab}
location:
  type: s3
  bucket: lab-backups
  region: eu-west-1
  credentials: {env: {accessKeyId: LAB_KEY, secretAccessKey: LAB_SECRET}}
`;
  const { profiles, diagnostics } = parseProfileText(text, 'p.yaml');
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(profiles.map((p) => [p.name, p.source, describeLocation(p.location)]), [
    ['local', 'p.yaml:1', 'filesystem /backups'],
    ['lab', 'p.yaml:6', 's3 https://s3.amazonaws.com bucket lab-backups'],
  ]);
});

it('reports every problem with file, line and path, and keeps the valid profiles', () => {
  const text = `apiVersion: cairn.io/v1alpha1
kind: Profile
metadata: {name: broken}
location:
  type: s3
  endpoint: ftp://example.com
  bucket: Cairn_Backups
  credentials:
    secretRef: {namespace: cairn, name: s3}
    env: {accessKeyId: A, secretAccessKey: B}
  objectLock: {mode: FOREVER, retentionDays: 0}
  regoin: eu-west-1
---
apiVersion: cairn.io/v1alpha1
kind: Profile
metadata: {name: relative}
location: {type: filesystem, path: backups}
`;
  const { profiles, diagnostics } = parseProfileText(text, 'bad.yaml');
  assert.deepEqual(profiles, []);
  const lines = diagnostics.map(formatDiagnostic);
  const expect = (pattern: RegExp) => assert.ok(lines.some((l) => pattern.test(l)), `${pattern} in\n${lines.join('\n')}`);
  expect(/^bad\.yaml:6:13: error: location\.endpoint: "ftp:\/\/example\.com" does not match/);
  expect(/^bad\.yaml:7:11: error: location\.bucket: "Cairn_Backups" does not match/);
  expect(/^bad\.yaml:9:\d+: error: location\.credentials: must NOT have more than 1 properties/);
  expect(/^bad\.yaml:11:\d+: error: location\.objectLock\.mode: must be one of "GOVERNANCE", "COMPLIANCE", got "FOREVER"/);
  expect(/^bad\.yaml:11:\d+: error: location\.objectLock\.retentionDays: .*>= 1/);
  expect(/^bad\.yaml:12:\d+: error: location\.regoin: unknown field "regoin" in the profile \(did you mean "region"\?\)/);
  expect(/^bad\.yaml:17:\d+: error: location\.path: "backups" does not match/);
});

it('rejects YAML that is not a profile through the one YAML loader (duplicate keys, wrong kind)', () => {
  const duplicate = parseProfileText('apiVersion: cairn.io/v1alpha1\nkind: Profile\nkind: Profile\n', 'dup.yaml');
  assert.equal(duplicate.diagnostics[0]?.code, 'duplicate-key');
  assert.equal(duplicate.diagnostics[0]?.line, 3);
  const blueprint = parseProfileText('apiVersion: cairn.io/v1alpha1\nkind: Blueprint\nmetadata: {name: x}\nactions: {}\n', 'bp.yaml');
  assert.ok(blueprint.diagnostics.some((d) => d.path === 'kind' && /must be "Profile"/.test(d.message)));
});

async function sources(files: Record<string, string>): Promise<ProfileSources> {
  const directory = await mkdtemp(join(tmpdir(), 'cairn-profiles-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(directory, name), text);
  return { directory, defaultPath: '/var/lib/cairn/location' };
}

it('resolves the embedded default when no profile is named, and a file named profile by name', async () => {
  const found = await sources({ 'offsite.yaml': S3, 'notes.txt': 'not a profile' });
  assert.deepEqual((await resolveProfile(undefined, found)).location, { type: 'filesystem', path: '/var/lib/cairn/location' });
  assert.equal((await resolveProfile('offsite', found)).source, join(found.directory, 'offsite.yaml:1'));
});

it('a profile file named default replaces the embedded location', async () => {
  const found = await sources({ 'default.yaml': 'apiVersion: cairn.io/v1alpha1\nkind: Profile\nmetadata: {name: default}\nlocation: {type: filesystem, path: /srv/backups}\n' });
  assert.deepEqual((await resolveProfile(undefined, found)).location, { type: 'filesystem', path: '/srv/backups' });
});

it('an unknown profile is an error naming where it looked, a suggestion, and the broken files', async () => {
  const found = await sources({ 'offsite.yaml': S3, 'broken.yaml': 'apiVersion: cairn.io/v1alpha1\nkind: Profile\nmetadata: {name: onsite}\nlocation: {type: tape}\n' });
  await assert.rejects(resolveProfile('ofsite', found), (error: CairnError) => {
    const text = error.diagnostics.map(formatDiagnostic).join('\n');
    assert.match(text, new RegExp(`no location profile named "ofsite" in ${found.directory} \\(did you mean "offsite"\\?\\) \\[unknown-profile\\]`));
    assert.match(text, /broken\.yaml:4:\d+: error: location\.type: must be one of "filesystem", "s3", got "tape"/);
    return true;
  });
});

it('a profile defined twice is refused where it is used, naming both places', async () => {
  const found = await sources({ 'a.yaml': S3, 'b.yaml': S3 });
  const loaded = await loadProfiles(found);
  assert.equal(loaded.diagnostics.filter((d) => d.code === 'duplicate-profile').length, 1);
  await assert.rejects(resolveProfile('offsite', found), /profile "offsite" is defined twice: here and at .*a\.yaml:1/);
});
