/**
 * The series the shipped alerts and dashboard query: metric names read out of their PromQL, so a test can
 * check each one against what the worker really exposes. Label names, functions and keywords are left out.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const NOT_SERIES = new Set([
  'sum', 'max', 'min', 'avg', 'count', 'by', 'without', 'rate', 'increase', 'time', 'histogram_quantile', 'max_over_time',
  'absent', 'or', 'and', 'unless', 'on', 'ignoring', 'le', 'bool', 'offset', 'humanizeDuration',
]);

export function seriesOf(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\[[^\]]*\]/g, '');
  const withoutLabels = withoutStrings.replace(/\{[^}]*\}/g, '').replace(/\bby\s*\([^)]*\)/g, '');
  const names = withoutLabels.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
  return [...new Set(names.filter((name) => !NOT_SERIES.has(name) && !/^\d/.test(name)))];
}

/** Every PromQL expression of the dashboard and of the rendered PrometheusRule. */
export function shippedExpressions(root: string): { source: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(join(root, 'deploy/helm/cairn/files/grafana-dashboard.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
  const found = dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ source: `dashboard panel "${panel.title}"`, expr: target.expr.replaceAll('$__rate_interval', '5m').replaceAll('$__range', '1h') })));
  for (const document of parseAllDocuments(readFileSync(join(root, 'deploy/kustomize/monitoring/monitoring.yaml'), 'utf8'))) {
    const object = document.toJS() as { kind?: string; spec?: { groups: { rules: { alert: string; expr: string }[] }[] } } | null;
    if (object?.kind !== 'PrometheusRule') continue;
    for (const rule of object.spec!.groups.flatMap((group) => group.rules)) found.push({ source: `alert ${rule.alert}`, expr: rule.expr });
  }
  return found;
}
