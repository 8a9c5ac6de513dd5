import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mountedRoutes } from '../../src/http/middleware/method-not-allowed.js';
import { PROBLEM_BASE } from '../../src/http/problem.js';
import { startService, type TestService } from '../support/harness.js';

describe('HTTP surface (SQLite)', () => {
  let s: TestService;

  beforeAll(async () => {
    s = await startService('sqlite', {
      CORS_ORIGINS: 'https://app.example.test',
      TRUST_PROXY: 'loopback',
      HTTPS_REDIRECT: 'true',
      PUBLIC_ORIGIN: 'https://api.example.test',
      DEBUG: 'db',
    });
    s.defaultHeaders['x-forwarded-proto'] = 'https';
  });
  afterAll(async () => s.stop());

  it('answers the probes and /health with service, region and zone', async () => {
    expect((await s.request('GET', '/startup')).status).toBe(200);
    expect((await s.request('GET', '/live')).body).toEqual({ status: 'alive' });
    const admin = await s.login();
    const ready = await s.request('GET', '/ready', { token: admin });
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'up',
      checks: { database: { status: 'up', critical: true } },
    });
    const health = await s.request('GET', '/health', { token: admin });
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      status: 'up',
      service: 'express-sqlize',
      region: 'local',
      zone: 'local',
    });
    expect(health.headers.get('cache-control')).toBe('no-store');
    const test = await s.request('GET', '/api/test', { headers: { 'x-forwarded-proto': 'https' } });
    expect(test.body).toMatchObject({ message: 'API is working', service: 'express-sqlize' });
  });

  it('accepts a sane X-Request-Id, replaces an insane one, and logs it with the route pattern', async () => {
    const given = await s.request('GET', '/live', { headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers.get('x-request-id')).toBe('abc-123');
    const insane = await s.request('GET', '/live', { headers: { 'x-request-id': 'a b<script>' } });
    expect(insane.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const id = 'trace-me-42';
    await s.request('GET', '/api/v1/users/00000000-0000-4000-8000-000000000000', {
      headers: { 'x-request-id': id, 'x-forwarded-proto': 'https' },
    });
    await new Promise((r) => setTimeout(r, 50));
    const lines = s.logs.filter((l) => l.includes(id)).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.message === 'request')).toMatchObject({
      route: 'unmatched',
      status: 401,
      method: 'GET',
      requestId: id,
      durationMs: expect.any(Number),
    });
    // DEBUG=db lowers only the db category to debug: SQL is logged there, with the request id.
    const admin = await s.login();
    await s.request('GET', '/api/v1/users/00000000-0000-4000-8000-000000000000', {
      token: admin,
      headers: { 'x-request-id': 'sql-42', 'x-forwarded-proto': 'https' },
    });
    await new Promise((r) => setTimeout(r, 50));
    const mine = s.logs
      .filter((l) => l.includes('"sql-42"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(mine.some((l) => l.category === 'db' && l.message === 'sql')).toBe(true);
    expect(mine.find((l) => l.message === 'request')).toMatchObject({
      route: '/api/v1/users/:id',
      status: 404,
    });
    expect(s.logs.some((l) => JSON.parse(l).category === 'http' && JSON.parse(l).level === 'debug')).toBe(
      false,
    );
  });

  it('never logs a password or a token', async () => {
    await s.request('POST', '/api/v1/auth/login', {
      body: { email: 'x@example.test', password: 'Sekret-Value-1' },
      headers: { 'x-forwarded-proto': 'https' },
    });
    const admin = await s.login();
    expect(s.logs.join('\n')).not.toContain('Sekret-Value-1');
    expect(s.logs.join('\n')).not.toContain(admin);
  });

  it('redirects plain HTTP to HTTPS behind a trusted proxy, except the probes', async () => {
    const res = await s.request('GET', '/api/v1/users?limit=1', {
      headers: { 'x-forwarded-proto': 'http', 'x-forwarded-host': 'api.example.test' },
    });
    expect(res.status).toBe(308);
    expect(res.headers.get('location')).toBe('https://api.example.test/api/v1/users?limit=1');
    expect((await s.request('GET', '/ready')).status).toBe(200);
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
  });

  it('allows CORS only for configured origins', async () => {
    const ok = await s.request('OPTIONS', '/api/v1/users', {
      headers: {
        origin: 'https://app.example.test',
        'access-control-request-method': 'POST',
        'x-forwarded-proto': 'https',
      },
    });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.test');
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    const evil = await s.request('OPTIONS', '/api/v1/users', {
      headers: {
        origin: 'https://evil.example',
        'access-control-request-method': 'POST',
        'x-forwarded-proto': 'https',
      },
    });
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('serves an OpenAPI 3.1 document generated from the schemas', async () => {
    const doc = await s.request<{
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    }>('GET', '/openapi.json', { headers: { 'x-forwarded-proto': 'https' } });
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/users',
        '/api/v1/users/{id}',
        '/api/v1/auth/login',
        '/api/v1/auth/sessions/{id}',
        '/ready',
      ]),
    );
    expect(Object.keys(doc.body.paths['/api/v1/users/{id}'] ?? {}).sort()).toEqual([
      'delete',
      'get',
      'patch',
      'put',
    ]);
    expect(Object.keys(doc.body.components.schemas)).toEqual(
      expect.arrayContaining(['User', 'CreateUser', 'PatchUser', 'Problem', 'Tokens']),
    );
    const create = doc.body.components.schemas.CreateUser as {
      additionalProperties?: boolean;
      required?: string[];
    };
    expect(create.additionalProperties).toBe(false);
    expect(create.required).toEqual(expect.arrayContaining(['email', 'name', 'password']));
  });

  it('documents every route it mounts, and no route it does not', async () => {
    const doc = await s.request<{ paths: Record<string, Record<string, unknown>> }>('GET', '/openapi.json');
    const documented = Object.entries(doc.body.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    // HEAD is Express's own answer for every GET route; the document lists the GET.
    const mounted = mountedRoutes(s.composition.app).flatMap(({ methods, path }) =>
      methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${path.replace(/:(\w+)/g, '{$1}')}`),
    );
    expect(new Set(mounted).size).toBeGreaterThan(30);
    expect([...new Set(documented)].sort()).toEqual([...new Set(mounted)].sort());
  });

  it('documents the statuses the probes and operations answer, with the security schemes', async () => {
    type Op = {
      responses: Record<string, unknown>;
      security?: Record<string, string[]>[];
      requestBody?: unknown;
    };
    const doc = await s.request<{
      paths: Record<string, Record<string, Op>>;
      components: { securitySchemes: Record<string, { type: string }> };
    }>('GET', '/openapi.json');
    const op = (path: string, method = 'get') => doc.body.paths[path]?.[method] as Op;
    expect(Object.keys(doc.body.components.securitySchemes).sort()).toEqual(['bearer', 'refreshCookie']);
    // What /live answers is what its schema allows.
    const live = JSON.stringify(op('/live').responses['200']);
    expect(live).toContain('"alive"');
    expect((await s.request('GET', '/live')).body).toEqual({ status: 'alive' });
    expect(JSON.stringify(op('/startup').responses['200'])).toContain('"started"');
    // Every operation that needs a token lists 401 and 503 (the revoked-token list is read); every
    // one taking a body lists 400 and 413, and 415 unless it is a DELETE.
    for (const [path, item] of Object.entries(doc.body.paths)) {
      for (const [method, o] of Object.entries(item)) {
        const statuses = Object.keys(o.responses);
        const bearer =
          o.security?.some((r) => 'bearer' in r) && !o.security.some((r) => Object.keys(r).length === 0);
        const wanted = [
          ...(bearer ? ['401', '503'] : []),
          ...(o.requestBody ? ['400', '413', ...(method === 'delete' ? [] : ['415'])] : []),
        ];
        expect([method, path, statuses]).toEqual([method, path, expect.arrayContaining(wanted)]);
      }
    }
    expect(Object.keys(op('/api/v1/users', 'post').responses).sort()).toEqual(
      ['201', '400', '401', '403', '409', '413', '415', '422', '429', '503'].sort(),
    );
    expect(Object.keys(op('/distributed/lock/{key}', 'delete').responses).sort()).toEqual(
      ['204', '400', '401', '403', '409', '413', '429', '503'].sort(),
    );
  });

  it('answers 405 with Allow for a method a path does not have, and 404 for a path it does not serve', async () => {
    const admin = await s.login();
    const allowOf = (res: { headers: Headers }) => (res.headers.get('allow') ?? '').split(', ').sort();
    const users = await s.request('DELETE', '/api/v1/users', { token: admin });
    expect(users.status).toBe(405);
    expect(allowOf(users)).toEqual(['GET', 'HEAD', 'OPTIONS', 'POST']);
    expect(users.body).toMatchObject({ type: `${PROBLEM_BASE}method-not-allowed`, status: 405 });
    const one = await s.request('POST', '/api/v1/users/6f1c1ef6-7f4e-4a55-9a41-2b1b5d4b1d1e', {
      token: admin,
      body: {},
    });
    expect([one.status, allowOf(one)]).toEqual([405, ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'PUT']]);
    const probe = await s.request('POST', '/live', { body: {} });
    expect([probe.status, allowOf(probe)]).toEqual([405, ['GET', 'HEAD', 'OPTIONS']]);
    const missing = await s.request('GET', '/api/v1/nothing-here');
    expect([missing.status, missing.headers.get('allow')]).toEqual([404, null]);
  });

  it('serves Swagger UI at /docs from the service itself, under the same CSP, rendering /openapi.json', async () => {
    const https = { headers: { 'x-forwarded-proto': 'https' } };
    const page = await s.request('GET', '/docs', https);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    // Every script and stylesheet is a file of this service; none is inline (the CSP would block it).
    const refs = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    expect(refs).toEqual(expect.arrayContaining(['/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js']));
    expect(page.text).not.toMatch(/<script>/);
    expect(page.text).not.toMatch(/https?:\/\//);
    const types: Record<string, RegExp> = {
      '.css': /^text\/css/,
      '.js': /^(text|application)\/javascript/,
      '.png': /^image\/png/,
    };
    for (const ref of refs) {
      const asset = await s.request('GET', ref, https);
      expect([ref, asset.status]).toEqual([ref, 200]);
      const type = types[ref.slice(ref.lastIndexOf('.'))];
      expect(type).toBeDefined();
      expect(asset.headers.get('content-type')).toMatch(type as RegExp);
      expect(asset.text.length).toBeGreaterThan(100);
    }
    // The initializer points Swagger UI at this service's document and nowhere else (no validator badge).
    const init = await s.request('GET', '/docs/init.js', https);
    expect(init.text).toContain("url: '/openapi.json'");
    expect(init.text).toContain('validatorUrl: null');
    expect(init.text).not.toMatch(/https?:\/\//);
    // The package's demo page (the public Petstore) is not served.
    expect((await s.request('GET', '/docs/index.html', https)).status).toBe(404);
  });

  it('turns readiness false while draining and asks clients to close connections when closing', async () => {
    const { lifecycle } = s.composition;
    lifecycle.drain();
    const ready = await s.request('GET', '/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'down', phase: 'draining' });
    expect((await s.request('GET', '/health')).status).toBe(503);
    const during = await s.request('GET', '/api/test', { headers: { 'x-forwarded-proto': 'https' } });
    expect(during.status).toBe(200);
    expect(during.headers.get('connection')).not.toBe('close');
    lifecycle.close();
    const closing = await s.request('GET', '/api/test', { headers: { 'x-forwarded-proto': 'https' } });
    expect(closing.status).toBe(200);
    expect(closing.headers.get('connection')).toBe('close');
  });
});
