// The Redis status probe, and the breaker that makes a dead Redis cost microseconds.
import { afterAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import {
  createRedisConnection,
  guardOfflineQueue,
  RedisUnavailableError,
  settingsFromUrl,
} from '../../src/infrastructure/redis/connection.js';
import { RedisLock } from '../../src/infrastructure/redis/lock.js';
import { parseInfo, probeRedisStatus } from '../../src/infrastructure/redis/status.js';
import { retryDelay } from '../../src/infrastructure/resilience/backoff.js';
import { BreakerOpenError, BreakerRegistry } from '../../src/infrastructure/resilience/breaker.js';
import { REDIS_URL, figure, redisCtl, testPrefix, waitFor } from './support.js';

const clients: Redis[] = [];
const registry = new BreakerRegistry();
afterAll(() => {
  registry.shutdown();
  clients.forEach((c) => c.disconnect());
});

describe('Redis status and breaker', () => {
  it('reports state, latency, version, memory and clients', async () => {
    const c = createRedisConnection(settingsFromUrl(REDIS_URL), 'status');
    clients.push(c);
    await waitFor('ready', 5000, () => c.status === 'ready');
    const s = await probeRedisStatus(c);
    expect(s).toMatchObject({ configured: true, state: 'ready' });
    expect(s.version).toMatch(/^\d+\.\d+/);
    expect(s.pingMs).toBeGreaterThanOrEqual(0);
    expect(s.usedMemoryBytes).toBeGreaterThan(0);
    expect(s.connectedClients).toBeGreaterThanOrEqual(1);
    expect(await probeRedisStatus(undefined)).toEqual({ configured: false, state: 'embedded' });
    expect(parseInfo('# Server\r\nredis_version:7.0.15\r\n\r\nx:1')).toEqual({
      redis_version: '7.0.15',
      x: '1',
    });
  });

  it('with Redis stopped, locked calls fail in microseconds and the breaker opens; it closes again after', async () => {
    const c = createRedisConnection({ ...settingsFromUrl(REDIS_URL), maxRetryDelayMs: 200 }, 'breaker');
    clients.push(c);
    await waitFor('ready', 5000, () => c.status === 'ready');
    const breaker = registry.create('redis-test', {
      isAvailable: () => c.status === 'ready',
      resetTimeoutMs: 300,
      volumeThreshold: 3,
    });
    const states: string[] = [];
    breaker.onStateChange((s) => states.push(s));
    const lock = new RedisLock(c, testPrefix('breaker'), breaker);
    expect(await lock.acquire('r', { retries: 0 })).not.toBeNull();

    redisCtl('stop');
    try {
      await waitFor('client to notice', 5000, () => c.status !== 'ready');
      const times: number[] = [];
      let open = 0;
      for (let i = 0; i < 200; i++) {
        const t0 = performance.now();
        await lock
          .acquire('r2', { retries: 0 })
          .catch((e: Error) => (e instanceof BreakerOpenError ? open++ : undefined));
        times.push((performance.now() - t0) * 1000);
      }
      times.sort((x, y) => x - y);
      figure('breaker with redis stopped', {
        calls: 200,
        refusedWhileOpen: open,
        p50Microseconds: Math.round(times[100]!),
        maxMicroseconds: Math.round(times[199]!),
        state: breaker.state,
      });
      expect(breaker.state).toBe('open');
      expect(open).toBeGreaterThan(150);
      expect(breaker.snapshot().rejects).toBeGreaterThan(0);
      expect(() => guardOfflineQueue(c, 0)).toThrow(RedisUnavailableError);
    } finally {
      redisCtl('start');
    }
    await waitFor('reconnect', 10_000, () => c.status === 'ready');
    await waitFor('breaker closed', 5000, async () => {
      await lock.acquire(`r3-${Math.random()}`, { retries: 0 }).catch(() => undefined);
      return breaker.state === 'closed';
    });
    expect(states).toEqual(expect.arrayContaining(['open', 'half-open', 'closed']));
    expect(registry.snapshot().map((s) => s.name)).toContain('redis-test');
  });

  it('reconnect delay grows exponentially to the cap, with jitter', () => {
    expect(retryDelay(1, 2000)).toBeGreaterThanOrEqual(50);
    expect(retryDelay(1, 2000)).toBeLessThanOrEqual(60);
    expect(retryDelay(30, 2000)).toBeGreaterThanOrEqual(2000);
    expect(retryDelay(30, 2000)).toBeLessThanOrEqual(2400);
  });
});
