// The whole service on Redis: two replicas sharing PostgreSQL and Redis. Users cache across
// replicas, then Redis stopped under load: reads answer from the database, rate limits fall back to
// insurance, locks answer 503, events wait in the outbox, /live stays up; Redis back: all recovers.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestService } from '../support/harness.js';
import { figure, redisCtl, startTwoReplicas, testPrefix, waitFor, type Replicas } from './support.js';

interface UserBody {
  id: string;
  name: string;
  version: number;
}

describe('service on Redis, two replicas', () => {
  let a: TestService;
  let b: TestService;
  let token: string;
  let replicas: Replicas | undefined;
  const prefix = testPrefix('svc');

  beforeAll(async () => {
    replicas = await startTwoReplicas(prefix, { OUTBOX_RELAY_INTERVAL_MS: '100' });
    ({ a, b } = replicas);
    token = await a.login();
  });
  afterAll(async () => {
    await replicas?.stop();
  });

  const createUser = (s: TestService, email: string) =>
    s.request<UserBody>('POST', '/api/v1/users', {
      token,
      body: { email, name: 'Ann', password: 'Correct-Horse-9' },
    });

  it('500 concurrent requests for a cold user: one database read per replica; a write on one replica is not served stale by the other after 200 ms', async () => {
    const u = await createUser(a, 'cold@example.com');
    expect(u.status).toBe(201);
    // Authentication reads through the same cache: warm it on both replicas, so the loads counted
    // below are the user's.
    for (const s of [a, b]) expect((await s.request('GET', '/api/v1/auth/me', { token })).status).toBe(200);
    const loads = [a, b].map((s) => s.composition.distributed.cache.stats.loads);
    const t0 = performance.now();
    const results = await Promise.all(
      [a, b].flatMap((s) =>
        Array.from({ length: 500 }, () =>
          s.request<UserBody>('GET', `/api/v1/users/${u.body.id}`, { token }),
        ),
      ),
    );
    const ms = Math.round(performance.now() - t0);
    const reads = [a, b].map((s, i) => s.composition.distributed.cache.stats.loads - loads[i]!);
    figure('users cache 500 concurrent per replica', {
      requestsPerReplica: 500,
      databaseReadsA: reads[0],
      databaseReadsB: reads[1],
      non200: results.filter((r) => r.status !== 200).length,
      ms,
    });
    expect(results.every((r) => r.status === 200 && r.body.name === 'Ann')).toBe(true);
    // One replica may find the user in Redis already (filled by the other): 0 or 1 reads each.
    expect(reads.every((n) => n <= 1)).toBe(true);
    expect(reads[0]! + reads[1]!).toBeGreaterThanOrEqual(1);

    const samples: number[] = [];
    let version = 1;
    for (let i = 0; i < 10; i++) {
      expect((await b.request<UserBody>('GET', `/api/v1/users/${u.body.id}`, { token })).status).toBe(200);
      const name = `Name${i}`;
      const w = await a.request<UserBody>('PATCH', `/api/v1/users/${u.body.id}`, {
        token,
        headers: { 'if-match': `"${version}"` },
        body: { name },
      });
      expect(w.status).toBe(200);
      version = w.body.version;
      const t1 = performance.now();
      await waitFor(
        'fresh read on b',
        2000,
        async () =>
          (await b.request<UserBody>('GET', `/api/v1/users/${u.body.id}`, { token })).body.name === name,
      );
      samples.push(performance.now() - t1);
    }
    samples.sort((x, y) => x - y);
    figure('users cache cross-replica freshness', {
      writes: samples.length,
      p50Ms: Number(samples[5]!.toFixed(1)),
      maxMs: Number(samples[9]!.toFixed(1)),
    });
    expect(samples[9]!).toBeLessThan(200);
  });

  it('the login limiters of the core count failures in Redis, shared by both replicas', async () => {
    const bad = { email: 'nobody@example.com', password: 'Wrong-Passw0rd!' };
    for (const s of [a, b])
      expect((await s.request('POST', '/api/v1/auth/login', { body: bad })).status).toBe(401);
    const redis = a.composition.distributed.redis!;
    const keys = await redis.keys(`${prefix}rl:login_fail_*`);
    expect(keys.length).toBeGreaterThanOrEqual(2);
    const perIp = keys.find((k) => k.includes('login_fail_ip_per_day'));
    // One counter for both replicas: two failures, one from each.
    expect(Number(await redis.get(perIp!))).toBe(2);
  });

  it('Redis stopped under load: no 5xx on reads, insurance rate limits, 503 locks, events kept; all recovers', async () => {
    const u = await createUser(a, 'degrade@example.com');
    const lockOk = await a.request<{ token: string }>('POST', '/distributed/lock/job', {
      token,
      body: { ttlMs: 2000 },
    });
    expect(lockOk.status).toBe(201);

    redisCtl('stop');

    try {
      const start = performance.now();
      const reads = await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          (i % 2 ? a : b).request('GET', `/api/v1/users/${u.body.id}`, { token }),
        ),
      );
      const readMs = Math.round(performance.now() - start);
      const limited = await a.request('GET', '/distributed/rate-limit/test');
      const lockTimes: number[] = [];
      const lockCodes: number[] = [];
      for (let i = 0; i < 20; i++) {
        const t = performance.now();
        lockCodes.push(
          (await a.request('POST', '/distributed/lock/job2', { token, body: { retries: 0 } })).status,
        );
        lockTimes.push(performance.now() - t);
      }
      const written = await createUser(a, 'during-outage@example.com');
      // A cache write that cannot be stored is not acknowledged.
      const cached = await a.request('POST', '/distributed/cache/during-outage', {
        token,
        body: { value: 1, ttlSeconds: 3600 },
      });
      const live = await b.request('GET', '/live');
      const health = await b.request<{ checks: Record<string, { status: string }> }>('GET', '/health', {
        token,
      });
      const pending = (await a.composition.distributed.relay.stats()).pending;
      const outage = {
        reads: reads.length,
        readErrors5xx: reads.filter((r) => r.status >= 500).length,
        readMs,
        rateLimitStatus: limited.status,
        rateLimitHeader: limited.headers.get('ratelimit-limit'),
        lockStatuses: [...new Set(lockCodes)],
        lock503MaxMs: Number(Math.max(...lockTimes).toFixed(1)),
        breaker: a.composition.distributed.redisBreaker?.state,
        writeStatus: written.status,
        cacheWriteStatus: cached.status,
        live: live.status,
        healthRedis: health.body.checks.redis?.status,
        outboxPending: pending,
      };
      figure('service with redis stopped', outage);
      expect(reads.every((r) => r.status === 200)).toBe(true);
      expect(limited.status).toBe(200);
      expect(lockCodes.every((c) => c === 503)).toBe(true);
      expect(written.status).toBe(201);
      expect(cached.status).toBe(503);
      expect(cached.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(live.status).toBe(200);
      // Redis is not critical by default: the replica reports the outage but stays in rotation.
      expect(health.status).toBe(200);
      expect(health.body.checks.redis?.status).toBe('down');
      expect(pending).toBeGreaterThanOrEqual(1);
    } finally {
      redisCtl('start');
    }
    const t0 = performance.now();
    await waitFor(
      'lock service back',
      15_000,
      async () =>
        (await a.request('POST', '/distributed/lock/job3', { token, body: { retries: 0 } })).status === 201,
    );
    const lockBackMs = Math.round(performance.now() - t0);
    await waitFor(
      'outbox drained',
      15_000,
      async () =>
        (await a.composition.distributed.relay.stats()).pending === 0 &&
        (await b.composition.distributed.relay.stats()).pending === 0,
    );
    const drainedMs = Math.round(performance.now() - t0);
    const status = await a.request<{ state: string; breakers: { state: string }[] }>(
      'GET',
      '/distributed/redis/status',
      { token },
    );
    figure('service after redis returned', {
      lockBackMs,
      outboxDrainedMs: drainedMs,
      state: status.body.state,
      breakers: status.body.breakers.map((x) => x.state),
    });
    expect(status.body.state).toBe('ready');
  });
});
