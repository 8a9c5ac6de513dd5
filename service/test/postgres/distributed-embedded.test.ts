// The distributed features in the embedded mode (no Redis): the same endpoints and guarantees on the
// in-process implementations, on SQLite and PostgreSQL. The Redis mode is tested by make test-redis.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { dialects, startService, type TestService } from '../support/harness.js';

interface UserBody {
  id: string;
  name: string;
  version: number;
}

const waitFor = async (what: string, check: () => Promise<boolean>) => {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe.each(dialects)('distributed features, embedded, on %s', (dialect) => {
  let s: TestService;
  let admin: string;
  let flagsFile: string;

  beforeAll(async () => {
    flagsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'esp-flags-')), 'flags.json');
    fs.writeFileSync(flagsFile, JSON.stringify({ cache: true, beta: false }));
    s = await startService(dialect, {
      FEATURE_FLAGS_FILE: flagsFile,
      EMAIL_DOMAIN_ALLOWLIST: 'example.test',
    });
    admin = await s.login();
  });
  afterAll(async () => s.stop());

  const create = (email: string) =>
    s.request<UserBody>('POST', '/api/v1/users', {
      token: admin,
      body: { email, name: 'Ann', password: 'Correct-Horse-9' },
    });

  it('serves users through the cache, invalidates on writes, and caches "not found" briefly', async () => {
    const cache = s.composition.distributed.cache;
    const u = await create('cached@example.test');
    const loads = cache.stats.loads;
    for (let i = 0; i < 3; i++)
      expect(
        (await s.request<UserBody>('GET', `/api/v1/users/${u.body.id}`, { token: admin })).body.name,
      ).toBe('Ann');
    expect(cache.stats.loads - loads).toBe(1);

    const patched = await s.request<UserBody>('PATCH', `/api/v1/users/${u.body.id}`, {
      token: admin,
      headers: { 'if-match': '"1"' },
      body: { name: 'Bea' },
    });
    expect(patched.status).toBe(200);
    expect((await s.request<UserBody>('GET', `/api/v1/users/${u.body.id}`, { token: admin })).body.name).toBe(
      'Bea',
    );

    const list1 = await s.request<{ total: number }>('GET', '/api/v1/users', { token: admin });
    await create('second@example.test');
    const list2 = await s.request<{ total: number }>('GET', '/api/v1/users', { token: admin });
    expect(list2.body.total).toBe(list1.body.total + 1);

    const missing = '00000000-0000-4000-8000-000000000000';
    const before = cache.stats.loads;
    expect((await s.request('GET', `/api/v1/users/${missing}`, { token: admin })).status).toBe(404);
    expect((await s.request('GET', `/api/v1/users/${missing}`, { token: admin })).status).toBe(404);
    expect(cache.stats.loads - before).toBe(1);

    expect(
      (
        await s.request('DELETE', `/api/v1/users/${u.body.id}`, {
          token: admin,
          headers: { 'if-match': '"2"' },
        })
      ).status,
    ).toBe(204);
    expect((await s.request('GET', `/api/v1/users/${u.body.id}`, { token: admin })).status).toBe(404);
  });

  it('writes an outbox row in the same transaction as each change, and relays it', async () => {
    const { OutboxEvent } = s.composition.database.sequelize.models as Record<
      string,
      { findAll(o: object): Promise<{ get(k: string): unknown }[]> }
    >;
    const u = await create('events@example.test');
    await waitFor('relay', async () => {
      const rows = await OutboxEvent!.findAll({ where: {}, raw: false });
      return rows
        .filter((r) => String(r.get('payload')).includes(u.body.id))
        .every((r) => r.get('publishedAt') !== null);
    });
    const rows = (await OutboxEvent!.findAll({})).filter((r) => String(r.get('payload')).includes(u.body.id));
    expect(rows.map((r) => r.get('type'))).toEqual(['user.created']);

    // A write refused by a business rule leaves no event.
    const count = (await OutboxEvent!.findAll({})).length;
    expect((await create('events@example.test')).status).toBe(409);
    expect((await OutboxEvent!.findAll({})).length).toBe(count);
  });

  it('gives parallel writers one event per committed change and none for a refused one, relayed in order', async () => {
    const { OutboxEvent } = s.composition.database.sequelize.models as Record<
      string,
      { findAll(o: object): Promise<{ get(k: string): unknown }[]> }
    >;
    // 20 addresses, 5 of them twice: 20 creates commit, 5 are refused as duplicates, all at once.
    const emails = Array.from({ length: 25 }, (_, i) => `parallel-${i % 20}@example.test`);
    const answers = await Promise.all(emails.map((email) => create(email)));
    const created = answers.filter((a) => a.status === 201).map((a) => a.body.id);
    expect(created).toHaveLength(20);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(5);
    const ours = async () =>
      (await OutboxEvent!.findAll({ order: [['seq', 'ASC']] })).filter((r) =>
        created.some((id) => String(r.get('payload')).includes(id)),
      );
    await waitFor('the relay', async () => (await ours()).every((r) => r.get('publishedAt') !== null));
    const rows = await ours();
    expect(rows.map((r) => r.get('type'))).toEqual(created.map(() => 'user.created'));
    expect(new Set(rows.map((r) => JSON.parse(String(r.get('payload'))).id as string))).toEqual(
      new Set(created),
    );
    // Relayed in the order they were written: publication times follow the outbox order.
    const published = rows.map((r) => new Date(r.get('publishedAt') as string).getTime());
    expect(published).toEqual([...published].sort((a, b) => a - b));
  });

  it('exposes the live flags and follows the file', async () => {
    const first = await s.request<{ flags: Record<string, boolean>; revision: string }>(
      'GET',
      '/api/v1/flags',
    );
    expect(first.body.flags).toEqual({ rateLimit: true, cache: true, authCache: true, beta: false });
    fs.writeFileSync(flagsFile, JSON.stringify({ cache: true, beta: true }));
    s.composition.distributed.flags.reload();
    const second = await s.request<{ flags: Record<string, boolean>; revision: string }>(
      'GET',
      '/api/v1/flags',
    );
    expect(second.body.flags.beta).toBe(true);
    expect(second.body.revision).not.toBe(first.body.revision);
  });

  it('locks: grant with a fencing number, 409 while held, release only with the token; admin only', async () => {
    const first = await s.request<{ token: string; fence: number }>('POST', '/distributed/lock/report', {
      token: admin,
      body: { ttlMs: 5000 },
    });
    expect(first.status).toBe(201);
    const busy = await s.request('POST', '/distributed/lock/report', { token: admin, body: { retries: 0 } });
    expect(busy.status).toBe(409);
    const wrong = await s.request('DELETE', '/distributed/lock/report', {
      token: admin,
      body: { token: 'a'.repeat(32) },
    });
    expect(wrong.status).toBe(409);
    expect(
      (
        await s.request('DELETE', '/distributed/lock/report', {
          token: admin,
          body: { token: first.body.token },
        })
      ).status,
    ).toBe(204);
    const again = await s.request<{ fence: number }>('POST', '/distributed/lock/report', {
      token: admin,
      body: { retries: 0 },
    });
    expect(again.body.fence).toBe(first.body.fence + 1);

    await create('plain@example.test');
    const user = await s.login('plain@example.test', 'Correct-Horse-9');
    expect((await s.request('POST', '/distributed/lock/other', { token: user, body: {} })).status).toBe(403);
    expect((await s.request('POST', '/distributed/lock/other', { body: {} })).status).toBe(401);
  });

  it('cache endpoints with TTL and size limits', async () => {
    expect(
      (
        await s.request('POST', '/distributed/cache/greeting', {
          token: admin,
          body: { value: { hi: 1 }, ttlSeconds: 60 },
        })
      ).status,
    ).toBe(201);
    expect((await s.request('GET', '/distributed/cache/greeting', { token: admin })).body).toEqual({
      key: 'greeting',
      value: { hi: 1 },
    });
    const big = await s.request('POST', '/distributed/cache/big', {
      token: admin,
      body: { value: 'x'.repeat(70_000) },
    });
    expect(big.status).toBe(413);
    expect(
      (
        await s.request('POST', '/distributed/cache/t', {
          token: admin,
          body: { value: 1, ttlSeconds: 10 ** 9 },
        })
      ).status,
    ).toBe(400);
    expect(
      (await s.request('POST', '/distributed/cache/bad key', { token: admin, body: { value: 1 } })).status,
    ).toBe(400);
    expect((await s.request('DELETE', '/distributed/cache/greeting', { token: admin })).status).toBe(204);
    expect((await s.request('GET', '/distributed/cache/greeting', { token: admin })).status).toBe(404);
  });

  it('events, status and the demo rate limit', async () => {
    const ev = await s.request<{ id: string }>('POST', '/distributed/events/audit', {
      token: admin,
      body: { type: 'audit.note', payload: { a: 1 } },
    });
    expect(ev.status).toBe(202);
    const status = await s.request<{ mode: string; configured: boolean }>(
      'GET',
      '/distributed/redis/status',
      { token: admin },
    );
    expect(status.body).toMatchObject({ mode: 'embedded', configured: false });

    const codes: number[] = [];
    let last: Awaited<ReturnType<TestService['request']>> | undefined;
    for (let i = 0; i < 11; i++) {
      last = await s.request('GET', '/distributed/rate-limit/test');
      codes.push(last.status);
    }
    expect(codes.filter((c) => c === 200)).toHaveLength(10);
    expect(codes[10]).toBe(429);
    expect(last!.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(last!.headers.get('ratelimit-limit')).toBe('10');
    expect(last!.headers.get('ratelimit-remaining')).toBe('0');

    const metrics = await s.request('GET', '/distributed/metrics');
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(metrics.text).toMatch(/esp_rate_limit_rejections_total\{limiter="demo"\} [1-9]/);
    expect(metrics.text).toMatch(/esp_lock_events_total\{event="grants"\} [1-9]/);
    expect(metrics.text).toMatch(/esp_cache_loads_total [1-9]/);
    expect(metrics.text).toContain('esp_outbox_pending');
    const json = await s.request<{ name: string }[]>('GET', '/distributed/metrics/json', {
      token: await s.login(),
    });
    expect(json.body.map((m) => m.name)).toContain('esp_events_published_total');
  });
});

describe('HTTP rate limits per client', () => {
  let s: TestService;
  beforeAll(async () => {
    s = await startService('sqlite', { RATE_LIMIT_CLIENT_POINTS: '5', RATE_LIMIT_WINDOW_S: '60' });
  });
  afterAll(async () => s.stop());

  it('refuses the client after its points, a forged X-Forwarded-For does not help, probes are never limited', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await s.request('GET', '/api/v1/flags')).status);
    expect(codes).toEqual([200, 200, 200, 200, 200]);
    const refused = await s.request('GET', '/api/v1/flags');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    for (let i = 0; i < 3; i++) {
      const forged = await s.request('GET', '/api/v1/flags', {
        headers: { 'x-forwarded-for': `203.0.113.${i}` },
      });
      expect(forged.status).toBe(429);
    }
    expect((await s.request('GET', '/live')).status).toBe(200);
    expect((await s.request('GET', '/ready')).status).toBe(200);
  });

  it('the rateLimit flag switches the limiter off', async () => {
    const flags = s.composition.distributed.flags as unknown as { flags: Record<string, boolean> };
    flags.flags = { ...flags.flags, rateLimit: false };
    expect((await s.request('GET', '/api/v1/flags')).status).toBe(200);
  });
});
