// PostgreSQL stopped while serving: /ready turns false and API calls answer 503 problem+json
// quickly, the metrics go on being served (they are how Prometheus learns that the database is
// down), the process stays alive, and everything recovers without a restart.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPgDatabase, pgAdminUrl } from '../support/harness.js';
import {
  FAULT_ENV,
  SERVICE_DIR,
  freePort,
  loginAdmin,
  startServer,
  type Server,
} from '../support/processes.js';

function pgctl(command: 'stop' | 'start'): void {
  execFileSync(path.join(SERVICE_DIR, '..', 'hack', 'postgres.sh'), [command], {
    env: { ...process.env, PG_PORT: new URL(pgAdminUrl()).port },
    stdio: 'inherit',
  });
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - start };
}

describe('PostgreSQL outage while serving', () => {
  let db: { url: string; drop(): Promise<void> };
  let server: Server;
  let base: string;
  let token: string;
  let metricsPort: number;

  beforeAll(async () => {
    db = await createPgDatabase();
    metricsPort = await freePort();
    server = await startServer({
      DATABASE_URL: db.url,
      METRICS_PORT: String(metricsPort),
      ...FAULT_ENV,
      SHUTDOWN_DELAY_MS: '0',
      HEALTH_CHECK_TIMEOUT_MS: '1000',
      DB_CONNECT_TIMEOUT_MS: '1000',
      DB_POOL_ACQUIRE_MS: '2000',
    });
    base = `http://127.0.0.1:${server.port}`;
    const login = await loginAdmin(base);
    token = ((await login.json()) as { accessToken: string }).accessToken;
  }, 60_000);

  afterAll(async () => {
    pgctl('start');
    if (server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    await db.drop();
  }, 60_000);

  it('degrades to 503 quickly, stays alive, and recovers when PostgreSQL returns', async () => {
    const me = () => fetch(`${base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    // Authentication and /me can be answered from the cache; listing sessions always needs the database.
    const sessions = () =>
      fetch(`${base}/api/v1/auth/sessions`, { headers: { authorization: `Bearer ${token}` } });
    expect((await me()).status).toBe(200);
    expect((await sessions()).status).toBe(200);

    pgctl('stop');
    const ready = await timed(() => fetch(`${base}/ready`));
    expect(ready.value.status).toBe(503);
    expect(ready.ms).toBeLessThan(3000);
    // Anonymous (no admin can be authenticated without the database): the status only.
    expect(await ready.value.json()).toEqual({ status: 'down', phase: 'serving' });

    for (let i = 0; i < 3; i++) {
      const api = await timed(sessions);
      expect(api.value.status).toBe(503);
      expect(api.ms).toBeLessThan(5000);
      expect(api.value.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(api.value.headers.get('retry-after')).toBe('5');
      const body = (await api.value.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        status: 503,
        type: 'https://platform.sqlize.dev/problems/service-unavailable',
      });
      expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|SELECT|127\.0\.0\.1/);
    }
    // The scrape of the metrics port answers in time, says the database check is down, and leaves
    // out the gauges that need the database instead of failing.
    const scrape = await timed(async () => {
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      return { status: res.status, body: await res.text() };
    });
    expect(scrape.value.status).toBe(200);
    expect(scrape.ms).toBeLessThan(3000);
    expect(scrape.value.body).toContain('esp_health_check_up{check="database",critical="true"} 0');
    expect(scrape.value.body).not.toMatch(/^esp_outbox_pending /m);
    // A rejection would end the process on the next turn of the event loop: give it that time.
    await new Promise((r) => setTimeout(r, 500));
    expect((await fetch(`${base}/live`)).status).toBe(200);
    expect(server.child.exitCode).toBeNull();

    pgctl('start');
    const deadline = Date.now() + 30_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await fetch(`${base}/ready`)).status;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
    expect((await me()).status).toBe(200);
    expect((await sessions()).status).toBe(200);
    const recovered = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(recovered).toMatch(/^esp_outbox_pending \d+$/m);
    expect(server.child.exitCode).toBeNull();
    process.stdout.write(
      `postgres outage: /ready answered 503 in ${ready.ms} ms, the metrics port in ${scrape.ms} ms\n`,
    );
  }, 90_000);
});
