import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Script } from 'node:vm';
import { compileBlueprintText } from '../../src/blueprint/compile.ts';
import type { JsonObject } from '../../src/json.ts';
import { planSteps, type PlanStep } from '../../src/plan/types.ts';
import type { TemplateContext } from '../../src/template/context.ts';
import { renderString, renderValue } from '../../src/template/render.ts';

// blueprints/mongodb.yaml rendered as a run renders it, without a cluster, for both dump formats: every
// template renders, every sh script parses, every mongosh script is valid JavaScript, and the credentials
// reach the scripts only through exported variables (never a --password argument). The mongodump branch
// cannot run here (no mongo-tools on these machines): this is what checks it.
const FILE = join(import.meta.dirname, '../../blueprints/mongodb.yaml');
const TEXT = readFileSync(FILE, 'utf8');
const PASSWORD = `p'a"s$(touch /tmp/x)\`s w\\rd`;
const target = { kind: 'StatefulSet', namespace: 'shop', name: 'catalog' } as const;

function context(step: PlanStep, options: JsonObject, dumpFormat: string, keys = { user: 'MONGO_INITDB_ROOT_USERNAME', password: 'MONGO_INITDB_ROOT_PASSWORD' }): TemplateContext {
  const credentials = { [keys.user]: 'root', [keys.password]: PASSWORD };
  const inspect = { dumpFormat, oplog: dumpFormat === 'mongodump-archive' ? 'true' : 'false' };
  const object: JsonObject = { spec: { replicas: 1 } };
  return {
    Target: { ...target, pods: ['catalog-0'], containers: { 'catalog-0': ['mongodb'] }, pvcs: { 'catalog-0': ['data-catalog-0'] }, object },
    Object: object,
    Namespace: 'shop',
    Phases: { inspect: { Output: inspect, Secrets: {}, ConfigMaps: {} }, [step.id]: { Output: step.id === 'inspect' ? {} : inspect, Secrets: { credentials }, ConfigMaps: {} } },
    ArtifactsIn: { mongoDump: { KeyValue: { snapshotID: '0123456789abcdef0123456789abcdef', ...inspect } } },
    Options: options,
    Time: '2026-11-22T00:00:00Z',
  };
}

describe('blueprints/mongodb.yaml', () => {
  for (const action of ['backup', 'restore', 'delete', 'validate']) {
    it(`${action}: renders for both dump formats, its sh scripts parse and its mongosh scripts are JavaScript`, () => {
      const plan = compileBlueprintText(TEXT, FILE, { action, target });
      for (const [dumpFormat, options] of [
        ['cairn-ejson-v1', {}],
        ['mongodump-archive', { dumpTool: 'mongodump', credentialsSecret: 'other', uri: 'mongodb://db.shop.svc:27017/?tls=true', sampleCollection: 'a.b' }],
      ] as const) {
        for (const step of planSteps(plan)) {
          const command = (renderValue(step.args, context(step, options, dumpFormat)) as { command?: string[] }).command;
          if (!command) continue;
          assert.deepEqual(command.slice(0, 2), ['sh', '-c']);
          const script = command[2]!;
          const parsed = spawnSync('sh', ['-n', '-c', script], { encoding: 'utf8' });
          assert.equal(parsed.status, 0, `${step.id}: ${parsed.stderr}\n${script}`);
          assert.ok(script.includes(`export CAIRN_MONGODB_PASSWORD='p'\\''a"s$(touch /tmp/x)\`s w\\rd'`), `${step.id} quotes the password`);
          assert.doesNotMatch(script, /--password/, `${step.id} keeps the password off argv`);
          // `sh -c script sh <connect> <main> [<drop>]`: mongosh runs "$1$2" (or "$1$3").
          const [connect, ...mains] = command.slice(4);
          for (const main of mains) assert.doesNotThrow(() => new Script(`${connect}${main}`), `${step.id}: mongosh script`);
        }
      }
    });
  }

  it('reads the Secret and keys the options name, and says which key is missing', () => {
    const plan = compileBlueprintText(TEXT, FILE, { action: 'backup', target });
    const dump = planSteps(plan).find((step) => step.id === 'dumpToLocation')!;
    assert.equal(renderString(dump.objects.credentials!.name, context(dump, {}, 'cairn-ejson-v1')), 'catalog-credentials');
    assert.equal(renderString(dump.objects.credentials!.name, context(dump, { credentialsSecret: 'vault' }, 'cairn-ejson-v1')), 'vault');
    const custom = context(dump, { usernameKey: 'USER', passwordKey: 'PASS' }, 'cairn-ejson-v1', { user: 'USER', password: 'PASS' });
    assert.match((renderValue(dump.args, custom) as { command: string[] }).command[2]!, /export CAIRN_MONGODB_USER='root'/);
    assert.throws(() => renderValue(dump.args, context(dump, { passwordKey: 'MONGO_PASSWORD' }, 'cairn-ejson-v1')), /no key "MONGO_PASSWORD"/);
    // The one `password:` is the format of mongodump's private config file, filled from the Secret at run time.
    assert.deepEqual([...TEXT.matchAll(/password:\s*\S+/gi)].map((match) => match[0]), ["password: '%s'\\n\"", "password: '%s'\\n\""]);
  });
});
