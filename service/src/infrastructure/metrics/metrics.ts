// Every Prometheus instrument of the service, in one registry per composition (tests run several
// services in one process). Components report through the small observer interfaces below, so
// they never import prom-client; label values are fixed sets or route patterns, never raw input.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface HttpObserver {
  request(method: string, route: string, status: number, seconds: number): void;
}
export interface QueryObserver {
  query(sql: string, ms: number): void;
}
export interface CacheObserver {
  hit(tier: string): void;
  miss(tier: string): void;
}
export interface LockObserver {
  granted(): void;
  contended(): void;
  lost(): void;
}
export interface RateLimitObserver {
  rejected(limiter: string): void;
}
export type BreakerState = 'closed' | 'half_open' | 'open';
export interface BreakerObserver {
  state(breaker: string, state: BreakerState): void;
}
export interface EventBusObserver {
  published(stream: string): void;
  delivered(stream: string): void;
  deadLettered(stream: string): void;
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
const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

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

export class Metrics
  implements
    HttpObserver,
    QueryObserver,
    CacheObserver,
    LockObserver,
    RateLimitObserver,
    BreakerObserver,
    EventBusObserver
{
  readonly registry = new Registry();
  private readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  private readonly httpTotal: Counter<'method' | 'route' | 'status_code'>;
  private readonly dbDuration: Histogram<'operation'>;
  private readonly cacheTotal: Counter<'tier' | 'result'>;
  private readonly lockTotal: Counter<'event'>;
  private readonly rateLimited: Counter<'limiter'>;
  private readonly breaker: Gauge<'breaker'>;
  private readonly events: Counter<'stream' | 'outcome'>;
  private readonly healthUp: Gauge<'check' | 'critical'>;
  private poolSource?: () => PoolStats | undefined;
  private eventGauges?: () => Promise<{ pending: number; outboxPending: number; outboxLagSeconds: number }>;

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
    this.cacheTotal = new Counter({
      name: `${p}cache_requests_total`,
      help: 'Cache lookups by tier (local, redis) and result (hit, miss)',
      labelNames: ['tier', 'result'],
      registers,
    });
    this.lockTotal = new Counter({
      name: `${p}lock_events_total`,
      help: 'Distributed lock events: granted, contended (held by another), lost (expired or taken while held)',
      labelNames: ['event'],
      registers,
    });
    this.rateLimited = new Counter({
      name: `${p}rate_limit_rejections_total`,
      help: 'Requests rejected by a rate limiter',
      labelNames: ['limiter'],
      registers,
    });
    this.breaker = new Gauge({
      name: `${p}circuit_breaker_state`,
      help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open',
      labelNames: ['breaker'],
      registers,
    });
    this.events = new Counter({
      name: `${p}events_total`,
      help: 'Event-bus messages by stream and outcome (published, delivered, dead_lettered)',
      labelNames: ['stream', 'outcome'],
      registers,
    });
    const events = () => this.eventGauges;
    const eventGauge = (
      name: string,
      help: string,
      field: 'pending' | 'outboxPending' | 'outboxLagSeconds',
    ) =>
      new Gauge({
        name: `${p}${name}`,
        help,
        registers,
        async collect() {
          const source = events();
          if (!source) return;
          try {
            this.set((await source())[field]);
          } catch {
            // A scrape must not fail because Redis or the database is down; the gauge keeps its value.
          }
        },
      });
    eventGauge('events_pending', 'Event-bus messages delivered but not yet acknowledged', 'pending');
    eventGauge('outbox_pending', 'Outbox rows not yet relayed to the event bus', 'outboxPending');
    eventGauge('outbox_lag_seconds', 'Age of the oldest outbox row not yet relayed', 'outboxLagSeconds');
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

  watchEvents(
    source: () => Promise<{ pending: number; outboxPending: number; outboxLagSeconds: number }>,
  ): void {
    this.eventGauges = source;
  }

  hit(tier: string): void {
    this.cacheTotal.inc({ tier, result: 'hit' });
  }

  miss(tier: string): void {
    this.cacheTotal.inc({ tier, result: 'miss' });
  }

  granted(): void {
    this.lockTotal.inc({ event: 'granted' });
  }

  contended(): void {
    this.lockTotal.inc({ event: 'contended' });
  }

  lost(): void {
    this.lockTotal.inc({ event: 'lost' });
  }

  rejected(limiter: string): void {
    this.rateLimited.inc({ limiter });
  }

  state(breaker: string, state: BreakerState): void {
    this.breaker.set({ breaker }, BREAKER_VALUE[state]);
  }

  published(stream: string): void {
    this.events.inc({ stream, outcome: 'published' });
  }

  delivered(stream: string): void {
    this.events.inc({ stream, outcome: 'delivered' });
  }

  deadLettered(stream: string): void {
    this.events.inc({ stream, outcome: 'dead_lettered' });
  }

  healthChecked(check: string, critical: boolean, up: boolean): void {
    this.healthUp.set({ check, critical: String(critical) }, up ? 1 : 0);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  json(): Promise<unknown> {
    return this.registry.getMetricsAsJSON();
  }
}
