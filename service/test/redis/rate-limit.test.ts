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
    const prefix = testPrefix('rl-down');
    const spec = { keyPrefix: 'down', points: 20, durationSeconds: 60 };
    const limiter = new RedisRateLimiterFactory(client, prefix).create(spec);
    // Three replicas of a fleet that set RATE_LIMIT_INSURANCE_DIVISOR to its replica count: each
    // has its own process memory, so each gets its own factory and insurance limiter.
    const fleet = [1, 2, 3].map(() =>
      new RedisRateLimiterFactory(client, prefix, { insuranceDivisor: 3 }).create(spec),
    );
    expect((await limiter.consume('k')).remainingPoints).toBe(19);

    async function decisions(l: typeof limiter, calls: number) {
      const counts = { allowed: 0, refused: 0, errors: 0 };
      for (let i = 0; i < calls; i++) {
        try {
          await l.consume('k');
          counts.allowed++;
        } catch (e) {
          if (e instanceof Error) counts.errors++;
          else counts.refused++;
        }
      }
      return counts;
    }

    redisCtl('stop');
    try {
      await waitFor('client to notice', 5000, () => client.status !== 'ready');
      const t0 = performance.now();
      const alone = await decisions(limiter, 1000);
      const perCallUs = Math.round(((performance.now() - t0) / 1000) * 1000);
      const perReplica = await Promise.all(fleet.map((l) => decisions(l, 100)));
      const fleetAllowed = perReplica.reduce((n, c) => n + c.allowed, 0);
      figure('rate limit with redis stopped', {
        calls: 1000,
        ...alone,
        perCallMicroseconds: perCallUs,
        fleetOfThreeDivisor3Allowed: fleetAllowed,
        fleetOfThreeWithoutDivisorWouldAllow: 3 * spec.points,
      });
      expect(alone.errors).toBe(0);
      // The insurance limiter enforces the same points on its own count.
      expect(alone.allowed).toBe(20);
      expect(alone.refused).toBe(980);
      // With the divisor each replica allows ceil(20 / 3) = 7, so the fleet stays near the limit
      // instead of allowing three times it.
      expect(perReplica.map((c) => c.allowed)).toEqual([7, 7, 7]);
      expect(perReplica.every((c) => c.errors === 0)).toBe(true);
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
