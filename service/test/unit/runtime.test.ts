import { PassThrough } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { LoggerFactory } from '../../src/infrastructure/logging/logger.js';
import { REDACTED, redact } from '../../src/infrastructure/logging/redact.js';
import { requestContext } from '../../src/infrastructure/logging/request-context.js';
import { RateLimiterLoginThrottle } from '../../src/infrastructure/rate-limit/login-throttle.js';
import { MemoryRateLimiterFactory } from '../../src/infrastructure/rate-limit/rate-limiter.js';
import { TooManyRequestsError } from '../../src/domain/shared/errors.js';
import { can, requireOnUser, requirePermission } from '../../src/domain/rbac/permissions.js';
import { HealthRegistry } from '../../src/runtime/health-registry.js';
import { Lifecycle } from '../../src/runtime/lifecycle.js';

describe('logging', () => {
  it('redacts secrets at any depth and keeps the rest', () => {
    const out = redact({
      user: { email: 'a@b.c', password: 'p', nested: [{ accessToken: 't' }] },
      Authorization: 'Bearer x',
      ok: 1,
    });
    expect(out).toEqual({
      user: { email: 'a@b.c', password: REDACTED, nested: [{ accessToken: REDACTED }] },
      Authorization: REDACTED,
      ok: 1,
    });
    expect(redact(new Error('boom'))).toMatchObject({ name: 'Error', message: 'boom' });
  });

  it('writes JSON with the request id and per-category debug levels', async () => {
    const stream = new PassThrough();
    const lines: Record<string, unknown>[] = [];
    stream.on('data', (d: Buffer) =>
      d
        .toString()
        .split('\n')
        .filter(Boolean)
        .forEach((l) => lines.push(JSON.parse(l) as Record<string, unknown>)),
    );
    const loggers = new LoggerFactory({
      level: 'info',
      format: 'json',
      debugCategories: ['db'],
      service: 'svc',
      stream,
    });
    requestContext.run({ requestId: 'r-1' }, () => {
      loggers.get('db').debug('query', { password: 'hunter2' });
      loggers.get('http').debug('hidden');
      loggers.get('http').info('shown');
    });
    expect(loggers.get('db')).toBe(loggers.get('db'));
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'debug',
        category: 'db',
        message: 'query',
        requestId: 'r-1',
        password: REDACTED,
        service: 'svc',
      }),
      expect.objectContaining({ level: 'info', category: 'http', message: 'shown', requestId: 'r-1' }),
    ]);
    const pretty = new LoggerFactory({
      level: 'info',
      format: 'pretty',
      debugCategories: ['*'],
      service: 's',
      stream,
    });
    expect(pretty.get('x').isDebugEnabled()).toBe(true);
  });

  it('LOG_FORMAT=pretty writes a coloured, human-readable line per entry, still redacted', async () => {
    const stream = new PassThrough();
    let out = '';
    stream.on('data', (c: Buffer) => (out += c.toString()));
    const loggers = new LoggerFactory({
      level: 'info',
      format: 'pretty',
      debugCategories: [],
      service: 's',
      stream,
    });
    loggers.get('http').warn('slow request', { route: '/api/v1/users', password: 'hunter2' });
    await new Promise((r) => setImmediate(r));
    // eslint-disable-next-line no-control-regex -- the ANSI escapes are what is being checked
    const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
    expect(out).toContain('\x1b[33mwarn\x1b[39m');
    expect(plain).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} warn \[http\] slow request \{ route: '\/api\/v1\/users', password: '\[REDACTED\]' \}\n$/,
    );
    expect(out).not.toContain('hunter2');
  });
});

describe('in-process adapters', () => {
  it('the login throttle blocks a user+IP pair and an IP independently, and a known device apart', async () => {
    const throttle = new RateLimiterLoginThrottle(new MemoryRateLimiterFactory(), {
      maxConsecutiveFails: 2,
      consecutiveBlockSeconds: 60,
      maxFailsPerIpDay: 3,
    });
    await throttle.reserve('a', 'ip1');
    await throttle.reserve('a', 'ip1');
    await expect(throttle.reserve('a', 'ip1')).rejects.toBeInstanceOf(TooManyRequestsError);
    await throttle.reserve('a', 'ip2');
    const cancelled = await throttle.reserve('b', 'ip1');
    await cancelled.cancelled();
    await throttle.reserve('b', 'ip1');
    await expect(throttle.reserve('c', 'ip1')).rejects.toMatchObject({
      retryAfterSeconds: expect.any(Number),
    });
    // A device that logged in as 'c' before is not held by the address's block, only by its own count.
    const known = await throttle.reserve('c', 'ip1', 'device-1');
    await known.succeeded();
    await throttle.reserve('c', 'ip1', 'device-1');
    await throttle.reserve('c', 'ip1', 'device-1');
    await expect(throttle.reserve('c', 'ip1', 'device-1')).rejects.toBeInstanceOf(TooManyRequestsError);
    await expect(throttle.reserve('a', 'ip1')).rejects.toBeInstanceOf(TooManyRequestsError);
  });
});

describe('RBAC', () => {
  it('maps roles to permissions and own/any access', () => {
    expect(can({ id: '1', role: 'admin' }, 'users:delete:any')).toBe(true);
    expect(can({ id: '1', role: 'user' }, 'users:list')).toBe(false);
    expect(() => requirePermission({ id: '1', role: 'user' }, 'users:create')).toThrow(
      'missing permission users:create',
    );
    expect(() => requireOnUser({ id: '1', role: 'user' }, 'update', '1')).not.toThrow();
    expect(() => requireOnUser({ id: '1', role: 'user' }, 'read', '2')).toThrow('you may not read this user');
    expect(() => requireOnUser({ id: '1', role: 'admin' }, 'update', '2')).not.toThrow();
  });
});

describe('runtime', () => {
  it('Lifecycle moves forward only', () => {
    const l = new Lifecycle();
    expect([l.phase, l.isStarted, l.acceptsTraffic]).toEqual(['starting', false, false]);
    l.started();
    expect([l.phase, l.acceptsTraffic]).toEqual(['serving', true]);
    l.drain();
    l.started();
    expect(l.phase).toBe('draining');
    l.close();
    l.drain();
    expect(l.phase).toBe('closing');
  });

  it('HealthRegistry shares one run within the cache window', async () => {
    let calls = 0;
    const registry = new HealthRegistry(100, 1000);
    registry.register({ name: 'db', critical: true, check: async () => void calls++ });
    const [a, b] = await Promise.all([registry.run(), registry.run()]);
    expect(a).toBe(b);
    expect(calls).toBe(1);
    expect(a).toMatchObject({ status: 'up', checks: { db: { status: 'up', critical: true } } });
  });
});
