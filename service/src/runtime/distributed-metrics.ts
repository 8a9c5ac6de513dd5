// Prometheus metrics of the distributed features, read from each part's counters at scrape time
// (nothing on the hot paths). A registry of their own: served at /distributed/metrics, and merged
// into the service's /metrics with Registry.merge when that exists.
import { Counter, Gauge, Registry } from 'prom-client';
import { USER_EVENTS_STREAM } from '../domain/users/user.js';
import { rateLimitRefusals } from '../infrastructure/rate-limit/rate-limiter.js';
import type { DistributedRuntime } from './distributed.js';

// A counter that follows a monotonic number kept elsewhere.
function follow(
  counter: Counter<string>,
  labels: Record<string, string>,
  read: () => number,
  seen: WeakMap<Counter<string>, Map<string, number>>,
): void {
  // Per counter: counters without labels would otherwise all share the key "{}".
  let values = seen.get(counter);
  if (!values) seen.set(counter, (values = new Map()));
  const key = JSON.stringify(labels);
  const now = read();
  const delta = now - (values.get(key) ?? 0);
  if (delta > 0) counter.inc(labels, delta);
  values.set(key, now);
}

// The gauges of one scrape are collected together: they share the read in flight, and a read that
// fails or outlasts timeoutMs yields undefined instead of an error.
function oneReadPerScrape<T>(read: () => Promise<T>, timeoutMs: number): () => Promise<T | undefined> {
  let inFlight: Promise<T | undefined> | undefined;
  return () =>
    (inFlight ??= new Promise<T | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      read()
        .then(
          (value) => resolve(value),
          () => resolve(undefined),
        )
        .finally(() => clearTimeout(timer));
    }).finally(() => (inFlight = undefined)));
}

export function distributedMetrics(
  d: DistributedRuntime,
  prefix = 'esp_',
  dependencyReadTimeoutMs = 1000,
): Registry {
  const registry = new Registry();
  const seen = new WeakMap<Counter<string>, Map<string, number>>();
  const cache = d.cache.stats;
  const lock = d.lock.stats;

  new Counter({
    name: `${prefix}cache_requests_total`,
    help: 'Cache lookups by tier and result',
    labelNames: ['tier', 'result'],
    registers: [registry],
    collect() {
      follow(this, { tier: 'local', result: 'hit' }, () => cache.localHits, seen);
      follow(this, { tier: 'redis', result: 'hit' }, () => cache.remoteHits, seen);
      follow(this, { tier: 'all', result: 'miss' }, () => cache.misses, seen);
      follow(this, { tier: 'all', result: 'negative_hit' }, () => cache.negativeHits, seen);
    },
  });
  new Counter({
    name: `${prefix}cache_loads_total`,
    help: 'Loader calls after a miss (database reads through the cache)',
    registers: [registry],
    collect() {
      follow(this, {}, () => cache.loads, seen);
    },
  });
  new Counter({
    name: `${prefix}lock_events_total`,
    help: 'Lock grants, contended attempts, acquisitions given up, leases lost during work',
    labelNames: ['event'],
    registers: [registry],
    collect() {
      for (const event of ['grants', 'contended', 'busy', 'lost'] as const)
        follow(this, { event }, () => lock[event], seen);
    },
  });
  new Counter({
    name: `${prefix}rate_limit_rejections_total`,
    help: 'Requests refused with 429, by limiter',
    labelNames: ['limiter'],
    registers: [registry],
    collect() {
      for (const [limiter, n] of rateLimitRefusals) follow(this, { limiter }, () => n, seen);
    },
  });
  new Gauge({
    name: `${prefix}circuit_breaker_state`,
    help: 'Circuit breaker state (1 for the current one)',
    labelNames: ['breaker', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const b of d.breakers.snapshot()) {
        for (const state of ['closed', 'open', 'half-open'])
          this.set({ breaker: b.name, state }, b.state === state ? 1 : 0);
      }
    },
  });
  new Counter({
    name: `${prefix}events_published_total`,
    help: 'Outbox rows relayed to the event bus',
    registers: [registry],
    collect() {
      follow(this, {}, () => d.relay.totals.published, seen);
    },
  });
  // Both outbox gauges come from one bounded read of the database per scrape. While the database is
  // down or slow they are left out of the scrape (not stale, and never failing it): the scrape must
  // go on answering then, because it is what tells Prometheus that the database is down.
  const relayStats = oneReadPerScrape(() => d.relay.stats(), dependencyReadTimeoutMs);
  new Gauge({
    name: `${prefix}outbox_pending`,
    help: 'Outbox rows not yet relayed (absent while the database cannot be read)',
    registers: [registry],
    async collect() {
      const stats = await relayStats();
      // remove() of the unlabelled series leaves the sample out; reset() would report 0.
      if (stats) this.set(stats.pending);
      else this.remove();
    },
  });
  new Gauge({
    name: `${prefix}outbox_lag_seconds`,
    help: 'Age of the oldest outbox row not yet relayed (absent while the database cannot be read)',
    registers: [registry],
    async collect() {
      const stats = await relayStats();
      if (stats) this.set(stats.oldestPendingAgeMs / 1000);
      else this.remove();
    },
  });
  const streamLengths = oneReadPerScrape(async () => {
    const redis = d.redis;
    const bus = d.bus as { streamKey?(s: string): string; deadLetterKey?(s: string): string };
    if (!redis || redis.status !== 'ready' || !bus.streamKey || !bus.deadLetterKey) return undefined;
    const [main, dead] = await Promise.all([
      redis.xlen(bus.streamKey(USER_EVENTS_STREAM)),
      redis.xlen(bus.deadLetterKey(USER_EVENTS_STREAM)),
    ]);
    return { main, dead };
  }, dependencyReadTimeoutMs);
  new Gauge({
    name: `${prefix}event_stream_length`,
    help: 'Entries in the domain event stream and its dead-letter stream (Redis mode)',
    labelNames: ['stream'],
    registers: [registry],
    async collect() {
      // Like the outbox gauges: a Redis that cannot answer leaves the series out, never the scrape.
      const lengths = await streamLengths();
      this.reset();
      if (!lengths) return;
      this.set({ stream: USER_EVENTS_STREAM }, lengths.main);
      this.set({ stream: `${USER_EVENTS_STREAM}:dead` }, lengths.dead);
    },
  });
  return registry;
}
