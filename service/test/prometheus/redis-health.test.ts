// Redis in the health registry: with Redis configured, a stopped Redis turns /ready (and the
// /distributed alias) 503 while /live stays 200, and readiness returns with Redis, no restart.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startService, type TestService } from '../support/harness.js';
import { SERVICE_DIR } from '../support/processes.js';

const run = promisify(execFile);
const redisScript = path.join(SERVICE_DIR, '..', 'hack', 'redis.sh');

function redisUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (!url) throw new Error('TEST_REDIS_URL is not set: run `make test-observability` (it starts Redis)');
  return url;
}

async function redis(cmd: 'stop' | 'start'): Promise<void> {
  await run(redisScript, [cmd], { env: { ...process.env, REDIS_PORT: new URL(redisUrl()).port } });
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

type Health = {
  status: string;
  checks: Record<string, { status: string; critical: boolean; error?: string }>;
};

describe('Redis health', () => {
  let s: TestService;
  beforeAll(async () => {
    s = await startService('sqlite', {
      REDIS_URL: redisUrl(),
      REDIS_KEY_PREFIX: `obs${Date.now()}:`,
      HEALTH_REDIS_CRITICAL: 'true',
    });
    await s.asAdmin();
  });
  afterAll(async () => {
    await redis('start');
    await s.stop();
  });

  it('a stopped Redis turns /ready 503 while /live stays 200; readiness returns with Redis', async () => {
    const healthy = await s.request<Health>('GET', '/health');
    expect(healthy.body.checks.redis).toMatchObject({ status: 'up', critical: true });
    expect((await s.request('GET', '/ready')).status).toBe(200);

    await redis('stop');
    try {
      await until('/ready to turn 503', async () => (await s.request('GET', '/ready')).status === 503);
      const down = await s.request<Health>('GET', '/distributed/health');
      expect(down.status).toBe(503);
      expect(down.body.checks.redis).toMatchObject({ status: 'down', critical: true });
      expect(down.body.checks.database.status).toBe('up');
      expect((await s.request('GET', '/distributed/ready')).status).toBe(503);
      expect((await s.request('GET', '/live')).status).toBe(200);
      expect((await s.request('GET', '/distributed/live')).status).toBe(200);
    } finally {
      await redis('start');
    }
    await until('/ready to return', async () => (await s.request('GET', '/ready')).status === 200);
  });

  it('by default (HEALTH_REDIS_CRITICAL unset) a Redis outage only degrades', async () => {
    const t = await startService('sqlite', {
      REDIS_URL: redisUrl(),
      REDIS_KEY_PREFIX: `obs${Date.now()}b:`,
    });
    try {
      await t.asAdmin();
      await redis('stop');
      await until('redis to be reported down', async () => {
        const h = await t.request<Health>('GET', '/health');
        return h.body.checks.redis?.status === 'down';
      });
      const h = await t.request<Health>('GET', '/health');
      expect(h.status).toBe(200);
      expect(h.body.status).toBe('degraded');
      expect((await t.request('GET', '/ready')).status).toBe(200);
    } finally {
      await redis('start');
      await t.stop();
    }
  });
});
