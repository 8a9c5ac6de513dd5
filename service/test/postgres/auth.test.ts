import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ADMIN, dialects, startService, type TestService } from '../support/harness.js';

interface Tokens {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
  csrfToken?: string;
  expiresIn: number;
}
interface SessionsBody {
  items: { id: string; current: boolean }[];
}

function cookiesOf(res: { headers: Headers }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const [k, v] = (pair as string).split('=');
    out[k as string] = v as string;
  }
  return out;
}

describe.each(dialects)('auth on %s', (dialect) => {
  let s: TestService;

  beforeAll(async () => {
    // No grace window: a reuse here is always one after the window.
    s = await startService(dialect, { LOGIN_MAX_CONSECUTIVE_FAILS: '3', JWT_REFRESH_REUSE_GRACE_S: '0' });
  });
  afterAll(async () => s.stop());

  const login = (email = ADMIN.email, password = ADMIN.password, headers: Record<string, string> = {}) =>
    s.request<Tokens>('POST', '/api/v1/auth/login', { body: { email, password }, headers });

  it('logs in, answers me, and logout revokes the access token and its session', async () => {
    const res = await login(ADMIN.email.toUpperCase());
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    const me = await s.request('GET', '/api/v1/auth/me', { token: res.body.accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ email: ADMIN.email, role: 'admin' });

    expect((await s.request('POST', '/api/v1/auth/logout', { token: res.body.accessToken })).status).toBe(
      204,
    );
    const after = await s.request('GET', '/api/v1/auth/me', { token: res.body.accessToken });
    expect(after.status).toBe(401);
    expect(after.body).toMatchObject({ detail: 'the token has been revoked' });
    const refresh = await s.request('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: res.body.refreshToken },
    });
    expect(refresh.status).toBe(401);
  });

  it('rotates refresh tokens and revokes the session when an old one is reused', async () => {
    const first = (await login()).body;
    const second = await s.request<Tokens>('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: first.refreshToken },
    });
    expect(second.status).toBe(200);
    expect(second.body.sessionId).toBe(first.sessionId);
    expect(second.body.refreshToken).not.toBe(first.refreshToken);
    expect((await s.request('GET', '/api/v1/auth/me', { token: second.body.accessToken })).status).toBe(200);

    const reuse = await s.request('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: first.refreshToken },
    });
    expect(reuse.status).toBe(401);
    expect(reuse.body).toMatchObject({ detail: expect.stringContaining('reuse') });
    // The thief's reuse ended the session for the legitimate holder as well.
    const legit = await s.request('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: second.body.refreshToken },
    });
    expect(legit.status).toBe(401);
    expect((await s.request('GET', '/api/v1/auth/me', { token: second.body.accessToken })).status).toBe(401);
    expect(s.logs.some((l) => l.includes('refresh token reuse detected'))).toBe(true);
  });

  it('refuses an access token as a refresh token and the other way round', async () => {
    const t = (await login()).body;
    expect(
      (await s.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: t.accessToken } })).status,
    ).toBe(401);
    expect((await s.request('GET', '/api/v1/auth/me', { token: t.refreshToken })).status).toBe(401);
  });

  it('lists my sessions and revokes one of them', async () => {
    const a = (await login(ADMIN.email, ADMIN.password, { 'user-agent': 'device-a' })).body;
    const b = (await login(ADMIN.email, ADMIN.password, { 'user-agent': 'device-b' })).body;
    const list = await s.request<SessionsBody>('GET', '/api/v1/auth/sessions', { token: a.accessToken });
    expect(list.status).toBe(200);
    const ids = list.body.items.map((i) => i.id);
    expect(ids).toEqual(expect.arrayContaining([a.sessionId, b.sessionId]));
    expect(list.body.items.find((i) => i.id === a.sessionId)?.current).toBe(true);
    expect(list.body.items.find((i) => i.id === b.sessionId)?.current).toBe(false);

    expect(
      (await s.request('DELETE', `/api/v1/auth/sessions/${b.sessionId}`, { token: a.accessToken })).status,
    ).toBe(204);
    expect(
      (await s.request('DELETE', `/api/v1/auth/sessions/${b.sessionId}`, { token: a.accessToken })).status,
    ).toBe(404);
    expect((await s.request('GET', '/api/v1/auth/me', { token: b.accessToken })).status).toBe(401);
    expect(
      (await s.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: b.refreshToken } })).status,
    ).toBe(401);
    const after = await s.request<SessionsBody>('GET', '/api/v1/auth/sessions', { token: a.accessToken });
    expect(after.body.items.map((i) => i.id)).not.toContain(b.sessionId);
  });

  it("does not let a user revoke somebody else's session", async () => {
    const adminTokens = (await login()).body;
    await s.request('POST', '/api/v1/users', {
      token: adminTokens.accessToken,
      body: { email: 'sess@example.test', name: 'S', password: 'Correct-Horse-9' },
    });
    const user = (await login('sess@example.test', 'Correct-Horse-9')).body;
    const res = await s.request('DELETE', `/api/v1/auth/sessions/${adminTokens.sessionId}`, {
      token: user.accessToken,
    });
    expect(res.status).toBe(404);
    expect((await s.request('GET', '/api/v1/auth/me', { token: adminTokens.accessToken })).status).toBe(200);
  });

  it('refreshes from the httpOnly cookie only with the CSRF header', async () => {
    const res = await login();
    const cookies = cookiesOf(res);
    expect(cookies.esp_refresh).toBe(res.body.refreshToken);
    expect(cookies.esp_csrf).toBe(res.body.csrfToken);
    const setCookie = res.headers.getSetCookie().join('\n');
    expect(setCookie).toMatch(/esp_refresh=[^;]+;.*HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const cookieHeader = `esp_refresh=${cookies.esp_refresh}; esp_csrf=${cookies.esp_csrf}`;

    const noCsrf = await s.request('POST', '/api/v1/auth/refresh', { headers: { cookie: cookieHeader } });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.body).toMatchObject({ type: 'https://platform.sqlize.dev/problems/csrf-failed' });
    const wrongCsrf = await s.request('POST', '/api/v1/auth/refresh', {
      headers: { cookie: cookieHeader, 'x-csrf-token': 'nope' },
    });
    expect(wrongCsrf.status).toBe(403);
    const ok = await s.request<Tokens>('POST', '/api/v1/auth/refresh', {
      headers: { cookie: cookieHeader, 'x-csrf-token': cookies.esp_csrf as string },
    });
    expect(ok.status).toBe(200);
    expect(cookiesOf(ok).esp_refresh).toBe(ok.body.refreshToken);
    expect((await s.request('POST', '/api/v1/auth/refresh', {})).status).toBe(401);
  });

  it('blocks brute force per username+IP with 429 and Retry-After, and a success resets the count', async () => {
    await s.request('POST', '/api/v1/users', {
      token: (await login()).body.accessToken,
      body: { email: 'brute@example.test', name: 'B', password: 'Correct-Horse-9' },
    });
    expect((await login('brute@example.test', 'wrong-1')).status).toBe(401);
    expect((await login('brute@example.test', 'wrong-2')).status).toBe(401);
    expect((await login('brute@example.test', 'Correct-Horse-9')).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await login('brute@example.test', `wrong-${i}`)).status).toBe(401);
    const blocked = await login('brute@example.test', 'Correct-Horse-9');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another account from the same IP is not affected by this pair's block.
    expect((await login()).status).toBe(200);
  });

  it('answers the same 401 for an unknown e-mail and a wrong password', async () => {
    const unknown = await login('nobody@example.test', 'whatever-it-is');
    const wrong = await login(ADMIN.email, 'not-the-password');
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.body.detail).toBe(wrong.body.detail);
  });
});

describe('per-IP daily login limit', () => {
  it('blocks an IP after too many failures across usernames', async () => {
    const s = await startService('sqlite', { LOGIN_MAX_FAILS_PER_IP_DAY: '4' });
    try {
      for (let i = 0; i < 4; i++) {
        const r = await s.request('POST', '/api/v1/auth/login', {
          body: { email: `u${i}@example.test`, password: 'x' },
        });
        expect(r.status).toBe(401);
      }
      const blocked = await s.request('POST', '/api/v1/auth/login', {
        body: { email: ADMIN.email, password: ADMIN.password },
      });
      expect(blocked.status).toBe(429);
    } finally {
      await s.stop();
    }
  });
});
