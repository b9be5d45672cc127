import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readBlueprintCatalog, SHIPPED_BLUEPRINTS_DIR } from '../../../src/application/blueprint-catalog.ts';
import { isLabelSelector } from '../../../src/application/spec-semantics.ts';
import { applicationToYaml, parseApplication, validateApplicationText } from '../../../src/application/spec.ts';
import { CairnError, type Diagnostic } from '../../../src/diagnostics.ts';

const ROOT = join(import.meta.dirname, '../../..');

/** A valid Application; each test replaces a few lines, so line numbers in assertions refer to this text. */
const VALID = `apiVersion: cairn.io/v1alpha1
kind: Application
metadata:
  name: shop
spec:
  namespace: shop
  components:
    - name: postgres
      workload: { kind: StatefulSet, name: postgres }
      blueprint: postgresql
    - name: api
      workload: { kind: Deployment, name: api }
      dependsOn: [postgres]
    - name: worker
      workload: { kind: Deployment, name: worker }
      dependsOn: [postgres, api]
`;

function check(text: string, file = 'app.yaml'): Diagnostic[] {
  return validateApplicationText(text, file).diagnostics;
}

/** `line:column code path` of every diagnostic, for compact assertions. */
function places(diagnostics: Diagnostic[]): string[] {
  return diagnostics.map((d) => `${d.line}:${d.column} ${d.code} ${d.path ?? ''}`);
}

describe('Application spec: valid documents', () => {
  it('accepts the shipped example Applications', async () => {
    for (const file of ['shop.yaml', 'mysql-app.yaml', 'orders-payments.yaml']) {
      const path = join(ROOT, 'examples/applications', file);
      const result = validateApplicationText(await readFile(path, 'utf8'), path, { blueprints: await readBlueprintCatalog([SHIPPED_BLUEPRINTS_DIR]) });
      assert.deepEqual(result.diagnostics, [], file);
      assert.equal(result.applications.length, 1);
    }
  });

  it('parses a spec and round-trips it through YAML unchanged', () => {
    const spec = parseApplication(VALID, 'app.yaml');
    assert.equal(spec.metadata.name, 'shop');
    assert.deepEqual(spec.spec.components.map((c) => [c.name, c.workload.kind, c.dependsOn ?? []]), [
      ['postgres', 'StatefulSet', []],
      ['api', 'Deployment', ['postgres']],
      ['worker', 'Deployment', ['postgres', 'api']],
    ]);
    const again = parseApplication(applicationToYaml(spec), 'again.yaml');
    assert.deepEqual(again, spec);
  });

  it('round-trips every field of the reference, transforms and retention included', () => {
    const full = `${VALID}  profile: offsite
  concurrency: 4
  consistencyGroup: false
  existingResources: update
  resources:
    includeKinds: [ConfigMap, Secret, widgets.example.com]
    labelSelector: "app.kubernetes.io/part-of=shop,tier notin (cache)"
    clusterScoped: false
  transforms:
    namespaces: { shop: shop-dr }
    storageClasses: { fast-ssd: standard }
    labels: { set: { restored: "true" }, remove: [team] }
    annotations: { remove: [deployment.kubernetes.io/revision] }
    patches:
      - kind: Deployment
        name: "api*"
        operations:
          - { op: replace, path: /spec/replicas, value: 1 }
          - { op: remove, path: /metadata/annotations/a~1b }
          - { op: copy, from: /spec/template/metadata/labels, path: /metadata/labels }
    ingressHosts: { "*.shop.example": "*.dr.example" }
    services: { dropNodePorts: true, type: { LoadBalancer: ClusterIP }, removeAnnotations: ["service.beta.kubernetes.io/*"] }
  retention: { keepLast: 0, hourly: 24, daily: 7, weekly: 4, monthly: 12, yearly: 2 }
`;
    assert.deepEqual(check(full), []);
    const spec = parseApplication(full, 'full.yaml');
    assert.equal(spec.spec.transforms?.patches?.[0]?.operations.length, 3);
    assert.deepEqual(parseApplication(applicationToYaml(spec), 'again.yaml'), spec);
  });
});

describe('Application spec: every error names file:line:column and the field path', () => {
  it('checks a consistency group: every blueprint needs quiesce and unquiesce for the workload kind, and no other strategy', () => {
    const blueprints = new Map<string, { actions: Record<string, string[]> }>([
      ['postgresql', { actions: { backup: ['StatefulSet'], restore: ['StatefulSet'], quiesce: ['StatefulSet'], unquiesce: ['StatefulSet'] } }],
      ['mysql', { actions: { backup: ['StatefulSet'], restore: ['StatefulSet'] } }],
    ]);
    const grouped = `${VALID}  consistencyGroup: true\n`;
    assert.deepEqual(validateApplicationText(grouped, 'group.yaml', { blueprints }).diagnostics, []);

    const text = grouped
      .replace('      blueprint: postgresql\n', '      blueprint: postgresql\n      strategy: logical\n')
      .replace('    - name: api\n      workload: { kind: Deployment, name: api }\n', '    - name: api\n      workload: { kind: StatefulSet, name: api }\n      blueprint: mysql\n');
    const diagnostics = validateApplicationText(text, 'group.yaml', { blueprints }).diagnostics;
    assert.deepEqual(places(diagnostics), [
      '11:17 group-strategy spec.components[0].strategy',
      '14:18 group-action-missing spec.components[1].blueprint',
      '14:18 group-action-missing spec.components[1].blueprint',
    ]);
    assert.match(diagnostics[1]!.message, /blueprint "mysql" has no quiesce action/);
    assert.match(diagnostics[2]!.message, /no unquiesce action/);

    const stateless = grouped.replace('      blueprint: postgresql\n', '');
    assert.deepEqual(check(stateless).map((d) => [d.code, d.severity]), [['empty-group', 'warning']]);
  });

  it('reports schema errors at the offending field, all of them in one run', () => {
    const text = VALID.replace('name: shop', 'name: Shop_1')
      .replace('  namespace: shop', '  namespace: shop\n  concurrency: 0\n  existingResources: overwrite\n  retention: { daily: -1 }\n  colour: blue')
      .replace('kind: StatefulSet', 'kind: DaemonSet');
    const diagnostics = check(text, 'bad.yaml');
    assert.deepEqual(places(diagnostics), [
      '4:9 schema metadata.name',
      '7:16 schema spec.concurrency',
      '8:22 schema spec.existingResources',
      '9:23 schema spec.retention.daily',
      '10:11 schema spec.colour',
      '13:25 schema spec.components[0].workload.kind',
    ]);
    assert.ok(diagnostics.every((d) => d.file === 'bad.yaml' && d.severity === 'error'));
    assert.match(diagnostics[1]!.message, />= 1/);
    assert.match(diagnostics[2]!.message, /"skip", "update", "fail"/);
    assert.match(diagnostics[4]!.message, /unknown field "colour"/);
    assert.match(diagnostics[5]!.message, /"StatefulSet", "Deployment", got "DaemonSet"/);
  });

  it('requires the fields without which there is no application', () => {
    const diagnostics = check('apiVersion: cairn.io/v1alpha1\nkind: Application\nmetadata: { name: x }\nspec: { components: [] }\n');
    assert.deepEqual(diagnostics.map((d) => [d.line, d.path, d.message]), [
      [4, 'spec', 'the Application is missing required field "namespace"'],
      [4, 'spec.components', 'must NOT have fewer than 1 items'],
    ]);
  });

  it('rejects duplicate component names and two components of one workload', () => {
    const text = VALID.replace('- name: worker\n      workload: { kind: Deployment, name: worker }', '- name: api\n      workload: { kind: Deployment, name: api }');
    assert.deepEqual(places(check(text)), [
      '14:13 duplicate-component spec.components[2].name',
      '15:17 duplicate-workload spec.components[2].workload',
      // The worker's dependsOn is now the second api's: it names itself.
      '16:29 self-dependency spec.components[2].dependsOn[1]',
    ]);
  });

  it('rejects component names that are not DNS labels', () => {
    const diagnostics = check(VALID.replace('- name: api', '- name: API_server'));
    assert.deepEqual(places(diagnostics), ['11:13 schema spec.components[1].name', '16:29 unknown-dependency spec.components[2].dependsOn[1]']);
    assert.match(diagnostics[0]!.message, /lower-case DNS name/);
  });

  it('rejects dependsOn naming an unknown component (with a suggestion) or itself', () => {
    const diagnostics = check(VALID.replace('dependsOn: [postgres, api]', 'dependsOn: [postgress, worker]'));
    assert.deepEqual(places(diagnostics), ['16:19 unknown-dependency spec.components[2].dependsOn[0]', '16:30 self-dependency spec.components[2].dependsOn[1]']);
    assert.equal(diagnostics[0]!.hint, 'did you mean "postgres"?');
  });

  it('names each dependency cycle once, in declaration order', () => {
    const text = VALID.replace('      blueprint: postgresql', '      blueprint: postgresql\n      dependsOn: [worker]');
    const diagnostics = check(text);
    assert.deepEqual(places(diagnostics), ['11:18 dependency-cycle spec.components[0].dependsOn', '11:18 dependency-cycle spec.components[0].dependsOn']);
    assert.deepEqual(diagnostics.map((d) => d.message).sort(), ['dependency cycle: postgres → worker → api → postgres', 'dependency cycle: postgres → worker → postgres']);
  });

  it('allows strategy, options and readiness.validate only with a blueprint', () => {
    const text = VALID.replace('      dependsOn: [postgres]\n', '      dependsOn: [postgres]\n      strategy: logical\n      options: { pvc: data }\n      readiness: { validate: true }\n');
    assert.deepEqual(places(check(text)), [
      '14:17 needs-blueprint spec.components[1].strategy',
      '15:16 needs-blueprint spec.components[1].options',
      '16:30 needs-blueprint spec.components[1].readiness.validate',
    ]);
  });

  it('checks JSON-patch operations: op, pointer syntax, required value/from, move into a child', () => {
    const text = `${VALID}  transforms:
    patches:
      - operations:
          - { op: add, path: /spec/replicas }
          - { op: copy, path: /a }
          - { op: move, from: /spec, path: /spec/template }
          - { op: frob, path: /x }
          - { op: remove, path: spec/replicas }
          - { op: remove, path: "" }
          - { op: remove, path: /x, value: 1 }
      - kind: Deployment
        operations: []
`;
    const diagnostics = check(text);
    assert.deepEqual(places(diagnostics), [
      '20:13 schema spec.transforms.patches[0].operations[0]',
      '21:13 schema spec.transforms.patches[0].operations[1]',
      '22:31 invalid-patch spec.transforms.patches[0].operations[2].from',
      '23:19 schema spec.transforms.patches[0].operations[3].op',
      '24:33 schema spec.transforms.patches[0].operations[4].path',
      '25:33 invalid-patch spec.transforms.patches[0].operations[5].path',
      '26:44 invalid-patch spec.transforms.patches[0].operations[6].value',
      '28:21 schema spec.transforms.patches[1].operations',
    ]);
    assert.equal(diagnostics[0]!.message, 'JSON-patch op "add" needs "value"');
    assert.equal(diagnostics[1]!.message, 'JSON-patch op "copy" needs "from"');
    assert.match(diagnostics[4]!.message, /"spec\/replicas" is not a JSON pointer/);
    assert.equal(diagnostics[6]!.severity, 'warning');
  });

  it('checks the other transforms, the resource selection and the label selector', () => {
    const text = `${VALID}  resources:
    includeKinds: [ConfigMap]
    excludeKinds: [ConfigMap, "not a kind"]
    labelSelector: "app in (a,b"
  transforms:
    namespaces: { shop: Shop }
    ingressHosts: { "*.shop.example": "http://dr.example" }
    services: { type: { LoadBalancer: Cluster } }
`;
    assert.deepEqual(places(check(text)), [
      '19:20 kind-both spec.resources.excludeKinds[0]',
      '19:31 schema spec.resources.excludeKinds[1]',
      '20:20 invalid-selector spec.resources.labelSelector',
      '22:25 schema spec.transforms.namespaces.shop',
      '23:39 schema spec.transforms.ingressHosts["*.shop.example"]',
      '24:39 schema spec.transforms.services.type.LoadBalancer',
    ]);
  });

  it('checks named blueprints when the caller knows them: existence, workload kind, validate action, options', async () => {
    const blueprints = await readBlueprintCatalog([SHIPPED_BLUEPRINTS_DIR]);
    const text = VALID.replace('blueprint: postgresql', 'blueprint: postgresq')
      .replace('      dependsOn: [postgres]\n', '      dependsOn: [postgres]\n      blueprint: redis\n      options: { credentialSecret: x }\n');
    const diagnostics = validateApplicationText(text, 'app.yaml', { blueprints }).diagnostics;
    assert.deepEqual(places(diagnostics), [
      '10:18 unknown-blueprint spec.components[0].blueprint',
      '12:25 blueprint-kind spec.components[1].workload.kind',
      '15:36 unused-option spec.components[1].options.credentialSecret',
    ]);
    assert.equal(diagnostics[0]!.hint, 'did you mean "postgresql"?');
    assert.match(diagnostics[1]!.message, /blueprint "redis" cannot act on a Deployment: its backup takes StatefulSet, restore takes StatefulSet/);
    assert.equal(diagnostics[2]!.severity, 'warning');
    assert.equal(diagnostics[2]!.hint, 'did you mean "credentialsSecret"?');
  });

  it('refuses templates where the schema wants a value: nothing renders an Application', () => {
    const text = VALID.replace('  namespace: shop', '  namespace: "{{Options.ns}}"\n  concurrency: "{{Options.n}}"');
    assert.deepEqual(check(text).map((d) => `${d.line}:${d.column} ${d.code} ${d.path}: ${d.message}`), [
      '6:14 template spec.namespace: "{{Options.ns}}" is a template, but Applications are not rendered',
      '7:16 template spec.concurrency: "{{Options.n}}" is a template, but Applications are not rendered',
    ]);
  });

  it('says what else a document is, and reports YAML syntax errors with their place', () => {
    const blueprint = check('apiVersion: cairn.io/v1alpha1\nkind: Blueprint\nmetadata: { name: x }\n');
    assert.deepEqual(places(blueprint), ['2:7 not-an-application kind']);
    const syntax = check('apiVersion: cairn.io/v1alpha1\nkind: Application\nmetadata: { name: x\n');
    assert.equal(syntax[0]?.code, 'yaml-syntax');
    assert.equal(syntax[0]?.line, 4); // where the unclosed flow mapping ends: the end of the text
    const duplicate = check(`${VALID}  namespace: other\n`);
    assert.deepEqual(duplicate.map((d) => [d.code, d.line]), [['duplicate-key', 17]]);
  });

  it('parseApplication throws every error at once as a CairnError', () => {
    const text = VALID.replace('dependsOn: [postgres]', 'dependsOn: [nope]').replace('namespace: shop', 'namespace: Shop');
    assert.throws(() => parseApplication(text, 'app.yaml'), (error: unknown) => {
      assert.ok(error instanceof CairnError);
      assert.deepEqual(error.diagnostics.map((d) => d.code), ['schema', 'unknown-dependency']);
      assert.match(error.message, /^app\.yaml:6:14: error: spec\.namespace: /m);
      return true;
    });
  });
});

describe('label selectors', () => {
  it('accepts the Kubernetes grammar and refuses what the API server would', () => {
    for (const ok of ['', 'app=shop', 'app.kubernetes.io/part-of==shop,tier!=cache', 'env in (prod, staging),!legacy', 'team', 'x notin ()']) assert.ok(isLabelSelector(ok), ok);
    for (const bad of ['app in (a,b', '=shop', 'app=shop=', 'app in a', 'Bad Key=x', 'app=-x']) assert.ok(!isLabelSelector(bad), bad);
  });
});
