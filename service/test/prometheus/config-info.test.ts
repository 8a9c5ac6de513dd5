// /distributed/config never shows a secret; /distributed/info says what runs where.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config/config.js';
import { MASK, sanitizedConfig } from '../../src/runtime/config-view.js';
import { JWT_SECRET, startService, type TestService } from '../support/harness.js';

const DB_URL_PASSWORD = 'Db-Url-Pa55word-xyz';
const DB_PASSWORD = 'Db-Pa55word-abcdef';
const REDIS_PASSWORD = 'Redis-Pa55word-qwerty';

describe('/distributed/config and /distributed/info', () => {
  let s: TestService;
  beforeAll(async () => {
    s = await startService('sqlite', {
      // Parsed but unused on SQLite: its credentials must still never show.
      DATABASE_URL: `postgres://app-user:${DB_URL_PASSWORD}@db.internal:5432/app`,
      DB_PASSWORD,
      REDIS_PASSWORD,
      GIT_SHA: '0123456789abcdef0123456789abcdef01234567',
      POD_NAME: 'orders-7c9d-x2x4z',
      APP_VERSION: '1.4.2',
      REGION: 'eu-west-1',
      ZONE: 'eu-west-1b',
    });
    await s.asAdmin();
  });
  afterAll(async () => {
    await s.stop();
  });

  it('shows the configuration without JWT_SECRET, passwords or URL credentials', async () => {
    const res = await s.request<{
      jwt: { secret: string };
      db: { url: string; password: string; pool: { max: number } };
    }>('GET', '/distributed/config');
    expect(res.status).toBe(200);
    for (const secret of [JWT_SECRET, DB_URL_PASSWORD, DB_PASSWORD, REDIS_PASSWORD, 'Root-Passw0rd!x']) {
      expect(res.text).not.toContain(secret);
    }
    expect(res.body.jwt.secret).toBe(MASK);
    expect(res.body.db.password).toBe(MASK);
    expect(res.body.db.url).toBe(`postgres://app-user:${MASK}@db.internal:5432/app`);
    // Everything else is shown as configured.
    expect(res.body.db.pool.max).toBe(10);
    expect(res.text).toContain('"region":"eu-west-1"');
  });

  it('masks credentials in a Redis URL, a user-only URL and a secret repeated in another value', () => {
    const config = loadConfig({
      NODE_ENV: 'test',
      JWT_SECRET: 'jwt-secret-value-0123456789',
      REDIS_URL: 'rediss://default:redis-url-secret@cache.internal:6380/2',
      DATABASE_URL: 'postgres://only-a-token@db.internal/app',
      // A secret pasted into an unrelated setting is caught by value.
      SERVICE_NAME: 'svc-jwt-secret-value-0123456789',
    });
    const text = JSON.stringify(sanitizedConfig(config));
    expect(text).not.toContain('redis-url-secret');
    expect(text).not.toContain('only-a-token');
    expect(text).not.toContain('jwt-secret-value-0123456789');
    expect(text).toContain(`rediss://default:${MASK}@cache.internal:6380/2`);
    expect(text).toContain(`postgres://${MASK}@db.internal/app`);
  });

  it('reports name, version, git sha, region, zone, pod and uptime', async () => {
    const res = await s.request<Record<string, unknown>>('GET', '/distributed/info');
    expect(res.body).toMatchObject({
      name: 'express-sqlize',
      version: '1.4.2',
      gitSha: '0123456789abcdef0123456789abcdef01234567',
      region: 'eu-west-1',
      zone: 'eu-west-1b',
      pod: 'orders-7c9d-x2x4z',
    });
    expect(typeof res.body.uptimeSeconds).toBe('number');
    expect(Date.parse(String(res.body.startedAt))).toBeLessThanOrEqual(Date.now());
  });
});
