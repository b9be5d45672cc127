import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { compileBlueprintText } from '../../src/blueprint/compile.ts';
import type { JsonObject, JsonValue } from '../../src/json.ts';
import { planSteps, type PlanStep } from '../../src/plan/types.ts';
import type { TemplateContext } from '../../src/template/context.ts';
import { renderString, renderValue } from '../../src/template/render.ts';

// The shipped database blueprints, rendered as a run would render them (with a password full of shell
// metacharacters and every phase output they read), without a cluster: each action has the four actions a
// DR drill needs, every template renders, the credentials Secret follows the options, and every shell script
// parses, so a quoting mistake shows here and not half-way through a restore.
const ROOT = join(import.meta.dirname, '../..');
const PASSWORD = `p'a"s$(touch /tmp/x)\`s w\\rd`;
const BLUEPRINTS = {
  mysql: { passwordKey: 'MYSQL_ROOT_PASSWORD', artifact: 'mysqlDump' },
  redis: { passwordKey: 'REDIS_PASSWORD', artifact: 'redisRdb' },
  etcd: { passwordKey: 'ETCD_ROOT_PASSWORD', artifact: 'etcdSnapshot' },
} as const;
const target = { kind: 'StatefulSet', namespace: 'shop', name: 'db' } as const;

function context(step: PlanStep, options: JsonObject, secretKey: string): TemplateContext {
  const phases: TemplateContext['Phases'] = {};
  // Every output the step's templates read, with a value that needs quoting.
  for (const match of JSON.stringify(step.args).matchAll(/Phases\.(\w+)\.Output\.(\w+)/g)) {
    const outputs = (phases[match[1]!] ??= { Output: {}, Secrets: {}, ConfigMaps: {} }).Output;
    outputs[match[2]!] = match[2] === 'appendonly' ? 'yes' : `value of ${match[2]} with 'quotes'`;
  }
  const own = (phases[step.id] ??= { Output: {}, Secrets: {}, ConfigMaps: {} });
  for (const name of Object.keys(step.objects)) own.Secrets[name] = { [secretKey]: PASSWORD };
  const object: JsonObject = { spec: { replicas: 1 } };
  return {
    Target: { ...target, pods: ['db-0'], containers: { 'db-0': ['db'] }, pvcs: { 'db-0': ['data-db-0'] }, object },
    Object: object,
    Namespace: 'shop',
    Phases: phases,
    ArtifactsIn: Object.fromEntries(Object.values(BLUEPRINTS).map((b) => [b.artifact, { KeyValue: { snapshotID: '0123456789abcdef0123456789abcdef' } }])),
    Options: options,
    Time: '2026-11-22T00:00:00Z',
  };
}

function commandOf(args: JsonValue): string[] | undefined {
  const command = (args as { command?: unknown }).command;
  return Array.isArray(command) ? command.map(String) : undefined;
}

for (const [name, { passwordKey }] of Object.entries(BLUEPRINTS)) {
  const file = join(ROOT, 'blueprints', `${name}.yaml`);
  const text = readFileSync(file, 'utf8');

  describe(`blueprints/${name}.yaml`, () => {
    for (const action of ['backup', 'restore', 'delete', 'validate']) {
      it(`${action}: every template renders and every shell script parses`, () => {
        const plan = compileBlueprintText(text, file, { action, target });
        const optionSets: JsonObject[] = [{}, { credentialsSecret: 'other', passwordKey: 'PW', sampleTable: 'a.b', samplePattern: 'k:*', samplePrefix: 'p/' }];
        for (const options of optionSets) {
          const secretKey = 'passwordKey' in options ? 'PW' : passwordKey;
          for (const step of planSteps(plan)) {
            const rendered = renderValue(step.args, context(step, options, secretKey));
            const command = commandOf(rendered);
            if (command?.[0] === 'sh' && command[1] === '-c') {
              const parsed = spawnSync('sh', ['-n', '-c', command[2]!], { encoding: 'utf8' });
              assert.equal(parsed.status, 0, `${step.id}: ${parsed.stderr}\n${command[2]}`);
              if (Object.keys(step.objects).length > 0) assert.ok(command[2]!.includes(`'p'\\''a"s$(touch /tmp/x)\`s w\\rd'`), `${step.id} quotes the password`);
            }
          }
        }
      });
    }

    it('reads credentials from <target>-credentials, or the Secret options.credentialsSecret names', () => {
      const plan = compileBlueprintText(text, file, { action: 'backup', target });
      const withSecrets = planSteps(plan).filter((step) => step.objects.credentials);
      assert.ok(withSecrets.length > 0);
      for (const step of withSecrets) {
        const reference = step.objects.credentials!;
        assert.equal(renderString(reference.name, context(step, {}, passwordKey)), 'db-credentials');
        assert.equal(renderString(reference.name, context(step, { credentialsSecret: 'vault-synced' }, passwordKey)), 'vault-synced');
      }
      assert.doesNotMatch(text, /password:\s*\S/i, 'no password in the blueprint itself');
    });
  });
}
