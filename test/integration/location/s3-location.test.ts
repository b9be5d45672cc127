import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listSnapshots, openRepository, repositoryBytes } from '../../../activities/kopia/repository.ts';
import { openLocation, openNamedLocation } from '../../../activities/location/location.ts';
import { profileSources, resolveProfile } from '../../../activities/location/profiles.ts';
import { S3Client, signedHeaders } from '../../../activities/location/s3.ts';
import { ensureStack, kubeClients, testNamespace, type KubeClients, type StackInfo, type TestNamespace } from '../../support/stack.ts';
import { freshState, readSnapshot, removeS3Prefix, s3ProfileYaml, snapshotBytes, uniquePrefix, writeProfile } from './location-testing.ts';

// S3 locations against the stack's versitygw and real kopia: one repository per (profile, application) under
// <prefix>/repositories/<application>/, credentials from environment variables or a Kubernetes Secret that
// never reach kopia's argv or its config file, clear errors for refused credentials, and object lock.
let stack: StackInfo;
let clients: KubeClients;
let state: Awaited<ReturnType<typeof freshState>>;
let namespace: TestNamespace;
const prefix = uniquePrefix('s3-location');
const ENV_CREDENTIALS = '{env: {accessKeyId: CAIRN_TEST_S3_KEY, secretAccessKey: CAIRN_TEST_S3_SECRET}}';
const lockBucket = `cairn-lock-${randomBytes(4).toString('hex')}`;

before(async () => {
  stack = await ensureStack();
  clients = kubeClients(stack);
  state = await freshState('s3-location');
  process.env.CAIRN_KOPIA = stack.kopia.binary;
  namespace = await testNamespace('s3-location');
  process.env.CAIRN_TEST_S3_KEY = stack.s3.accessKey;
  process.env.CAIRN_TEST_S3_SECRET = stack.s3.secretKey;
  process.env.CAIRN_TEST_S3_BAD_SECRET = 'not-the-secret-key-at-all';
  await writeProfile(state.profiles, 'lab', s3ProfileYaml('lab', stack, prefix, ENV_CREDENTIALS));
});

after(async () => {
  await removeS3Prefix(stack, stack.s3.testBucket, prefix);
  await rm(join(stack.s3.rootDir, lockBucket), { recursive: true, force: true });
  await namespace?.cleanup();
});

async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('an S3 location', () => {
  it('holds one kopia repository per application under <prefix>/repositories/<application>/ with key.json beside it', async () => {
    const location = await openNamedLocation('lab');
    const shop = await openRepository(location, 'shop');
    const web = await openRepository(location, 'web');
    const data = randomBytes(256 * 1024);
    const id = await snapshotBytes(shop, data);

    const bucket = new S3Client({ endpoint: stack.s3.endpoint, region: stack.s3.region, bucket: stack.s3.testBucket }, { accessKeyId: stack.s3.accessKey, secretAccessKey: stack.s3.secretKey });
    const keys = (await bucket.list(prefix)).map((o) => o.key.slice(prefix.length));
    assert.ok(keys.includes('repositories/shop/key.json') && keys.includes('repositories/web/key.json'), keys.join('\n'));
    assert.ok(keys.includes('repositories/shop/kopia/kopia.repository') && keys.includes('repositories/web/kopia/kopia.repository'));
    assert.ok(keys.every((k) => /^repositories\/(shop|web)\/(key\.json|kopia\/.+)$/.test(k)), 'nothing outside the documented layout');

    assert.deepEqual((await listSnapshots(shop)).map((s) => s.id), [id]);
    assert.deepEqual(await listSnapshots(web), [], 'applications do not share a repository');
    assert.deepEqual((await readSnapshot(shop, id)).bytes, data);
    const stored = (await bucket.list(`${prefix}repositories/shop/kopia/`)).reduce((sum, o) => sum + o.size, 0);
    assert.equal(await repositoryBytes(shop), stored);
    assert.ok(stored > 200 * 1024, `random data is stored, ${stored} bytes`);
  });

  it('keeps the S3 credentials out of kopia argv and off the disk: the config kopia keeps holds none', async () => {
    const location = await openNamedLocation('lab');
    const argv = [...location.kopiaStorage('shop', true), ...location.kopiaStorage('shop', false)].join(' ');
    assert.ok(!argv.includes(stack.s3.secretKey) && !argv.includes(stack.s3.accessKey), argv);
    assert.match(argv, /--endpoint 127\.0\.0\.1:9000 .*--disable-tls/);
    const files = await allFiles(join(state.dir, 'cache'));
    assert.ok(files.some((f) => f.endsWith('repository.config')));
    for (const file of files) {
      const text = await readFile(file, 'latin1');
      assert.ok(!text.includes(stack.s3.secretKey), `${file} holds the secret key`);
    }
    // And kopia still works after a restart of the process, from its environment alone.
    const repository = await openRepository(location, 'shop');
    assert.equal((await listSnapshots(repository)).length, 1);
  });

  it('wrong credentials fail clearly, naming the profile and the endpoint, never the credentials', async () => {
    for (const [name, credentials, code] of [
      ['wrong-secret', '{env: {accessKeyId: CAIRN_TEST_S3_KEY, secretAccessKey: CAIRN_TEST_S3_BAD_SECRET}}', 'SignatureDoesNotMatch'],
      ['wrong-key', '{env: {accessKeyId: CAIRN_TEST_S3_BAD_SECRET, secretAccessKey: CAIRN_TEST_S3_SECRET}}', 'InvalidAccessKeyId|XAdminUserNotFound'],
    ] as const) {
      await writeProfile(state.profiles, name, s3ProfileYaml(name, stack, prefix, credentials));
      const location = await openNamedLocation(name);
      await assert.rejects(openRepository(location, 'shop'), (error: Error) => {
        assert.match(error.message, new RegExp(`^profile "${name}" \\(s3 http://127\\.0\\.0\\.1:9000 bucket cairn-test prefix ${prefix}\\): the S3 service refused the credentials from environment variables`));
        assert.match(error.message, new RegExp(code));
        for (const secret of [stack.s3.secretKey, 'not-the-secret-key-at-all']) assert.ok(!error.message.includes(secret), error.message);
        return true;
      });
    }
  });

  it('names a missing environment variable, and an unreachable endpoint', async () => {
    await writeProfile(state.profiles, 'no-env', s3ProfileYaml('no-env', stack, prefix, '{env: {accessKeyId: CAIRN_TEST_UNSET_KEY, secretAccessKey: CAIRN_TEST_S3_SECRET}}'));
    await assert.rejects(openNamedLocation('no-env'), /profile "no-env": credentials from environment variables CAIRN_TEST_UNSET_KEY, CAIRN_TEST_S3_SECRET: the worker has no environment variable CAIRN_TEST_UNSET_KEY/);
    const closed = s3ProfileYaml('closed', stack, prefix, ENV_CREDENTIALS).replace(stack.s3.endpoint, 'http://127.0.0.1:1');
    await writeProfile(state.profiles, 'closed', closed);
    await assert.rejects(openRepository(await openNamedLocation('closed'), 'shop'), /profile "closed" \(s3 http:\/\/127\.0\.0\.1:1 bucket cairn-test .*\): cannot reach S3 endpoint http:\/\/127\.0\.0\.1:1: ECONNREFUSED/);
  });

  it('reads credentials from a Kubernetes Secret and profiles from a labelled ConfigMap of the worker namespace', async () => {
    const ns = namespace.name;
    await clients.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 's3-creds' }, stringData: { id: stack.s3.accessKey, secret: stack.s3.secretKey } } });
    const yaml = s3ProfileYaml('from-cluster', stack, prefix, `{secretRef: {namespace: ${ns}, name: s3-creds, keys: {accessKeyId: id, secretAccessKey: secret}}}`);
    await clients.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'offsite', labels: { 'cairn.io/profile': 'true' } }, data: { 'profile.yaml': yaml } } });
    // A profile may also live in a labelled Secret (here with its credentials in another Secret).
    await clients.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'vault-profile', labels: { 'cairn.io/profile': 'true' } }, stringData: { 'vault.yaml': s3ProfileYaml('vault', stack, 'vault/', ENV_CREDENTIALS) } } });
    const sources = { ...profileSources(() => clients), namespace: ns };
    const profile = await resolveProfile('from-cluster', sources);
    assert.equal(profile.source, `configmap/${ns}/offsite/profile.yaml:1`);
    assert.equal((await resolveProfile('vault', sources)).source, `secret/${ns}/vault-profile/vault.yaml:1`);
    await assert.rejects(resolveProfile('from-cluster', { ...sources, namespace: 'default' }), /no location profile named "from-cluster" in .* namespace default/);
    const repository = await openRepository(await openLocation(profile, { kube: () => clients }), 'shop');
    assert.equal((await listSnapshots(repository)).length, 1, 'the same repository as through the environment credentials');

    const missingKey = { ...profile, location: { ...profile.location, credentials: { secretRef: { namespace: ns, name: 's3-creds', keys: { accessKeyId: 'id', secretAccessKey: 'aws_secret_access_key' } } } } } as typeof profile;
    await assert.rejects(openLocation(missingKey, { kube: () => clients }), (error: Error) => {
      assert.match(error.message, new RegExp(`profile "from-cluster": credentials from Secret ${ns}/s3-creds .*: the Secret has no key "aws_secret_access_key" \\(it has id, secret\\)`));
      assert.ok(!error.message.includes(stack.s3.secretKey));
      return true;
    });
    const noSecret = { ...profile, location: { ...profile.location, credentials: { secretRef: { namespace: ns, name: 'absent', keys: { accessKeyId: 'id', secretAccessKey: 'secret' } } } } } as typeof profile;
    await assert.rejects(openLocation(noSecret, { kube: () => clients }), new RegExp(`Secret ${ns}/absent .*: cannot read the Secret: HTTP 404`));
  });

  it('passes object lock to kopia: every blob gets the retention, and S3 refuses to delete it', async () => {
    const admin = new S3Client({ endpoint: stack.s3.endpoint, region: stack.s3.region, bucket: lockBucket }, { accessKeyId: stack.s3.accessKey, secretAccessKey: stack.s3.secretKey });
    await admin.createBucket({ objectLock: true });
    await writeProfile(state.profiles, 'locked', s3ProfileYaml('locked', stack, 'locked/', ENV_CREDENTIALS, '  objectLock: {mode: GOVERNANCE, retentionDays: 1}\n', lockBucket));
    const repository = await openRepository(await openNamedLocation('locked'), 'shop');
    await snapshotBytes(repository, randomBytes(64 * 1024));
    const pack = (await admin.list('locked/repositories/shop/kopia/')).find((o) => /\/p[0-9a-f]+/.test(o.key));
    assert.ok(pack, 'kopia wrote a pack blob');
    const path = `/${lockBucket}/${pack.key}`;
    const headers = signedHeaders('GET', new URL(stack.s3.endpoint).host, path, 'retention=', {}, Buffer.alloc(0), stack.s3.region, { accessKeyId: stack.s3.accessKey, secretAccessKey: stack.s3.secretKey });
    const retention = await (await fetch(`${stack.s3.endpoint}${path}?retention=`, { headers })).text();
    assert.match(retention, /<Mode>GOVERNANCE<\/Mode>/);
    const until = new Date(/<RetainUntilDate>([^<]+)</.exec(retention)![1]!).getTime();
    assert.ok(until > Date.now() + 23 * 3600_000, `retained until ${new Date(until).toISOString()}`);
    await assert.rejects(admin.delete(pack.key), /AccessDenied/);
    assert.equal(await admin.exists(pack.key), true);
  });
});
