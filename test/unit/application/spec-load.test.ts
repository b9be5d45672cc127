import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { createLoadApplication } from '../../../activities/application/load-application.ts';
import { createActivities } from '../../../activities/index.ts';
import { parseApplication } from '../../../src/application/spec.ts';

const ROOT = join(import.meta.dirname, '../../..');
let dir: string;
let shop: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-apps-'));
  shop = await readFile(join(ROOT, 'examples/applications/shop.yaml'), 'utf8');
  // Found by its metadata.name although the file is named otherwise; a second copy for another namespace.
  await writeFile(join(dir, 'storefront.yaml'), shop);
  await writeFile(join(dir, 'shop-staging.yaml'), shop.replace('namespace: shop', 'namespace: staging'));
  await writeFile(join(dir, 'broken.yaml'), 'apiVersion: cairn.io/v1alpha1\nkind: Application\nmetadata: { name: broken }\nspec:\n  namespace: x\n  components:\n    - { name: a, workload: { kind: Job, name: a } }\n');
  await writeFile(join(dir, 'notes.txt'), 'not yaml: [');
  // An Application next to the blueprint it uses, in one file.
  const blueprint = await readFile(join(ROOT, 'test/fixtures/blueprints/scoped-release.yaml'), 'utf8');
  await writeFile(join(dir, 'bundle.yaml'), `${blueprint}\n---\n${shop.replace('name: shop\n', 'name: bundled\n')}`);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function rejectsWith(promise: Promise<unknown>, pattern: RegExp) {
  return assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.nonRetryable, true);
    assert.equal(error.type, 'InvalidApplication');
    assert.match(error.message, pattern);
    return true;
  });
}

describe('loadApplication (without a cluster)', () => {
  it('returns a parsed spec given inline, and the same given as a spec', async () => {
    const load = createLoadApplication({});
    const inline = await load({ source: { inline: shop, file: 'shop.yaml' } });
    assert.deepEqual(inline, parseApplication(shop, 'shop.yaml'));
    assert.deepEqual(await load({ source: { spec: inline } }), inline);
  });

  it('finds an Application by name in the application directories, narrowed by namespace', async () => {
    const load = createLoadApplication({ applicationDirs: [join(dir, 'missing'), dir] });
    const staging = await load({ source: { name: 'shop', namespace: 'staging' } });
    assert.equal(staging.spec.namespace, 'staging');
    assert.equal((await load({ source: { name: 'shop', namespace: 'shop' } })).spec.namespace, 'shop');
  });

  it("is among the worker's activities, searching the worker's application directories", async () => {
    const activities = createActivities({ kube: () => assert.fail('no cluster needed'), blueprintDirs: [], applicationDirs: [dir] });
    assert.equal((await activities.loadApplication({ source: { name: 'shop', namespace: 'staging' } })).spec.namespace, 'staging');
  });

  it('reads the Application of a file that holds other documents too, and refuses a file without one', async () => {
    const load = createLoadApplication({ applicationDirs: [dir] });
    assert.equal((await load({ source: { name: 'bundled' } })).metadata.name, 'bundled');
    await rejectsWith(load({ source: { inline: 'apiVersion: cairn.io/v1alpha1\nkind: Blueprint\nmetadata: { name: x }\n', file: 'bp.yaml' } }), /bp\.yaml:2:7: error: kind: expected kind: Application, found kind "Blueprint"/);
  });

  it('fails for good, with file:line:column, when the spec is invalid', async () => {
    const load = createLoadApplication({ applicationDirs: [dir] });
    await rejectsWith(load({ source: { name: 'broken' } }), /broken\.yaml:7:36: error: spec\.components\[0\]\.workload\.kind: must be one of "StatefulSet", "Deployment", got "Job"/);
    await rejectsWith(load({ source: { inline: shop.replace('dependsOn: [postgres]', 'dependsOn: [postgress]'), file: 'x.yaml' } }), /x\.yaml:\d+:\d+: .*"postgress".*did you mean "postgres"/);
  });

  it('says where it looked when no Application has the name', async () => {
    const load = createLoadApplication({ applicationDirs: [dir] });
    await rejectsWith(load({ source: { name: 'nothing' } }), new RegExp(`no Application named "nothing" in ${dir}.*no cluster to search for ConfigMaps`));
    await rejectsWith(load({ source: { name: 'shop', namespace: 'prod' } }), /no Application named "shop" for namespace prod/);
  });
});
