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
  afterAll(async () => {
    await s.stop();
  });

  it('labels HTTP requests by method, route pattern and status code', async () => {
    const token = await s.login();
    const me = await s.request<{ id: string }>('GET', '/api/v1/auth/me', { token });
    await s.request('GET', `/api/v1/users/${me.body.id}`, { token });
    const text = (await s.request('GET', '/metrics')).text;
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
    const before = (await s.request('GET', '/metrics')).text;
    const names = ['esp_http_request_duration_seconds_bucket', 'esp_http_requests_total'];
    const counts = (t: string) => names.map((n) => series(t, n).length);
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(
        Array.from({ length: 50 }, () =>
          s.request('GET', `/${randomBytes(6).toString('hex')}/${randomBytes(4).toString('hex')}?q=1`),
        ),
      );
    }
    const after = (await s.request('GET', '/metrics')).text;
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
    const text = (await s.request('GET', '/metrics')).text;
    const select = series(text, 'esp_db_query_duration_seconds_count').find((l) =>
      l.includes('operation="SELECT"'),
    );
    expect(Number(select?.split(' ')[1])).toBeGreaterThan(0);
    const pool = series(text, 'esp_db_pool_connections');
    expect(pool).toContainEqual(expect.stringMatching(/state="max"} 10$/));
    expect(pool).toContainEqual(expect.stringContaining('state="used"'));
    expect(series(text, 'esp_health_check_up').length).toBe(0);
    await s.request('GET', '/health');
    const after = (await s.request('GET', '/metrics')).text;
    expect(series(after, 'esp_health_check_up')).toContainEqual(
      'esp_health_check_up{check="database",critical="true"} 1',
    );
  });

  it('serves the same registry at /distributed/metrics, as JSON and on METRICS_PORT', async () => {
    const dm = await s.request('GET', '/distributed/metrics');
    expect(dm.status).toBe(200);
    expect(dm.headers.get('content-type')).toContain('text/plain');
    expect(dm.text).toContain('# TYPE esp_http_request_duration_seconds histogram');
    const json = await s.request<{ name: string; type: string }[]>('GET', '/distributed/metrics/json');
    expect(json.body).toContainEqual(
      expect.objectContaining({ name: 'esp_http_requests_total', type: 'counter' }),
    );
    const separate = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(separate.status).toBe(200);
    expect(await separate.text()).toContain('esp_http_requests_total{');
    expect((await fetch(`http://127.0.0.1:${metricsPort}/other`)).status).toBe(404);
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
      const json = await s.request<{ name: string }[]>('GET', '/distributed/metrics/json');
      expect(json.body.map((m) => m.name)).toEqual(
        expect.arrayContaining(['esp_component_things_total', 'esp_http_requests_total']),
      );
    } finally {
      await s.stop();
    }
  });
});
