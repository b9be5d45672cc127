import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { CairnMetrics } from '../../../src/metrics/cairn-metrics.ts';
import { OPERATOR_ROLES } from '../../../src/authz/verbs.ts';
import { seriesOf, shippedExpressions } from '../../integration/operate/promql-series.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

it('the Grafana dashboard is valid JSON with unique panel ids, a datasource variable and a query per panel', () => {
  const dashboard = JSON.parse(read('deploy/helm/cairn/files/grafana-dashboard.json')) as {
    uid: string;
    templating: { list: { name: string }[] };
    panels: { id: number; title: string; targets: { expr: string }[]; gridPos: { x: number; w: number } }[];
  };
  assert.equal(dashboard.uid, 'cairn-overview');
  assert.deepEqual(dashboard.templating.list.map((variable) => variable.name), ['datasource', 'namespace']);
  const ids = dashboard.panels.map((panel) => panel.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  for (const panel of dashboard.panels) {
    assert.ok(panel.targets.length > 0 && panel.targets.every((target) => target.expr.trim()), `panel "${panel.title}" has queries`);
    assert.ok(panel.gridPos.x + panel.gridPos.w <= 24, `panel "${panel.title}" fits the 24-column grid`);
  }
});

it('every cairn_ series the alerts and the dashboard query is one the worker defines', async () => {
  const metrics = new CairnMetrics();
  const defined = new Set<string>();
  for (const metric of (await metrics.registry.getMetricsAsJSON()) as unknown as { name: string; type: string }[]) {
    defined.add(metric.name);
    if (metric.type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) defined.add(`${metric.name}${suffix}`);
  }
  const unknown: string[] = [];
  for (const { source, expr } of shippedExpressions(ROOT)) {
    for (const series of seriesOf(expr)) if (series.startsWith('cairn_') && !defined.has(series)) unknown.push(`${source}: ${series}`);
  }
  assert.deepEqual(unknown, []);
});

it('the shipped alerts cover a failed run, a missed backup, a quiesce over 2 s and a failed drill', () => {
  const rules = shippedExpressions(ROOT).filter((entry) => entry.source.startsWith('alert '));
  const byName = new Map(rules.map((rule) => [rule.source.slice('alert '.length), rule.expr]));
  assert.match(byName.get('CairnRunFailed') ?? '', /cairn_runs_failed_total/);
  assert.match(byName.get('CairnBackupMissed') ?? '', /cairn_last_successful_backup_timestamp_seconds.*> 26 \* 3600/);
  assert.match(byName.get('CairnQuiesceWindowTooLong') ?? '', /le="2"/);
  assert.match(byName.get('CairnDrillFailed') ?? '', /drill/);
});

it('seriesOf reads metric names out of PromQL, not functions, labels or durations', () => {
  assert.deepEqual(seriesOf('time() - max by (namespace, target) (max_over_time(cairn_last_successful_backup_timestamp_seconds{namespace=~"$namespace"}[30d])) > 26 * 3600'), ['cairn_last_successful_backup_timestamp_seconds']);
  assert.deepEqual(seriesOf('sum(increase(a_total[1h])) - sum(increase(b_bucket{le="2"}[1h])) > 0 or absent(up == 1)'), ['a_total', 'b_bucket', 'up']);
});

it("every verb of the worker's ClusterRole is explained in docs/operate.md, and the operator roles match src/authz", () => {
  const rules = ['worker-rules.yaml', 'application-rules.yaml'].flatMap(
    (file) => parse(read(`deploy/helm/cairn/files/${file}`)) as { apiGroups: string[]; resources: string[]; verbs: string[] }[],
  );
  const doc = read('docs/operate.md');
  const table = doc.slice(doc.indexOf('## RBAC'));
  const missing: string[] = [];
  for (const rule of rules) {
    for (const resource of rule.resources) {
      for (const verb of rule.verbs) {
        const group = rule.apiGroups[0] || 'core';
        // A row of the table: | `<group>` | `<resource>` | `<verb>` | why |
        if (!table.includes(`| \`${group}\` | \`${resource}\` | \`${verb}\` |`)) missing.push(`${group} ${resource} ${verb}`);
      }
    }
  }
  assert.deepEqual(missing, []);
  const granted = new Set(rules.flatMap((rule) => rule.resources.flatMap((resource) => rule.verbs.map((verb) => `${rule.apiGroups[0] || 'core'} ${resource} ${verb}`))));
  const rows = [...table.slice(0, table.indexOf('\n## ', 1)).matchAll(/^\| `([^`]+)` \| `([^`]+)` \| `([^`]+)` \|/gm)].map((row) => `${row[1]} ${row[2]} ${row[3]}`);
  assert.deepEqual(rows.filter((row) => !granted.has(row)), [], 'no documented verb that is not granted');

  const shipped = new Map<string, string[]>();
  for (const document of parseAllDocuments(read('deploy/kustomize/base/cairn.yaml'))) {
    const object = document.toJS() as { kind: string; metadata: { name: string; labels: Record<string, string> }; rules: { verbs: string[] }[] } | null;
    if (object?.kind === 'ClusterRole' && object.metadata.name in OPERATOR_ROLES) {
      shipped.set(object.metadata.name, object.rules.flatMap((rule) => rule.verbs));
      assert.equal(object.metadata.labels['rbac.authorization.k8s.io/aggregate-to-admin'], 'true');
      assert.equal(object.metadata.labels['rbac.authorization.k8s.io/aggregate-to-edit'], 'true');
    }
  }
  assert.deepEqual(Object.fromEntries(shipped), Object.fromEntries(Object.entries(OPERATOR_ROLES).map(([role, verbs]) => [role, [...verbs]])));
});

it('the Deployment lets the worker finish its shutdown grace before the kubelet kills it', () => {
  const deployment = parseAllDocuments(read('deploy/kustomize/base/cairn.yaml'))
    .map((document) => document.toJS() as { kind: string; spec: { replicas: number; template: { spec: { terminationGracePeriodSeconds: number; containers: { args: string[] }[] } } } })
    .find((object) => object?.kind === 'Deployment')!;
  const grace = Number(deployment.spec.template.spec.containers[0]!.args.find((arg) => arg.startsWith('--shutdown-grace='))!.split('=')[1]);
  assert.equal(deployment.spec.replicas, 2);
  assert.ok(deployment.spec.template.spec.terminationGracePeriodSeconds > grace, `${deployment.spec.template.spec.terminationGracePeriodSeconds} s > ${grace} s`);
  assert.ok(deployment.spec.template.spec.containers[0]!.args.includes('--authorize'), 'authorization is on in the chart');
});
