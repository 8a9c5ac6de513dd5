// /metrics against a real service on PostgreSQL: route-pattern labels, the unknown-path bound,
// database and pool instruments, the JSON form and the separate METRICS_PORT listener.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Counter, Registry } from 'prom-client';
import { startService, type TestService } from '../support/harness.js';
import { freePort } from '../support/processes.js';

// The series of one metric family in a text exposition (one line per label set).
export function series(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

describe('metrics on PostgreSQL', () => {
  let s: TestService;
  let metricsPort: number;
  beforeAll(async () => {
    metricsPort = await freePort();
    s = await startService('postgres', { METRICS_PORT: String(metricsPort) });
  });
  // With METRICS_PORT set the text metrics are served there only.
  const scrapeText = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  afterAll(async () => {
    await s.stop();
  });

  it('labels HTTP requests by method, route pattern and status code', async () => {
    const token = await s.login();
    const me = await s.request<{ id: string }>('GET', '/api/v1/auth/me', { token });
    await s.request('GET', `/api/v1/users/${me.body.id}`, { token });
    const text = await scrapeText();
    const h = series(text, 'esp_http_request_duration_seconds_count');
    expect(h).toContainEqual(
      expect.stringContaining('method="GET",route="/api/v1/users/:id",status_code="200"'),
    );
    expect(h).toContainEqual(
      expect.stringContaining('method="POST",route="/api/v1/auth/login",status_code="200"'),
    );
    // The user id itself never becomes a label value.
    expect(text).not.toContain(me.body.id);
    expect(series(text, 'esp_http_requests_total').length).toBe(h.length);
    expect(series(text, 'esp_process_cpu_user_seconds_total')).toHaveLength(1);
  });

  it('1,000 requests to random unknown paths add no label values', async () => {
    await s.request('GET', '/warm-up-the-unmatched-label');
    const before = await scrapeText();
    const names = ['esp_http_request_duration_seconds_bucket', 'esp_http_requests_total'];
    const counts = (t: string) => names.map((n) => series(t, n).length);
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(
        Array.from({ length: 50 }, () =>
          s.request('GET', `/${randomBytes(6).toString('hex')}/${randomBytes(4).toString('hex')}?q=1`),
        ),
      );
    }
    const after = await scrapeText();
    process.stdout.write(
      `series before/after 1,000 unknown paths: buckets ${counts(before)[0]} -> ${counts(after)[0]}, counters ${counts(before)[1]} -> ${counts(after)[1]}\n`,
    );
    // The /metrics scrape itself adds one label set between the two readings at most once.
    const scrape = (t: string) =>
      series(t, 'esp_http_requests_total').filter((l) => l.includes('route="/metrics"')).length;
    expect(counts(after)[1] - scrape(after)).toBe(counts(before)[1] - scrape(before));
    const unmatched = series(after, 'esp_http_requests_total').filter((l) => l.includes('route="unmatched"'));
    expect(unmatched).toEqual([expect.stringMatching(/status_code="404"} 100[1-9]$/)]);
  });

  it('times database queries by operation and reports the pool', async () => {
    const text = await scrapeText();
    const select = series(text, 'esp_db_query_duration_seconds_count').find((l) =>
      l.includes('operation="SELECT"'),
    );
    expect(Number(select?.split(' ')[1])).toBeGreaterThan(0);
    const pool = series(text, 'esp_db_pool_connections');
    expect(pool).toContainEqual(expect.stringMatching(/state="max"} 10$/));
    expect(pool).toContainEqual(expect.stringContaining('state="used"'));
    expect(series(text, 'esp_health_check_up').length).toBe(0);
    await s.request('GET', '/health', { token: await s.login() });
    const after = await scrapeText();
    expect(series(after, 'esp_health_check_up')).toContainEqual(
      'esp_health_check_up{check="database",critical="true"} 1',
    );
  });

  it('serves the text metrics on METRICS_PORT only, and the JSON to an admin only', async () => {
    expect((await s.request('GET', '/metrics')).status).toBe(404);
    expect((await s.request('GET', '/distributed/metrics')).status).toBe(404);
    for (const path of ['/metrics', '/distributed/metrics']) {
      const separate = await fetch(`http://127.0.0.1:${metricsPort}${path}`);
      expect(separate.status).toBe(200);
      expect(separate.headers.get('content-type')).toContain('text/plain');
      expect(await separate.text()).toContain('# TYPE esp_http_request_duration_seconds histogram');
    }
    expect((await fetch(`http://127.0.0.1:${metricsPort}/other`)).status).toBe(404);
    expect((await s.request('GET', '/distributed/metrics/json')).status).toBe(401);
    const json = await s.request<{ name: string; type: string }[]>('GET', '/distributed/metrics/json', {
      token: await s.login(),
    });
    expect(json.body).toContainEqual(
      expect.objectContaining({ name: 'esp_http_requests_total', type: 'counter' }),
    );
  });
});

describe('metrics switched off', () => {
  it('METRICS_ENABLED=false serves no metrics endpoint', async () => {
    const s = await startService('sqlite', { METRICS_ENABLED: 'false' });
    try {
      expect((await s.request('GET', '/metrics')).status).toBe(404);
      expect((await s.request('GET', '/distributed/metrics/json')).status).toBe(404);
    } finally {
      await s.stop();
    }
  });
});

describe('component registries', () => {
  it('are served with the service registry at /metrics and as JSON', async () => {
    const s = await startService('sqlite');
    try {
      const extra = new Registry();
      new Counter({ name: 'esp_component_things_total', help: 'things', registers: [extra] }).inc(3);
      s.composition.metrics.include(extra);
      expect((await s.request('GET', '/metrics')).text).toContain('esp_component_things_total 3');
      const json = await s.request<{ name: string }[]>('GET', '/distributed/metrics/json', {
        token: await s.login(),
      });
      expect(json.body.map((m) => m.name)).toEqual(
        expect.arrayContaining(['esp_component_things_total', 'esp_http_requests_total']),
      );
    } finally {
      await s.stop();
    }
  });
});
