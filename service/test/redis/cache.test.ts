// The two-tier cache on a real Redis: single flight, negative entries, errors, cross-replica invalidation.
import { afterAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { RedisBroadcaster } from '../../src/infrastructure/redis/broadcast.js';
import { TieredCache } from '../../src/infrastructure/redis/cache.js';
import { createRedisConnection, settingsFromUrl } from '../../src/infrastructure/redis/connection.js';
import { REDIS_URL, figure, sleep, testPrefix, waitFor } from './support.js';

const clients: Redis[] = [];
afterAll(() => clients.forEach((c) => c.disconnect()));

// A replica: its own connections, the shared key prefix.
async function replica(prefix: string): Promise<TieredCache> {
  const s = settingsFromUrl(REDIS_URL);
  const main = createRedisConnection(s, 'cache');
  const sub = createRedisConnection(s, 'cache-sub');
  clients.push(main, sub);
  const cache = new TieredCache({
    keyPrefix: prefix,
    redis: main,
    broadcaster: new RedisBroadcaster(main, sub),
    localTtlMs: 60_000,
  });
  await cache.start();
  return cache;
}

describe('TieredCache', () => {
  it('500 concurrent gets for a cold key call the loader once per process', async () => {
    const prefix = testPrefix('cache-sf');
    const a = await replica(prefix);
    const b = await replica(prefix);
    let loadsA = 0;
    let loadsB = 0;
    const slowLoad = (count: () => void) => async () => {
      count();
      await sleep(50);
      return { id: 'u1', name: 'Ada' };
    };
    const t0 = performance.now();
    const [ra, rb] = await Promise.all([
      Promise.all(
        Array.from({ length: 500 }, () =>
          a.getOrLoad(
            'user:u1',
            slowLoad(() => loadsA++),
          ),
        ),
      ),
      Promise.all(
        Array.from({ length: 500 }, () =>
          b.getOrLoad(
            'user:u1',
            slowLoad(() => loadsB++),
          ),
        ),
      ),
    ]);
    const ms = Math.round(performance.now() - t0);
    figure('cache single flight', {
      concurrentGetsPerProcess: 500,
      processes: 2,
      loaderCallsA: loadsA,
      loaderCallsB: loadsB,
      ms,
    });
    expect(loadsA).toBe(1);
    expect(loadsB).toBe(1);
    expect(ra.every((u) => u?.name === 'Ada') && rb.every((u) => u?.name === 'Ada')).toBe(true);
    // A third replica finds it in Redis without loading.
    const c = await replica(prefix);
    let loadsC = 0;
    expect(
      await c.getOrLoad(
        'user:u1',
        slowLoad(() => loadsC++),
      ),
    ).toEqual({ id: 'u1', name: 'Ada' });
    expect(loadsC).toBe(0);
  });

  it('caches "not found" briefly and never caches an error', async () => {
    const cache = await replica(testPrefix('cache-neg'));
    let calls = 0;
    const missing = async () => (calls++, undefined);
    expect(await cache.getOrLoad('user:none', missing, { negativeTtlSeconds: 1 })).toBeUndefined();
    expect(await cache.getOrLoad('user:none', missing, { negativeTtlSeconds: 1 })).toBeUndefined();
    expect(calls).toBe(1);
    expect(cache.stats.negativeHits).toBe(1);

    let attempts = 0;
    const failing = async () => {
      attempts++;
      throw new Error('database down');
    };
    await expect(cache.getOrLoad('user:err', failing)).rejects.toThrow('database down');
    await expect(cache.getOrLoad('user:err', failing)).rejects.toThrow('database down');
    expect(attempts).toBe(2);
    expect(await cache.getOrLoad('user:err', async () => 'ok')).toBe('ok');
  });

  it('an invalidation on one replica is seen by another within 200 ms', async () => {
    const prefix = testPrefix('cache-inv');
    const a = await replica(prefix);
    const b = await replica(prefix);
    const samples: number[] = [];
    for (let i = 0; i < 20; i++) {
      const key = `user:${i}`;
      await a.set(key, { v: 1 }, 60);
      expect(await b.get(key)).toEqual({ v: 1 });
      expect(b.hasLocal(key)).toBe(true);
      const t0 = performance.now();
      await a.delete(key);
      await waitFor('invalidation on b', 2000, () => !b.hasLocal(key));
      samples.push(performance.now() - t0);
      expect(await b.get(key)).toBeUndefined();
    }
    samples.sort((x, y) => x - y);
    figure('cache cross-replica invalidation', {
      samples: samples.length,
      p50Ms: Number(samples[10]!.toFixed(2)),
      maxMs: Number(samples[samples.length - 1]!.toFixed(2)),
    });
    expect(samples[samples.length - 1]!).toBeLessThan(200);

    // By prefix and by tag too.
    await a.set('list:p1', [1], 60, ['users']);
    await a.set('list:p2', [2], 60, ['users']);
    await b.get('list:p1');
    await b.get('list:p2');
    await a.invalidateTag('users');
    await waitFor('tag invalidation on b', 200, () => !b.hasLocal('list:p1') && !b.hasLocal('list:p2'));
    expect(await b.get('list:p2')).toBeUndefined();
    await a.set('page:1', 1, 60);
    await b.get('page:1');
    expect(await a.deleteByPrefix('page:')).toBe(1);
    await waitFor('prefix invalidation on b', 200, () => !b.hasLocal('page:1'));
  });

  it('CACHE_LOCAL_TTL_MS=0 means no in-process tier (every hit is a Redis round trip)', async () => {
    const main = createRedisConnection(settingsFromUrl(REDIS_URL), 'cache-nolocal');
    clients.push(main);
    const cache = new TieredCache({ keyPrefix: testPrefix('cache-nolocal'), redis: main, localTtlMs: 0 });
    await cache.set('k', 1, 60);
    expect(await cache.get('k')).toBe(1);
    expect(cache.hasLocal('k')).toBe(false);
    expect(cache.stats.remoteHits).toBe(1);
  });

  it('a load that races with an invalidation is returned but not stored', async () => {
    const cache = await replica(testPrefix('cache-race'));
    const loading = cache.getOrLoad('user:r', async () => {
      await sleep(30);
      return 'old';
    });
    await sleep(5);
    await cache.delete('user:r');
    expect(await loading).toBe('old');
    expect(await cache.get('user:r')).toBeUndefined();
  });
});
