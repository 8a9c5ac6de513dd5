// Rate limits on a real Redis: exact counting across processes, insurance while Redis is down.
import { afterAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { createRedisConnection, settingsFromUrl } from '../../src/infrastructure/redis/connection.js';
import { RedisRateLimiterFactory, rateLimitHeaders } from '../../src/infrastructure/redis/rate-limit.js';
import { REDIS_URL, figure, redisCtl, startWorker, testPrefix, waitFor } from './support.js';

const clients: Redis[] = [];
afterAll(() => clients.forEach((c) => c.disconnect()));

describe('RedisRateLimiterFactory', () => {
  it('4 processes hammering one key accept exactly the allowed points of the window', async () => {
    const prefix = testPrefix('rl');
    const points = 500;
    const attempts = 400;
    const t0 = performance.now();
    const workers = Array.from({ length: 4 }, () =>
      startWorker('rl-hammer', { PREFIX: prefix, POINTS: String(points), ATTEMPTS: String(attempts) }),
    );
    await Promise.all(workers.map((w) => w.next()));
    workers.forEach((w) => w.send({ go: true }));
    const results = (await Promise.all(workers.map((w) => w.next()))) as {
      allowed: number;
      refused: number;
      errors: number;
    }[];
    const wallMs = Math.round(performance.now() - t0);
    const allowed = results.reduce((n, r) => n + r.allowed, 0);
    const refused = results.reduce((n, r) => n + r.refused, 0);
    const errors = results.reduce((n, r) => n + r.errors, 0);
    figure('rate limit 4 processes', {
      points,
      attempts: 4 * attempts,
      allowed,
      refused,
      errors,
      perProcess: results.map((r) => r.allowed),
      wallMs,
    });
    expect(errors).toBe(0);
    expect(allowed).toBe(points);
    expect(refused).toBe(4 * attempts - points);
  });

  it('with Redis stopped, callers get decisions from the insurance limiter and never an error', async () => {
    const client = createRedisConnection(settingsFromUrl(REDIS_URL), 'rl-test');
    clients.push(client);
    await waitFor('redis ready', 5000, () => client.status === 'ready');
    const limiter = new RedisRateLimiterFactory(client, testPrefix('rl-down')).create({
      keyPrefix: 'down',
      points: 20,
      durationSeconds: 60,
    });
    expect((await limiter.consume('k')).remainingPoints).toBe(19);

    redisCtl('stop');
    try {
      await waitFor('client to notice', 5000, () => client.status !== 'ready');
      let allowed = 0;
      let refused = 0;
      let errors = 0;
      const t0 = performance.now();
      for (let i = 0; i < 1000; i++) {
        try {
          await limiter.consume('k');
          allowed++;
        } catch (e) {
          if (e instanceof Error) errors++;
          else refused++;
        }
      }
      const perCallUs = Math.round(((performance.now() - t0) / 1000) * 1000);
      figure('rate limit with redis stopped', {
        calls: 1000,
        allowed,
        refused,
        errors,
        perCallMicroseconds: perCallUs,
      });
      expect(errors).toBe(0);
      // The insurance limiter enforces the same points on its own count.
      expect(allowed).toBe(20);
      expect(refused).toBe(980);
    } finally {
      redisCtl('start');
    }
    await waitFor('client to reconnect', 10_000, () => client.status === 'ready');
    // Back on Redis: the key's count there is what Redis saw before the outage (and the server
    // restarted empty here, so a fresh window).
    expect((await limiter.consume('k2')).remainingPoints).toBe(19);
  });

  it('computes RateLimit-* and Retry-After headers', () => {
    expect(
      rateLimitHeaders(
        { remainingPoints: 3, msBeforeNext: 1500 },
        { points: 10, durationSeconds: 60 },
        false,
      ),
    ).toEqual({
      'RateLimit-Limit': '10',
      'RateLimit-Remaining': '3',
      'RateLimit-Reset': '2',
      'RateLimit-Policy': '10;w=60',
    });
    expect(
      rateLimitHeaders({ remainingPoints: 0, msBeforeNext: 10 }, { points: 10, durationSeconds: 60 }, true)[
        'Retry-After'
      ],
    ).toBe('1');
  });
});
