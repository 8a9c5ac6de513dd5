// The service's Prometheus registry, one per composition (tests run several services in one
// process): process defaults, HTTP, database and health instruments, fed through the observer
// interfaces below so callers never import prom-client. Feature areas that keep their own
// counters (the distributed features) hand in a registry of their own, merged at scrape time.
// Label values are fixed sets or route patterns, never raw input.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface HttpObserver {
  request(method: string, route: string, status: number, seconds: number): void;
}
export interface QueryObserver {
  query(sql: string, ms: number): void;
}
// What a Sequelize connection pool exposes (sequelize-pool); SQLite has none.
export interface PoolStats {
  size: number;
  available: number;
  using: number;
  waiting: number;
  maxSize: number;
}

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const SQL_VERBS = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'WITH',
  'BEGIN',
  'START',
  'COMMIT',
  'ROLLBACK',
  'SAVEPOINT',
  'RELEASE',
  'CREATE',
  'ALTER',
  'DROP',
  'PRAGMA',
  'SET',
  'SHOW',
]);

// "Executed (default): SELECT ..." (Sequelize's benchmark log line) -> SELECT.
export function sqlOperation(sql: string): string {
  const m = /^(?:Executed \([^)]*\):\s*)?\(?\s*([A-Za-z]+)/.exec(sql);
  const verb = m?.[1]?.toUpperCase() ?? '';
  return SQL_VERBS.has(verb) ? verb : 'OTHER';
}

export interface MetricsOptions {
  prefix: string;
  defaultMetrics?: boolean;
}

export class Metrics implements HttpObserver, QueryObserver {
  readonly registry = new Registry();
  private readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  private readonly httpTotal: Counter<'method' | 'route' | 'status_code'>;
  private readonly dbDuration: Histogram<'operation'>;
  private readonly healthUp: Gauge<'check' | 'critical'>;
  private poolSource?: () => PoolStats | undefined;
  private readonly included: Registry[] = [];

  constructor(options: MetricsOptions) {
    const p = options.prefix;
    const registers = [this.registry];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: p });

    this.httpDuration = new Histogram({
      name: `${p}http_request_duration_seconds`,
      help: 'HTTP request duration by method, route pattern and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.httpTotal = new Counter({
      name: `${p}http_requests_total`,
      help: 'HTTP requests by method, route pattern and status code',
      labelNames: ['method', 'route', 'status_code'],
      registers,
    });
    this.dbDuration = new Histogram({
      name: `${p}db_query_duration_seconds`,
      help: 'Database query duration by SQL operation',
      labelNames: ['operation'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
    const pool = (field: keyof PoolStats) => this.poolSource?.()?.[field];
    new Gauge({
      name: `${p}db_pool_connections`,
      help: 'Database pool connections by state (PostgreSQL; SQLite has no pool)',
      labelNames: ['state'],
      registers,
      collect() {
        for (const [state, field] of [
          ['open', 'size'],
          ['idle', 'available'],
          ['used', 'using'],
          ['pending_acquires', 'waiting'],
          ['max', 'maxSize'],
        ] as const) {
          const v = pool(field);
          if (v !== undefined) this.set({ state }, v);
        }
      },
    });
    this.healthUp = new Gauge({
      name: `${p}health_check_up`,
      help: 'Result of the last health check run: 1 up, 0 down',
      labelNames: ['check', 'critical'],
      registers,
    });
  }

  request(method: string, route: string, status: number, seconds: number): void {
    const labels = {
      method: HTTP_METHODS.has(method) ? method : 'OTHER',
      route,
      status_code: String(status),
    };
    this.httpDuration.observe(labels, seconds);
    this.httpTotal.inc(labels);
  }

  query(sql: string, ms: number): void {
    this.dbDuration.observe({ operation: sqlOperation(sql) }, ms / 1000);
  }

  // The pool is created lazily by Sequelize, so it is read at scrape time.
  watchPool(source: () => PoolStats | undefined): void {
    this.poolSource = source;
  }

  healthChecked(check: string, critical: boolean, up: boolean): void {
    this.healthUp.set({ check, critical: String(critical) }, up ? 1 : 0);
  }

  // Served with this one; metric names must not collide (Registry.merge refuses duplicates).
  include(registry: Registry): void {
    this.included.push(registry);
  }

  private merged(): Registry {
    return this.included.length === 0 ? this.registry : Registry.merge([this.registry, ...this.included]);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.merged().metrics();
  }

  json(): Promise<unknown> {
    return this.merged().getMetricsAsJSON();
  }
}
