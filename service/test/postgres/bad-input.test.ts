// Table-driven bad input: every case gets the right 4xx problem+json, and the database is
// unchanged after every rejected request.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { ADMIN, JWT_SECRET, dialects, snapshot, startService, type TestService } from '../support/harness.js';

interface Case {
  name: string;
  method: string;
  path: string | (() => string);
  as?: 'admin' | 'user' | 'none' | (() => string);
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  status: number;
  type: string;
}

const ctx: { admin: string; user: string; userId: string; refresh: string; userVersion: number } = {
  admin: '',
  user: '',
  userId: '',
  refresh: '',
  userVersion: 1,
};

function signed(claims: Record<string, unknown>, options: jwt.SignOptions = {}, secret = JWT_SECRET): string {
  const decoded = jwt.decode(ctx.admin) as Record<string, unknown>;
  const { exp: _e, iat: _i, ...rest } = decoded;
  return jwt.sign({ ...rest, ...claims }, secret, { algorithm: 'HS256', expiresIn: 600, ...options });
}

const valid = { email: 'new@example.test', name: 'New', password: 'Correct-Horse-9' };
const cases: Case[] = [
  {
    name: 'malformed JSON',
    method: 'POST',
    path: '/api/v1/users',
    raw: '{"email": "a@b.c",',
    status: 400,
    type: 'malformed-json',
  },
  {
    name: 'JSON that is not an object',
    method: 'POST',
    path: '/api/v1/users',
    raw: '"just a string"',
    status: 400,
    type: 'malformed-json',
  },
  {
    name: 'wrong types',
    method: 'POST',
    path: '/api/v1/users',
    body: { email: 5, name: [], password: true },
    status: 400,
    type: 'validation-error',
  },
  {
    name: 'unknown field',
    method: 'POST',
    path: '/api/v1/users',
    body: { ...valid, isAdmin: true },
    status: 400,
    type: 'validation-error',
  },
  {
    name: 'invalid e-mail',
    method: 'POST',
    path: '/api/v1/users',
    body: { ...valid, email: 'not-an-email' },
    status: 400,
    type: 'validation-error',
  },
  {
    name: 'unknown role',
    method: 'POST',
    path: '/api/v1/users',
    body: { ...valid, role: 'root' },
    status: 400,
    type: 'validation-error',
  },
  {
    name: 'empty name',
    method: 'POST',
    path: '/api/v1/users',
    body: { ...valid, name: '   ' },
    status: 400,
    type: 'validation-error',
  },
  {
    name: 'password over 72 characters',
    method: 'POST',
    path: '/api/v1/users',
    body: { ...valid, password: 'Aa1-'.repeat(19) },
    status: 400,
    type: 'validation-error',
  },
  {
    name: 'oversized body',
    method: 'POST',
    path: '/api/v1/users',
    raw: JSON.stringify({ ...valid, name: 'x'.repeat(200_000) }),
    status: 413,
    type: 'payload-too-large',
  },
  {
    name: 'not JSON content type',
    method: 'POST',
    path: '/api/v1/users',
    raw: 'email=a@b.c',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
    type: 'unsupported-media-type',
  },
  {
    name: 'duplicate e-mail (other case)',
    method: 'POST',
    path: '/api/v1/users',
    body: { ...valid, email: ADMIN.email.toUpperCase() },
    status: 409,
    type: 'conflict',
  },
  {
    name: 'short password',
    method: 'POST',
    path: '/api/v1/users',
    body: { ...valid, password: 'password' },
    status: 400,
    type: 'validation-error',
  },
  {
    name: 'weak password',
    method: 'POST',
    path: '/api/v1/users',
    body: { ...valid, password: 'passwordpassword' },
    status: 422,
    type: 'rule-violation',
  },
  {
    name: 'SQL injection in a filter value',
    method: 'GET',
    path: "/api/v1/users?role=admin'%20OR%20'1'='1",
    status: 400,
    type: 'validation-error',
  },
  {
    name: 'SQL injection in a sort key',
    method: 'GET',
    path: '/api/v1/users?sort=email;DROP%20TABLE%20users',
    status: 400,
    type: 'validation-error',
  },
  {
    name: 'sort on a field outside the allow-list',
    method: 'GET',
    path: '/api/v1/users?sort=passwordHash',
    status: 400,
    type: 'validation-error',
  },
  {
    name: 'unknown query parameter',
    method: 'GET',
    path: '/api/v1/users?where=1',
    status: 400,
    type: 'validation-error',
  },
  {
    name: 'repeated query parameter',
    method: 'GET',
    path: '/api/v1/users?limit=1&limit=2',
    status: 400,
    type: 'validation-error',
  },
  { name: 'limit 0', method: 'GET', path: '/api/v1/users?limit=0', status: 400, type: 'validation-error' },
  {
    name: 'limit above the maximum',
    method: 'GET',
    path: '/api/v1/users?limit=101',
    status: 400,
    type: 'validation-error',
  },
  {
    name: 'negative offset',
    method: 'GET',
    path: '/api/v1/users?offset=-1',
    status: 400,
    type: 'validation-error',
  },
  {
    name: 'non-numeric limit',
    method: 'GET',
    path: '/api/v1/users?limit=ten',
    status: 400,
    type: 'validation-error',
  },
  {
    name: 'invalid uuid (get)',
    method: 'GET',
    path: '/api/v1/users/not-a-uuid',
    status: 400,
    type: 'validation-error',
  },
  {
    name: 'invalid uuid (patch)',
    method: 'PATCH',
    path: '/api/v1/users/1%20OR%201=1',
    body: { name: 'x' },
    headers: { 'if-match': '"1"' },
    status: 400,
    type: 'validation-error',
  },
  {
    name: 'invalid uuid (delete)',
    method: 'DELETE',
    path: '/api/v1/users/123',
    status: 400,
    type: 'validation-error',
  },
  {
    name: 'garbage If-Match',
    method: 'PATCH',
    path: () => `/api/v1/users/${ctx.userId}`,
    body: { name: 'x' },
    headers: { 'if-match': 'yesterday' },
    status: 400,
    type: 'validation-error',
  },
  {
    name: 'empty patch',
    method: 'PATCH',
    path: () => `/api/v1/users/${ctx.userId}`,
    body: {},
    headers: { 'if-match': '"1"' },
    status: 400,
    type: 'validation-error',
  },
  {
    name: 'stale If-Match',
    method: 'PATCH',
    path: () => `/api/v1/users/${ctx.userId}`,
    body: { name: 'x' },
    headers: { 'if-match': '"99"' },
    status: 412,
    type: 'precondition-failed',
  },
  {
    name: 'no version',
    method: 'PUT',
    path: () => `/api/v1/users/${ctx.userId}`,
    body: { email: 'u@example.test', name: 'u', role: 'user', status: 'active' },
    status: 428,
    type: 'precondition-required',
  },
  {
    name: 'user raising their own role',
    method: 'PATCH',
    path: () => `/api/v1/users/${ctx.userId}`,
    as: 'user',
    body: { role: 'admin' },
    headers: { 'if-match': '"1"' },
    status: 422,
    type: 'rule-violation',
  },
  {
    name: 'user enabling/disabling themselves',
    method: 'PUT',
    path: () => `/api/v1/users/${ctx.userId}`,
    as: 'user',
    body: { email: 'u@example.test', name: 'u', role: 'user', status: 'disabled', version: 1 },
    status: 422,
    type: 'rule-violation',
  },
  {
    name: 'user creating users',
    method: 'POST',
    path: '/api/v1/users',
    as: 'user',
    body: valid,
    status: 403,
    type: 'forbidden',
  },
  {
    name: 'no token',
    method: 'POST',
    path: '/api/v1/users',
    as: 'none',
    body: valid,
    status: 401,
    type: 'unauthorized',
  },
  {
    name: 'malformed Authorization header',
    method: 'GET',
    path: '/api/v1/users',
    as: 'none',
    headers: { authorization: 'Basic YWRtaW46YWRtaW4=' },
    status: 401,
    type: 'unauthorized',
  },
  {
    name: 'expired token',
    method: 'POST',
    path: '/api/v1/users',
    as: () => signed({}, { expiresIn: -10 }),
    body: valid,
    status: 401,
    type: 'unauthorized',
  },
  {
    name: 'tampered token',
    method: 'POST',
    path: '/api/v1/users',
    as: () => tamper(ctx.user),
    body: valid,
    status: 401,
    type: 'unauthorized',
  },
  {
    name: 'token signed with another key',
    method: 'GET',
    path: '/api/v1/users',
    as: () => signed({}, {}, 'another-secret-another-secret-another'),
    status: 401,
    type: 'unauthorized',
  },
  {
    name: 'alg none token',
    method: 'POST',
    path: '/api/v1/users',
    as: () => algNone(),
    body: valid,
    status: 401,
    type: 'unauthorized',
  },
  {
    name: 'wrong audience',
    method: 'POST',
    path: '/api/v1/users',
    as: () => signed({ aud: 'someone-else' }),
    body: valid,
    status: 401,
    type: 'unauthorized',
  },
  {
    name: 'wrong issuer',
    method: 'POST',
    path: '/api/v1/users',
    as: () => signed({ iss: 'evil' }),
    body: valid,
    status: 401,
    type: 'unauthorized',
  },
  {
    name: 'HS512 instead of the pinned HS256',
    method: 'GET',
    path: '/api/v1/users',
    as: () => signed({}, { algorithm: 'HS512' }),
    status: 401,
    type: 'unauthorized',
  },
  {
    name: 'wrong password',
    method: 'POST',
    path: '/api/v1/auth/login',
    as: 'none',
    body: { email: ADMIN.email, password: 'wrong-password' },
    status: 401,
    type: 'unauthorized',
  },
  {
    name: 'login with an unknown field',
    method: 'POST',
    path: '/api/v1/auth/login',
    as: 'none',
    body: { email: ADMIN.email, password: 'x', remember: true },
    status: 400,
    type: 'validation-error',
  },
  {
    name: 'garbage refresh token',
    method: 'POST',
    path: '/api/v1/auth/refresh',
    as: 'none',
    body: { refreshToken: 'abc.def.ghi' },
    status: 401,
    type: 'unauthorized',
  },
  { name: 'unknown route', method: 'GET', path: '/api/v1/nothing-here', status: 404, type: 'not-found' },
  {
    name: 'malformed percent-escape in a route parameter',
    method: 'DELETE',
    path: '/api/v1/auth/sessions/%ZZ',
    status: 400,
    type: 'validation-error',
  },
  {
    name: 'a body labelled gzip that is not gzip',
    method: 'POST',
    path: '/api/v1/users',
    raw: JSON.stringify(valid),
    headers: { 'content-encoding': 'gzip' },
    status: 400,
    type: 'malformed-json',
  },
  {
    name: 'a cache value nested 20,000 deep',
    method: 'POST',
    path: '/distributed/cache/deep',
    raw: `{"value":${'['.repeat(20_000)}${']'.repeat(20_000)}}`,
    status: 400,
    type: 'validation-error',
  },
  ...['0x10', '1e1', '%205', '5.0', '+5'].map((limit) => ({
    name: `pagination limit=${limit} (decimal integers only)`,
    method: 'GET',
    path: `/api/v1/users?limit=${limit}`,
    status: 400,
    type: 'validation-error',
  })),
  {
    name: 'NUL in a name',
    method: 'POST',
    path: '/api/v1/users',
    body: { ...valid, name: 'Ada\u0000Lovelace' },
    status: 400,
    type: 'validation-error',
  },
  {
    name: 'control character in an e-mail',
    method: 'POST',
    path: '/api/v1/users',
    body: { ...valid, email: 'ada\u0007@example.test' },
    status: 400,
    type: 'validation-error',
  },
  {
    name: 'unknown method on a route',
    method: 'DELETE',
    path: '/api/v1/users',
    status: 405,
    type: 'method-not-allowed',
  },
];

function tamper(token: string): string {
  const [h, p, sig] = token.split('.') as [string, string, string];
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  payload.role = 'admin';
  return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${sig}`;
}

function algNone(): string {
  const payload = jwt.decode(ctx.admin) as Record<string, unknown>;
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(payload)}.`;
}

describe.each(dialects)('bad input on %s', (dialect) => {
  let s: TestService;

  beforeAll(async () => {
    // No grace window for racing refreshes: a second use here is always a reuse.
    s = await startService(dialect, { JWT_REFRESH_REUSE_GRACE_S: '0' });
    ctx.admin = await s.login();
    const created = await s.request<{ id: string }>('POST', '/api/v1/users', {
      token: ctx.admin,
      body: { email: 'u@example.test', name: 'u', password: 'Correct-Horse-9' },
    });
    ctx.userId = created.body.id;
    ctx.user = await s.login('u@example.test', 'Correct-Horse-9');
  });
  afterAll(async () => s.stop());

  it.each(cases)('$name -> $status $type', async (c) => {
    const before = await snapshot(s);
    const logged = s.logs.length;
    const token =
      c.as === undefined || c.as === 'admin'
        ? ctx.admin
        : c.as === 'user'
          ? ctx.user
          : c.as === 'none'
            ? undefined
            : c.as();
    const res = await s.request(c.method, typeof c.path === 'function' ? c.path() : c.path, {
      token,
      body: c.body,
      raw: c.raw,
      headers: { ...(c.raw !== undefined ? { 'content-type': 'application/json' } : {}), ...c.headers },
    });
    expect({ status: res.status, type: res.body.type }).toEqual({
      status: c.status,
      type: `https://platform.sqlize.dev/problems/${c.type}`,
    });
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      status: c.status,
      title: expect.any(String),
      requestId: expect.any(String),
    });
    expect(res.text).not.toMatch(/\bat .+\.(ts|js):\d+|SELECT|INSERT|UPDATE users|sequelize/i);
    expect(await snapshot(s)).toBe(before);
    // A client's mistake is never an error of the service: at most a warning, never a stack.
    const lines = s.logs.slice(logged).map((l) => JSON.parse(l) as { level: string });
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(s.logs.slice(logged).join('\n')).not.toMatch(/"stack"|\n\s+at /);
  });

  it('lists every problem in a validation error', async () => {
    const res = await s.request<{ errors: { path: string }[] }>('POST', '/api/v1/users', {
      token: ctx.admin,
      body: { email: 'x', name: 7, extra: 1 },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e) => e.path).sort()).toEqual([
      'body',
      'body.email',
      'body.name',
      'body.password',
    ]);
  });

  it('treats injection text in a free-text filter as plain data', async () => {
    const before = await snapshot(s);
    const res = await s.request<{ total: number }>(
      'GET',
      `/api/v1/users?name=${encodeURIComponent("'; DROP TABLE users; --")}`,
      { token: ctx.admin },
    );
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(0);
    expect(await snapshot(s)).toBe(before);
  });

  it('refuses a refresh token used twice (and, by design, ends that session)', async () => {
    const login = await s.request<{ refreshToken: string }>('POST', '/api/v1/auth/login', {
      body: { email: ADMIN.email, password: ADMIN.password },
    });
    const first = await s.request('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: login.body.refreshToken },
    });
    expect(first.status).toBe(200);
    const second = await s.request('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: login.body.refreshToken },
    });
    expect(second.status).toBe(401);
    expect(second.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});

interface Tokens {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
  deviceToken: string;
}

describe.each(dialects)('attacks on authentication on %s', (dialect) => {
  let s: TestService;
  let admin: string;
  const login = (email: string, password: string, extra: Record<string, unknown> = {}) =>
    s.request<Tokens>('POST', '/api/v1/auth/login', { body: { email, password, ...extra } });
  const me = (token: string) => s.request('GET', '/api/v1/auth/me', { token });
  const refresh = (refreshToken: string) =>
    s.request<Tokens>('POST', '/api/v1/auth/refresh', { body: { refreshToken } });
  let n = 0;
  async function newUser(
    password = 'Correct-Horse-9',
  ): Promise<{ id: string; email: string; password: string }> {
    const email = `victim${++n}@example.test`;
    const res = await s.request<{ id: string }>('POST', '/api/v1/users', {
      token: admin,
      body: { email, name: 'Victim', password },
    });
    expect(res.status).toBe(201);
    return { id: res.body.id, email, password };
  }
  const versionOf = async (id: string) =>
    (await s.request<{ version: number }>('GET', `/api/v1/users/${id}`, { token: admin })).body.version;
  const patch = (id: string, token: string, version: number, body: Record<string, unknown>) =>
    s.request('PATCH', `/api/v1/users/${id}`, { token, body, headers: { 'if-match': `"${version}"` } });

  beforeAll(async () => {
    s = await startService(dialect, { LOGIN_MAX_FAILS_PER_IP_DAY: '8' });
    admin = await s.login();
  });
  afterAll(async () => s.stop());

  it('accepts the auth scheme in any case: "bearer", "BEARER"', async () => {
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      const res = await s.request('GET', '/api/v1/auth/me', {
        headers: { authorization: `${scheme} ${admin}` },
      });
      expect(res.status).toBe(200);
    }
  });

  it('never lets a string longer than 72 bytes match, even when its first 72 bytes are the password', async () => {
    const password = `Aa1-${'x'.repeat(68)}`;
    expect(Buffer.byteLength(password)).toBe(72);
    const u = await newUser(password);
    expect((await login(u.email, password)).status).toBe(200);
    expect((await login(u.email, `${password}anything`)).status).toBe(401);
    // 72 bytes of UTF-8 are fewer characters (é is two bytes): a schema cannot say so, a rule does.
    const utf8 = await s.request('POST', '/api/v1/users', {
      token: admin,
      body: { email: 'utf8@example.test', name: 'U', password: `Aa1-${'é'.repeat(35)}` },
    });
    expect([utf8.status, utf8.body.rule]).toEqual([422, 'password-bytes']);
  });

  it("needs the current password to change your own; an admin setting another user's is audited", async () => {
    const u = await newUser();
    const token = (await login(u.email, u.password)).body.accessToken;
    const without = await patch(u.id, token, await versionOf(u.id), { password: 'New-Horse-Battery-7' });
    expect(without.status).toBe(403);
    expect(without.body.detail).toMatch(/currentPassword/);
    const wrong = await patch(u.id, token, await versionOf(u.id), {
      password: 'New-Horse-Battery-7',
      currentPassword: 'not-my-password',
    });
    expect(wrong.status).toBe(403);
    expect((await login(u.email, 'New-Horse-Battery-7')).status).toBe(401);
    const right = await patch(u.id, token, await versionOf(u.id), {
      password: 'New-Horse-Battery-7',
      currentPassword: u.password,
    });
    expect(right.status).toBe(200);
    expect((await login(u.email, 'New-Horse-Battery-7')).status).toBe(200);

    const reset = await patch(u.id, admin, await versionOf(u.id), { password: 'Admin-Chosen-Pass-5' });
    expect(reset.status).toBe(200);
    const adminId = (await s.request<{ id: string }>('GET', '/api/v1/auth/me', { token: admin })).body.id;
    const audit = s.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.message === 'audit: password set by an administrator' && l.userId === u.id);
    expect(audit).toMatchObject({ actorId: adminId, level: 'warn' });
  });

  it('a password change ends every other session; the one that made it stays', async () => {
    const u = await newUser();
    const here = (await login(u.email, u.password)).body;
    const there = (await login(u.email, u.password)).body;
    const res = await patch(u.id, here.accessToken, await versionOf(u.id), {
      password: 'Other-Horse-Battery-8',
      currentPassword: u.password,
    });
    expect(res.status).toBe(200);
    expect((await me(there.accessToken)).status).toBe(401);
    expect((await refresh(there.refreshToken)).status).toBe(401);
    expect((await me(here.accessToken)).status).toBe(200);
    expect((await refresh(here.refreshToken)).status).toBe(200);
  });

  it.each([
    ['a disable', { status: 'disabled' }],
    ['a role change', { role: 'admin' }],
  ])('%s ends every session, and re-enabling does not bring old tokens back', async (_what, change) => {
    const u = await newUser();
    const t = (await login(u.email, u.password)).body;
    expect((await patch(u.id, admin, await versionOf(u.id), change)).status).toBe(200);
    expect((await me(t.accessToken)).status).toBe(401);
    if ('status' in change) {
      expect((await patch(u.id, admin, await versionOf(u.id), { status: 'active' })).status).toBe(200);
    }
    expect((await me(t.accessToken)).status).toBe(401);
    expect((await refresh(t.refreshToken)).status).toBe(401);
    expect((await login(u.email, u.password)).status).toBe(200);
  });

  it('a delete ends every session', async () => {
    const u = await newUser();
    const t = (await login(u.email, u.password)).body;
    expect((await s.request('DELETE', `/api/v1/users/${u.id}`, { token: admin })).status).toBe(204);
    expect((await me(t.accessToken)).status).toBe(401);
    expect((await refresh(t.refreshToken)).status).toBe(401);
    const stored = await s.composition.database.models.Session.findByPk(t.sessionId);
    expect(stored === null || stored.revokedAt !== null).toBe(true);
  });

  // Runs last in this block: it uses up this address's daily failures.
  it('a flood from one address does not lock out a client that logged in before (its device token)', async () => {
    const u = await newUser();
    const before = (await login(u.email, u.password)).body;
    expect(before.deviceToken).toEqual(expect.any(String));
    for (let i = 0; i < 8; i++) await login(`nobody${i}@example.test`, 'wrong-password');
    const anonymous = await login(u.email, u.password);
    expect(anonymous.status).toBe(429);
    const known = await login(u.email, u.password, { deviceToken: before.deviceToken });
    expect(known.status).toBe(200);
    // The cookie works the same; a device token of another user is no pass.
    const cookie = await s.request('POST', '/api/v1/auth/login', {
      body: { email: u.email, password: u.password },
      headers: { cookie: `esp_device=${before.deviceToken}` },
    });
    expect(cookie.status).toBe(200);
    expect((await login(ADMIN.email, ADMIN.password, { deviceToken: before.deviceToken })).status).toBe(429);
    // The device is still limited on its own.
    for (let i = 0; i < 5; i++) await login(u.email, 'wrong-password', { deviceToken: before.deviceToken });
    expect((await login(u.email, u.password, { deviceToken: before.deviceToken })).status).toBe(429);
  });
});

describe('what an anonymous client, a user and an admin see of the operations endpoints', () => {
  let s: TestService;
  let admin: string;
  let user: string;
  beforeAll(async () => {
    s = await startService('sqlite');
    admin = await s.login();
    await s.request('POST', '/api/v1/users', {
      token: admin,
      body: { email: 'ops-user@example.test', name: 'U', password: 'Correct-Horse-9' },
    });
    user = await s.login('ops-user@example.test', 'Correct-Horse-9');
  });
  afterAll(async () => s.stop());

  it.each([
    '/distributed/config',
    '/distributed/info',
    '/distributed/redis/status',
    '/distributed/metrics/json',
  ])('%s needs an admin token: 401 anonymous, 403 for a user, 200 for an admin', async (path) => {
    const anonymous = await s.request('GET', path);
    expect(anonymous.status).toBe(401);
    expect(anonymous.text).not.toMatch(/admin@|bcrypt|sqlite|node|v\d+\.\d+/i);
    expect((await s.request('GET', path, { token: user })).status).toBe(403);
    expect((await s.request('GET', path, { token: admin })).status).toBe(200);
  });

  it('/health and /ready tell an anonymous client only the status; an admin sees the checks', async () => {
    for (const path of ['/health', '/distributed/health']) {
      const anonymous = await s.request('GET', path);
      expect(anonymous.status).toBe(200);
      expect(anonymous.body).toEqual({ status: expect.stringMatching(/^(up|degraded)$/) });
      const detailed = await s.request<{ checks: Record<string, unknown> }>('GET', path, { token: admin });
      expect(Object.keys(detailed.body.checks)).toContain('disk');
      // A forged or non-admin token is simply anonymous.
      expect((await s.request('GET', path, { token: user })).body).toEqual(anonymous.body);
    }
    const ready = await s.request('GET', '/ready');
    expect(ready.status).toBe(200);
    expect(Object.keys(ready.body).sort()).toEqual(['phase', 'status']);
    expect((await s.request('GET', '/startup')).status).toBe(200);
    expect((await s.request('GET', '/live')).status).toBe(200);
  });

  it('an admin cannot publish on a domain stream: a hand-made user.deleted lands on a stream of its own', async () => {
    const seen: { stream: string; type: string }[] = [];
    const { bus } = s.composition.distributed;
    const consumers = await Promise.all(
      ['users', 'published.users'].map((stream) =>
        bus.subscribe(
          stream,
          async (event) => {
            seen.push({ stream, type: event.type });
          },
          { group: 'forgery-test', consumer: 'c1', startAt: '0', blockMs: 50 },
        ),
      ),
    );
    try {
      const res = await s.request('POST', '/distributed/events/users', {
        token: admin,
        body: { type: 'user.deleted', payload: { id: '00000000-0000-4000-8000-000000000000' } },
      });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ channel: 'users', stream: 'published.users' });
      await new Promise((r) => setTimeout(r, 500));
      expect(seen).toEqual([{ stream: 'published.users', type: 'user.deleted' }]);
    } finally {
      await Promise.all(consumers.map((c) => c.stop()));
    }
  });
});

describe('slow clients', () => {
  let s: TestService;
  beforeAll(async () => {
    s = await startService('sqlite', { HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '2000' });
  });
  afterAll(async () => s.stop());

  // Sends `parts` one every 250 ms; answers how many the server took before it ended the
  // connection, and what it said.
  async function trickle(parts: string[]): Promise<{ sent: number; answer: string }> {
    const socket = net.connect(s.composition.service.port, '127.0.0.1');
    let answer = '';
    let closed = false;
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.on('close', () => (closed = true));
    socket.on('error', () => (closed = true));
    await new Promise((r) => socket.once('connect', r));
    let sent = 0;
    for (const part of parts) {
      if (closed) break;
      socket.write(part);
      sent += 1;
      await new Promise((r) => setTimeout(r, 250));
    }
    socket.destroy();
    return { sent, answer };
  }

  it('ends a connection whose headers arrive a byte at a time (HTTP_HEADERS_TIMEOUT_MS)', async () => {
    const request = 'GET /api/test HTTP/1.1\r\nHost: localhost\r\nX-Slow: ' + 'a'.repeat(40) + '\r\n\r\n';
    const { sent, answer } = await trickle([...request]);
    expect(sent).toBeLessThan(request.length);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('ends a connection whose body arrives a byte at a time (HTTP_REQUEST_TIMEOUT_MS)', async () => {
    const body = JSON.stringify({ email: ADMIN.email, password: ADMIN.password, pad: 'x'.repeat(20) });
    const head = `POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const { sent } = await trickle([head, ...body]);
    expect(sent).toBeLessThan(body.length + 1);
  });
});

describe('the HTTPS redirect', () => {
  let s: TestService;
  beforeAll(async () => {
    s = await startService('sqlite', {
      HTTPS_REDIRECT: 'true',
      TRUST_PROXY: 'loopback',
      PUBLIC_ORIGIN: 'https://api.example.test',
    });
  });
  afterAll(async () => s.stop());

  it('points at the public origin whatever Host or X-Forwarded-Host say', async () => {
    const res = await s.request('GET', '/api/test?x=1', {
      headers: { 'x-forwarded-proto': 'http', 'x-forwarded-host': 'evil.example' },
    });
    expect(res.status).toBe(308);
    expect(res.headers.get('location')).toBe('https://api.example.test/api/test?x=1');
    const secure = await s.request('GET', '/api/test', { headers: { 'x-forwarded-proto': 'https' } });
    expect(secure.status).toBe(200);
  });
});

describe('acknowledged cache writes', () => {
  let s: TestService;
  beforeAll(async () => {
    // A short in-process cap: an entry must outlive it when its TTL is longer.
    s = await startService('sqlite', { CACHE_LOCAL_TTL_MS: '300' });
  });
  afterAll(async () => s.stop());

  it('a 201 means readable for its TTL, past the in-process tier cap', async () => {
    const admin = await s.login();
    const put = await s.request('POST', '/distributed/cache/kept', {
      token: admin,
      body: { value: { a: 1 }, ttlSeconds: 3600 },
    });
    expect(put.status).toBe(201);
    await new Promise((r) => setTimeout(r, 700));
    const got = await s.request('GET', '/distributed/cache/kept', { token: admin });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ value: { a: 1 } });
  });
});
