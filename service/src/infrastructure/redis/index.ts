// Public entry of the Redis-backed primitives, usable without the HTTP app (the benchmark harness
// builds them against a Redis URL): factories that own their connections and close them.
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { LimiterSpec } from '../rate-limit/rate-limiter.js';
import { BreakerRegistry } from '../resilience/breaker.js';
import { RedisBroadcaster } from './broadcast.js';
import { TieredCache, type TieredCacheOptions } from './cache.js';
import { closeQuietly, createRedisConnection, settingsFromUrl } from './connection.js';
import { RedisLock } from './lock.js';
import { RedisRateLimiterFactory } from './rate-limit.js';

export * from './broadcast.js';
export * from './cache.js';
export * from './connection.js';
export * from './event-bus.js';
export * from './fencing.js';
export * from './lock.js';
export * from './rate-limit.js';
export * from './status.js';
export * from '../resilience/breaker.js';

export interface Closable<T> {
  value: T;
  close(): Promise<void>;
}

const ready = (c: ReturnType<typeof createRedisConnection>) =>
  c.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => c.once('ready', () => resolve()));

// A lock on its own connection. keyPrefix defaults to 'esp:' like REDIS_KEY_PREFIX.
export async function createLockForUrl(redisUrl: string, keyPrefix = 'esp:'): Promise<Closable<RedisLock>> {
  const c = createRedisConnection(settingsFromUrl(redisUrl, keyPrefix), 'lock');
  await ready(c);
  return { value: new RedisLock(c, keyPrefix), close: () => closeQuietly(c) };
}

export async function createRateLimiterForUrl(
  redisUrl: string,
  spec: LimiterSpec,
  keyPrefix = 'esp:',
): Promise<Closable<RateLimiterAbstract>> {
  const c = createRedisConnection(settingsFromUrl(redisUrl, keyPrefix), 'rate-limit');
  await ready(c);
  return { value: new RedisRateLimiterFactory(c, keyPrefix).create(spec), close: () => closeQuietly(c) };
}

// The two-tier cache with cross-replica invalidation (two connections: commands and subscriber).
export async function createCacheForUrl(
  redisUrl: string,
  options: Partial<TieredCacheOptions> = {},
  keyPrefix = 'esp:',
): Promise<Closable<TieredCache>> {
  const s = settingsFromUrl(redisUrl, keyPrefix);
  const main = createRedisConnection(s, 'cache');
  const sub = createRedisConnection(s, 'cache-sub');
  await Promise.all([ready(main), ready(sub)]);
  const breaker = new BreakerRegistry().create('redis', { isAvailable: () => main.status === 'ready' });
  const cache = new TieredCache({
    keyPrefix,
    redis: main,
    breaker,
    broadcaster: new RedisBroadcaster(main, sub),
    ...options,
  });
  await cache.start();
  return {
    value: cache,
    close: async () => {
      await cache.stop();
      breaker.shutdown();
      await Promise.all([closeQuietly(main), closeQuietly(sub)]);
    },
  };
}

// The three operations hack/bench/src/harness/redis-primitives.ts measures, ready to drive.
export async function createBenchPrimitives(redisUrl: string): Promise<{
  lockCycle(): Promise<unknown>;
  rateLimitConsume(): Promise<unknown>;
  cacheGet(): Promise<unknown>;
  close(): Promise<void>;
}> {
  const prefix = `bench:${process.pid}:`;
  const lock = await createLockForUrl(redisUrl, prefix);
  // Points high enough that the benchmark measures consumes, not refusals.
  const limiter = await createRateLimiterForUrl(
    redisUrl,
    { keyPrefix: 'bench', points: 1e9, durationSeconds: 60 },
    prefix,
  );
  // The local tier off: a hit then measures the Redis round trip, comparable with raw GET.
  const cache = await createCacheForUrl(redisUrl, { localTier: false }, prefix);
  await cache.value.set('bench:hit', 'x'.repeat(200), 3600);
  let n = 0;
  return {
    lockCycle: async () => {
      const grant = await lock.value.acquire(`r${n++ % 1024}`, { ttlMs: 5000, retries: 0 });
      if (grant) await lock.value.release(grant);
      return grant;
    },
    rateLimitConsume: () => limiter.value.consume('bench-client'),
    cacheGet: () => cache.value.get('bench:hit'),
    close: async () => {
      await Promise.all([lock.close(), limiter.close(), cache.close()]);
    },
  };
}
