// Authentication reads sessions, revoked tokens and accounts through the two-tier cache. Two
// replicas share PostgreSQL and Redis, both with a warm cache for the token under test: a logout, a
// session revocation, a deactivation or a role change made on one replica is refused on the other
// within 200 ms, and on the replica that made it at once.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestService } from '../support/harness.js';
import { figure, startTwoReplicas, testPrefix, waitFor, type Replicas } from './support.js';

interface UserBody {
  id: string;
  version: number;
}

describe('authentication through the cache, two replicas', () => {
  let a: TestService;
  let b: TestService;
  let admin: string;
  let replicas: Replicas | undefined;
  const password = 'Correct-Horse-9';

  beforeAll(async () => {
    replicas = await startTwoReplicas(testPrefix('auth'), {
      // Long enough that only an invalidation, never an expiry, can explain a refusal.
      CACHE_TTL_S: '600',
      CACHE_NEGATIVE_TTL_S: '600',
      CACHE_LOCAL_TTL_MS: '600000',
      // No grace window for racing refreshes: a second use of a token is always a reuse here.
      JWT_REFRESH_REUSE_GRACE_S: '0',
    });
    ({ a, b } = replicas);
    admin = await a.login();
  });
  afterAll(async () => {
    await replicas?.stop();
  });

  const me = (s: TestService, token: string) => s.request('GET', '/api/v1/auth/me', { token });

  // Both replicas answer 200 for the token, so their caches hold its session, jti and account.
  async function warm(token: string): Promise<void> {
    for (const s of [a, b, a, b]) expect((await me(s, token)).status).toBe(200);
  }

  async function refusedOnB(what: string, token: string): Promise<void> {
    const ms = await waitFor(
      `${what} on the other replica`,
      200,
      async () => (await me(b, token)).status === 401,
    );
    figure(`auth cache: ${what} seen by the other replica`, { ms });
  }

  async function newUser(email: string): Promise<{ user: UserBody; token: string }> {
    const res = await a.request<UserBody>('POST', '/api/v1/users', {
      token: admin,
      body: { email, name: 'Ann', password },
    });
    expect(res.status).toBe(201);
    return { user: res.body, token: await a.login(email, password) };
  }

  it('serves repeated authentications from the cache, not the database', async () => {
    const { token } = await newUser('cached@example.com');
    await warm(token);
    const loads = [a, b].map((s) => s.composition.distributed.cache.stats.loads);
    for (const s of [a, b]) for (let i = 0; i < 20; i++) expect((await me(s, token)).status).toBe(200);
    expect([a, b].map((s, i) => s.composition.distributed.cache.stats.loads - loads[i]!)).toEqual([0, 0]);
  });

  it('logout: the access token is refused at once here and within 200 ms on the other replica', async () => {
    const { token } = await newUser('logout@example.com');
    await warm(token);
    expect((await a.request('POST', '/api/v1/auth/logout', { token })).status).toBe(204);
    expect((await me(a, token)).status).toBe(401);
    await refusedOnB('logout', token);
  });

  it('a revoked session ends on the next request on both replicas', async () => {
    await newUser('sessions@example.com');
    const keep = await a.login('sessions@example.com', password);
    const end = await a.login('sessions@example.com', password);
    await warm(end);
    const sessions = await a.request<{ items: { id: string; current: boolean }[] }>(
      'GET',
      '/api/v1/auth/sessions',
      {
        token: end,
      },
    );
    const current = sessions.body.items.find((s) => s.current)!;
    expect((await a.request('DELETE', `/api/v1/auth/sessions/${current.id}`, { token: keep })).status).toBe(
      204,
    );
    expect((await me(a, end)).status).toBe(401);
    await refusedOnB('session revocation', end);
    expect((await me(b, keep)).status).toBe(200);
  });

  it('a deactivated account is refused on the next request on both replicas', async () => {
    const { user, token } = await newUser('disabled@example.com');
    await warm(token);
    const res = await b.request('PATCH', `/api/v1/users/${user.id}`, {
      token: admin,
      body: { status: 'disabled', version: user.version },
    });
    expect(res.status).toBe(200);
    expect((await me(b, token)).status).toBe(401);
    const ms = await waitFor(
      'deactivation on the other replica',
      200,
      async () => (await me(a, token)).status === 401,
    );
    figure('auth cache: deactivation seen by the other replica', { ms });
  });

  it('a role change ends the sessions on both replicas; the next login carries the new role', async () => {
    const { user, token } = await newUser('promoted@example.com');
    await warm(token);
    for (const s of [a, b]) expect((await s.request('GET', '/api/v1/users', { token })).status).toBe(403);
    const res = await a.request('PATCH', `/api/v1/users/${user.id}`, {
      token: admin,
      body: { role: 'admin', version: user.version },
    });
    expect(res.status).toBe(200);
    expect((await a.request('GET', '/api/v1/users', { token })).status).toBe(401);
    const ms = await waitFor(
      'role change on the other replica',
      200,
      async () => (await b.request('GET', '/api/v1/users', { token })).status === 401,
    );
    figure('auth cache: role change seen by the other replica', { ms });
    const promoted = await b.login('promoted@example.com', password);
    expect((await b.request('GET', '/api/v1/users', { token: promoted })).status).toBe(200);
  });

  it('a refresh rotated on one replica is accepted by the other at once, and the old token is reuse', async () => {
    await newUser('rotate@example.com');
    type Pair = { accessToken: string; refreshToken: string };
    const login = await a.request<Pair>('POST', '/api/v1/auth/login', {
      body: { email: 'rotate@example.com', password },
    });
    expect(login.status).toBe(200);
    await warm(login.body.accessToken);
    const first = await a.request<Pair>('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: login.body.refreshToken },
    });
    expect(first.status).toBe(200);
    // B holds the session as it was before the rotation (warmed above); the rotation must not look
    // like a reuse there.
    const second = await b.request<Pair>('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: first.body.refreshToken },
    });
    expect(second.status).toBe(200);
    await warm(second.body.accessToken);
    const reuse = await b.request('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: first.body.refreshToken },
    });
    expect(reuse.status).toBe(401);
    // Reuse revokes the whole session: its newest access token is refused on both replicas.
    expect((await me(b, second.body.accessToken)).status).toBe(401);
    await waitFor(
      'reuse revocation on the other replica',
      200,
      async () => (await me(a, second.body.accessToken)).status === 401,
    );
  });
});
