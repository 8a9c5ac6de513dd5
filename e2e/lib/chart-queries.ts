// The PromQL a release of the chart ships, read from its rendered manifest (`helm get manifest`): the
// alert expressions of its PrometheusRule and the queries of its Grafana dashboard ConfigMap. Read
// from what Helm rendered, never listed by hand, so a query added to the chart is checked too.
import { parseAllDocuments } from 'yaml';
import { helm, type HelmBinary } from './helm.js';

export interface RenderedRule {
  alert: string;
  expr: string;
  for?: string;
}

export interface ChartQueries {
  rules: RenderedRule[];
  /** Every PromQL expression of the dashboard: panel targets and the metric of each label_values() variable. */
  dashboard: string[];
}

interface Manifest {
  kind?: string;
  metadata?: { name?: string };
  spec?: { groups?: { rules?: RenderedRule[] }[] };
  data?: Record<string, string>;
}

// Grafana's own interval variables are not PromQL; any duration stands in for them.
const grafanaIntervals = (expr: string) => expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m');

/** Panel `expr`s and the query variables' metrics (`label_values(metric{...}, label)`) of a dashboard. */
export function dashboardQueries(dashboard: unknown): string[] {
  const out: string[] = [];
  const walk = (node: unknown, key?: string): void => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, key));
    if (node !== null && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) walk(v, k);
      return;
    }
    if (typeof node !== 'string') return;
    if (key === 'expr') out.push(grafanaIntervals(node));
    const variable = key === 'query' ? /^label_values\((.+),\s*[A-Za-z_][A-Za-z0-9_]*\)$/.exec(node) : null;
    if (variable?.[1]) out.push(grafanaIntervals(variable[1]));
  };
  walk(dashboard);
  return out;
}

export async function chartQueries(
  binary: HelmBinary,
  release: string,
  namespace: string,
): Promise<ChartQueries> {
  const manifest = await helm(binary, ['get', 'manifest', release, '-n', namespace]);
  const docs = parseAllDocuments(manifest).map((d) => d.toJS() as Manifest | null);
  const rules = docs
    .filter((d) => d?.kind === 'PrometheusRule')
    .flatMap((d) => d!.spec?.groups ?? [])
    .flatMap((g) => g.rules ?? []);
  const dashboards = docs
    .filter((d) => d?.kind === 'ConfigMap' && d.metadata?.name?.endsWith('-dashboard'))
    .flatMap((d) => Object.entries(d!.data ?? {}))
    .filter(([key]) => key.endsWith('.json'))
    .map(([, json]) => JSON.parse(json) as unknown);
  return { rules, dashboard: dashboards.flatMap(dashboardQueries) };
}
