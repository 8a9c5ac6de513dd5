// A small client of Prometheus's HTTP API (/api/v1) for the kind cluster's monitoring add-on
// (hack/cluster/kind/addons/monitoring.yaml), reached through `kubectl port-forward` to its pod: the
// suites check what the real Prometheus discovered, scraped, loaded and fired, not what was rendered.
import { portForward, type PortForward } from './port-forward.js';

export const PROMETHEUS_NAMESPACE = 'monitoring';
export const PROMETHEUS_POD = 'prometheus-monitoring-0';
/** The label its Prometheus selects ServiceMonitors, PodMonitors and PrometheusRules by (kube-prometheus-stack's convention). */
export const MONITORING_RELEASE_LABEL = { release: 'monitoring' } as const;

export type Labels = Record<string, string>;

export interface Target {
  labels: Labels;
  scrapePool: string;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}

export interface Sample {
  metric: Labels;
  value: [number, string];
}

export interface Alert {
  labels: Labels;
  annotations: Labels;
  state: 'inactive' | 'pending' | 'firing';
  activeAt?: string;
  value: string;
}

export interface Rule {
  type: 'alerting' | 'recording';
  name: string;
  query: string;
  health: 'ok' | 'err' | 'unknown';
  lastError?: string;
  lastEvaluation: string;
  state?: Alert['state'];
  alerts?: Alert[];
}

export interface RuleGroup {
  name: string;
  file: string;
  rules: Rule[];
}

/** A node of the syntax tree /api/v1/parse_query answers with; only what metricNames reads. */
interface AstNode {
  type?: string;
  name?: string;
  matchers?: { type: string; name: string; value: string }[];
  [child: string]: unknown;
}

/** True when every label of `filter` has that value in `labels`. */
export const matches = (labels: Labels, filter: Labels) =>
  Object.entries(filter).every(([k, v]) => labels[k] === v);

export class Prometheus {
  private constructor(private readonly forward: PortForward) {}

  static async connect(): Promise<Prometheus> {
    return new Prometheus(await portForward(PROMETHEUS_NAMESPACE, PROMETHEUS_POD, 9090));
  }

  close(): void {
    this.forward.close();
  }

  private async api<T>(path: string, params: Record<string, string> = {}): Promise<T> {
    const url = `${this.forward.url}/api/v1/${path}?${new URLSearchParams(params).toString()}`;
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`GET ${url}: ${res.status} ${body.error ?? ''}`);
    return body.data;
  }

  /** The active scrape targets whose labels include every label of `filter`. */
  async targets(filter: Labels = {}): Promise<Target[]> {
    const data = await this.api<{ activeTargets: Target[] }>('targets', { state: 'active' });
    return data.activeTargets.filter((t) => matches(t.labels, filter));
  }

  /** An instant query. */
  query(expr: string): Promise<Sample[]> {
    return this.api<{ result: Sample[] }>('query', { query: expr }).then((d) => d.result);
  }

  async rules(): Promise<RuleGroup[]> {
    return (await this.api<{ groups: RuleGroup[] }>('rules')).groups;
  }

  async alerts(): Promise<Alert[]> {
    return (await this.api<{ alerts: Alert[] }>('alerts')).alerts;
  }

  /**
   * The metric names an expression selects, read from Prometheus's own parse of it (so a name is
   * never confused with a function, label or keyword): every vector selector's name, or its
   * `__name__="..."` matcher, plain or as a range.
   */
  async metricNames(expr: string): Promise<string[]> {
    const names = new Set<string>();
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (node === null || typeof node !== 'object') return;
      const n = node as AstNode;
      // A range (`x[5m]`) is a matrixSelector node that carries the same name and matchers.
      if (n.type === 'vectorSelector' || n.type === 'matrixSelector') {
        const name = n.name || n.matchers?.find((m) => m.name === '__name__' && m.type === '=')?.value;
        if (name) names.add(name);
      }
      Object.values(n).forEach(walk);
    };
    walk(await this.api<AstNode>('parse_query', { query: expr }));
    return [...names];
  }
}
