// Invariants under concurrency: login limits and the verification bound under parallel guesses,
// racing refreshes, and the last-admin rule under racing writes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ADMIN, dialects, startService, type Response, type TestService } from '../support/harness.js';

interface Tokens {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
}

const loginBody = (email: string, password: string) => ({ body: { email, password } });
const statusCounts = (responses: Response[]) =>
  responses.reduce<Record<number, number>>(
    (acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }),
    {},
  );
const verificationsLogged = (s: TestService) => s.logs.filter((l) => l.includes('"login failed"')).length;

describe.each(dialects)('login limits under parallel guesses on %s', (dialect) => {
  let s: TestService;
  beforeAll(async () => {
    s = await startService(dialect, {
      LOGIN_MAX_CONSECUTIVE_FAILS: '5',
      LOGIN_MAX_FAILS_PER_IP_DAY: '20',
      // The bound on verifications in flight is another test's subject: out of the way here.
      LOGIN_MAX_CONCURRENT_VERIFICATIONS: '1000',
    });
  });
  afterAll(async () => s.stop());

  it('50 parallel wrong passwords for one account: at most the limit (5) reach bcrypt, the rest get 429', async () => {
    const before = verificationsLogged(s);
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        s.request('POST', '/api/v1/auth/login', loginBody(ADMIN.email, 'wrong')),
      ),
    );
    const counts = statusCounts(responses);
    expect(counts[401]).toBe(5);
    expect(counts[429]).toBe(45);
    expect(verificationsLogged(s) - before).toBe(5);
  });

  it('50 parallel failures for 50 accounts from one address: at most the daily limit reach bcrypt', async () => {
    const before = verificationsLogged(s);
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        s.request('POST', '/api/v1/auth/login', loginBody(`nobody${i}@example.test`, 'wrong')),
      ),
    );
    const counts = statusCounts(responses);
    // The first test already used 5 of this address's 20.
    expect(counts[401]).toBe(15);
    expect(counts[429]).toBe(35);
    expect(verificationsLogged(s) - before).toBe(15);
  });
});

describe('the bound on password verifications in flight', () => {
  let s: TestService;
  beforeAll(async () => {
    s = await startService('sqlite', {
      // Each guess from its own address, so the login limits let every one through to bcrypt.
      TRUST_PROXY: 'true',
      LOGIN_MAX_CONCURRENT_VERIFICATIONS: '2',
      BCRYPT_COST: '8',
    });
  });
  afterAll(async () => s.stop());

  it('refuses verifications over the bound at once with 503 and Retry-After; a correct login still gets in', async () => {
    const wrong = Array.from({ length: 200 }, (_, i) =>
      s.request('POST', '/api/v1/auth/login', {
        ...loginBody(`nobody${i}@example.test`, 'wrong'),
        headers: { 'x-forwarded-for': `10.0.${Math.floor(i / 250)}.${i % 250}` },
      }),
    );
    const responses = await Promise.all(wrong);
    const counts = statusCounts(responses);
    expect(Object.keys(counts).sort()).toEqual(['401', '503']);
    for (const r of responses.filter((x) => x.status === 503)) {
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(r.body.type).toBe('https://platform.sqlize.dev/problems/service-unavailable');
    }
    // A refused attempt was never a guess: it does not count against the address.
    const again = await s.request('POST', '/api/v1/auth/login', {
      ...loginBody(ADMIN.email, ADMIN.password),
      headers: { 'x-forwarded-for': '10.0.0.1' },
    });
    expect(again.status).toBe(200);
  });
});

describe.each(dialects)('racing refreshes on %s', (dialect) => {
  let s: TestService;
  beforeAll(async () => {
    s = await startService(dialect, { JWT_REFRESH_REUSE_GRACE_S: '1' });
  });
  afterAll(async () => s.stop());

  const refresh = (refreshToken: string) =>
    s.request<Tokens>('POST', '/api/v1/auth/refresh', { body: { refreshToken } });

  it('two refreshes with the same token at once both get the same new pair; the session lives on', async () => {
    for (let i = 0; i < 10; i++) {
      const first = await s.request<Tokens>(
        'POST',
        '/api/v1/auth/login',
        loginBody(ADMIN.email, ADMIN.password),
      );
      const [a, b] = await Promise.all([refresh(first.body.refreshToken), refresh(first.body.refreshToken)]);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(b.body.refreshToken).toBe(a.body.refreshToken);
      expect(b.body.accessToken).toBe(a.body.accessToken);
      expect((await s.request('GET', '/api/v1/auth/me', { token: a.body.accessToken })).status).toBe(200);
      expect((await refresh(a.body.refreshToken)).status).toBe(200);
    }
  });

  it('a reuse after the grace window still ends the session', async () => {
    const first = await s.request<Tokens>(
      'POST',
      '/api/v1/auth/login',
      loginBody(ADMIN.email, ADMIN.password),
    );
    const next = await refresh(first.body.refreshToken);
    expect(next.status).toBe(200);
    await new Promise((r) => setTimeout(r, 2100));
    const late = await refresh(first.body.refreshToken);
    expect(late.status).toBe(401);
    expect(late.text).toMatch(/reuse/);
    expect((await refresh(next.body.refreshToken)).status).toBe(401);
    expect((await s.request('GET', '/api/v1/auth/me', { token: next.body.accessToken })).status).toBe(401);
  });
});

describe('the last-admin rule under racing writes on postgres', () => {
  let s: TestService;
  let rootToken: string;
  beforeAll(async () => {
    s = await startService('postgres', { LOGIN_MAX_CONSECUTIVE_FAILS: '1000' });
    rootToken = await s.login();
  });
  afterAll(async () => s.stop());

  interface UserBody {
    id: string;
    version: number;
  }
  const patch = (token: string, user: UserBody, body: Record<string, unknown>) =>
    s.request('PATCH', `/api/v1/users/${user.id}`, {
      token,
      body,
      headers: { 'if-match': `"${user.version}"` },
    });

  it('50 races (one admin disables the other while that one demotes the first): an active admin always remains', async () => {
    const { User } = s.composition.database.models;
    const rootId = (await s.request<UserBody>('GET', '/api/v1/auth/me', { token: rootToken })).body.id;
    for (let run = 0; run < 50; run++) {
      const email = `second${run}@example.test`;
      const created = await s.request<UserBody>('POST', '/api/v1/users', {
        token: rootToken,
        body: { email, name: 'Second', password: 'Correct-Horse-9', role: 'admin' },
      });
      expect(created.status).toBe(201);
      // Only the root admin and this one are active admins.
      const second = await s.login(email, 'Correct-Horse-9');
      const root = (await s.request<UserBody>('GET', `/api/v1/users/${rootId}`, { token: rootToken })).body;
      const [a, b] = await Promise.all([
        patch(rootToken, created.body, { status: 'disabled' }),
        patch(second, root, { role: 'user' }),
      ]);
      const active = await User.count({ where: { role: 'admin', status: 'active' } });
      expect({ run, active }).toEqual({ run, active: 1 });
      // The loser is refused by the rule (422), or, when the disable ended its session first, at
      // authentication (401).
      expect(a.status === 200 ? [401, 422] : [200]).toContain(b.status);
      if (a.status !== 200) expect([401, 422]).toContain(a.status);
      // Back to one active admin, the root, for the next run.
      if (b.status === 200) {
        await User.update({ role: 'admin' }, { where: { id: rootId } });
        await User.update({ status: 'disabled' }, { where: { id: created.body.id } });
        await s.composition.distributed.cache.delete(`user:${rootId}`);
        rootToken = await s.login();
      }
    }
  });
});
