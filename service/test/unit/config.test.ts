import { describe, expect, it } from '@jest/globals';
import { ConfigError, durationToSeconds, loadConfig, weakSecretReason } from '../../src/config/config.js';

describe('loadConfig', () => {
  it('has working defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      env: 'development',
      port: 3000,
      db: { dialect: 'sqlite', pool: { max: 10 }, migrateOnBoot: true },
      shutdown: { delayMs: 5000, timeoutMs: 20_000 },
      http: { trustProxy: false, corsOrigins: [], bodyLimit: '100kb', cookieSecure: false },
      jwt: { accessTtlSeconds: 900, issuer: 'express-sqlize' },
    });
    expect(c.db.storage).toMatch(/\.local\/express-sqlize\.sqlite$/);
  });

  it('infers PostgreSQL from DATABASE_URL and parses lists, booleans and trust proxy', () => {
    const c = loadConfig({
      DATABASE_URL: 'postgres://u:p@db:5432/app',
      CORS_ORIGINS: 'https://a.test, https://b.test,',
      TRUST_PROXY: '2',
      DB_SSL: 'true',
      DEBUG: 'db,http',
      EMAIL_DOMAIN_ALLOWLIST: 'Example.COM',
      REDIS_HOST: 'redis',
      REDIS_TLS: 'yes',
    });
    expect(c.db).toMatchObject({ dialect: 'postgres', url: 'postgres://u:p@db:5432/app', ssl: true });
    expect(c.http.corsOrigins).toEqual(['https://a.test', 'https://b.test']);
    expect(c.http.trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).http.trustProxy).toEqual([
      'loopback',
      '10.0.0.0/8',
    ]);
    expect(loadConfig({ TRUST_PROXY: 'true' }).http.trustProxy).toBe(true);
    expect(c.log.debug).toEqual(['db', 'http']);
    expect(c.rules.emailDomainAllowlist).toEqual(['example.com']);
    expect(c.redis).toMatchObject({ host: 'redis', tls: true, port: 6379 });
  });

  it('names every bad variable in one error, without echoing secrets', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({
        PORT: '-1',
        NODE_ENV: 'staging',
        DB_POOL_MAX: 'many',
        BODY_LIMIT: 'huge',
        DB_PASSWORD: undefined,
        JWT_EXPIRES_IN: '15 minutes',
      });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'BODY_LIMIT',
      'DB_POOL_MAX',
      'JWT_EXPIRES_IN',
      'NODE_ENV',
      'PORT',
    ]);
    expect(() => loadConfig({ DB_DIALECT: 'postgres', DATABASE_URL: 'mysql://x' })).toThrow(
      /DATABASE_URL: must start with postgres/,
    );
    expect(() => loadConfig({ DB_POOL_MIN: '5', DB_POOL_MAX: '2' })).toThrow(/DB_POOL_MIN/);
  });

  it('refuses a weak JWT secret in production only', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short' })).toThrow(
      /JWT_SECRET: must be at least 32/,
    );
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET: is required in production/);
    const strong = 'q8Vf3kLz0pWm7XcRt2NbYh6JdGs9AeU1';
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: strong }).http.cookieSecure).toBe(true);
    expect(weakSecretReason('a'.repeat(40))).toBe('has too few distinct characters');
    expect(weakSecretReason('changeme')).toMatch(/at least 32/);
    expect(loadConfig({ JWT_SECRET: 'short' }).jwt.secret).toBe('short');
  });

  it('watches a flags ConfigMap only when one is named, and then needs its namespace', () => {
    expect(loadConfig({}).featureFlagsConfigMap).toBeUndefined();
    expect(loadConfig({ FEATURE_FLAGS_CONFIGMAP: '' }).featureFlagsConfigMap).toBeUndefined();
    expect(
      loadConfig({ FEATURE_FLAGS_CONFIGMAP: 'orders-flags', POD_NAMESPACE: 'shop' }).featureFlagsConfigMap,
    ).toEqual({ name: 'orders-flags', namespace: 'shop' });
    expect(() => loadConfig({ FEATURE_FLAGS_CONFIGMAP: 'orders-flags' })).toThrow(
      /FEATURE_FLAGS_CONFIGMAP: needs POD_NAMESPACE/,
    );
    expect(() => loadConfig({ FEATURE_FLAGS_CONFIGMAP: 'Orders_Flags', POD_NAMESPACE: 'shop' })).toThrow(
      /FEATURE_FLAGS_CONFIGMAP: .*ConfigMap name/,
    );
  });

  it('refuses an HTTPS redirect that would loop or copy Host: it needs TRUST_PROXY and PUBLIC_ORIGIN', () => {
    expect(() => loadConfig({ HTTPS_REDIRECT: 'true', PUBLIC_ORIGIN: 'https://api.example.com' })).toThrow(
      /HTTPS_REDIRECT: needs TRUST_PROXY/,
    );
    expect(() => loadConfig({ HTTPS_REDIRECT: 'true', TRUST_PROXY: '1' })).toThrow(
      /HTTPS_REDIRECT: needs PUBLIC_ORIGIN/,
    );
    expect(() => loadConfig({ PUBLIC_ORIGIN: 'http://api.example.com' })).toThrow(/PUBLIC_ORIGIN/);
    const ok = loadConfig({
      HTTPS_REDIRECT: 'true',
      TRUST_PROXY: '1',
      PUBLIC_ORIGIN: 'https://api.example.com/x',
    });
    expect(ok.http.publicOrigin).toBe('https://api.example.com');
  });

  it('converts durations', () => {
    expect(durationToSeconds('15m')).toBe(900);
    expect(durationToSeconds('7d')).toBe(604_800);
    expect(() => durationToSeconds('soon')).toThrow();
  });
});

describe('HTTP_DISABLED_MIDDLEWARE', () => {
  it('switches off only the named middleware and refuses unknown names', () => {
    expect([
      ...loadConfig({ HTTP_DISABLED_MIDDLEWARE: 'helmet, access-log' }).http.disabledMiddleware,
    ]).toEqual(['helmet', 'access-log']);
    expect(loadConfig({}).http.disabledMiddleware.size).toBe(0);
    expect(() => loadConfig({ HTTP_DISABLED_MIDDLEWARE: 'helmet,firewall' })).toThrow(
      /HTTP_DISABLED_MIDDLEWARE/,
    );
  });
});
