// A real Prometheus (hack/prometheus.sh, Debian's package) scrapes the running service; its
// HTTP API then answers for the HTTP histogram, which proves the exposition parses.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startService, type TestService } from '../support/harness.js';
import { SERVICE_DIR } from '../support/processes.js';

const run = promisify(execFile);
const script = path.join(SERVICE_DIR, '..', 'hack', 'prometheus.sh');
const promPort = process.env.PROMETHEUS_PORT ?? '31462';
const prom = `http://127.0.0.1:${promPort}`;

interface QueryResult {
  status: string;
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function query(q: string): Promise<QueryResult> {
  const res = await fetch(`${prom}/api/v1/query?query=${encodeURIComponent(q)}`);
  return (await res.json()) as QueryResult;
}

describe('Prometheus scraping /metrics', () => {
  let s: TestService;
  beforeAll(async () => {
    s = await startService('postgres');
    await run(script, ['up', `127.0.0.1:${s.composition.service.port}`, '/metrics'], {
      env: { ...process.env, PROMETHEUS_PORT: promPort },
    });
  });
  afterAll(async () => {
    await run(script, ['down'], { env: { ...process.env, PROMETHEUS_PORT: promPort } });
    await s.stop();
  });

  it('scrapes the target and answers for the HTTP request histogram by route', async () => {
    const token = await s.login();
    for (let i = 0; i < 20; i++) await s.request('GET', '/api/v1/users?limit=5', { token });
    await s.request('GET', '/no/such/path');
    const q = 'sum by (route, status_code) (esp_http_request_duration_seconds_count{job="express-sqlize"})';
    let result: QueryResult | undefined;
    const deadline = Date.now() + 30_000;
    for (;;) {
      result = await query(q);
      const routes = result.data.result.map((r) => r.metric.route);
      if (routes.includes('/api/v1/users') && routes.includes('unmatched')) break;
      if (Date.now() > deadline)
        throw new Error(`Prometheus never saw the series: ${JSON.stringify(result)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const users = result.data.result.find((r) => r.metric.route === '/api/v1/users');
    expect(users?.metric.status_code).toBe('200');
    expect(Number(users?.value[1])).toBeGreaterThanOrEqual(20);
    process.stdout.write(
      `Prometheus: ${q} -> ${JSON.stringify(result.data.result.map((r) => [r.metric, r.value[1]]))}\n`,
    );

    const up = await query('up{job="express-sqlize"}');
    expect(up.data.result[0]?.value[1]).toBe('1');
    const p99 = await query(
      'histogram_quantile(0.99, sum by (le) (rate(esp_http_request_duration_seconds_bucket{route="/api/v1/users"}[1m])))',
    );
    expect(p99.status).toBe('success');
    // The scrape itself reports no parse problem (Prometheus marks the target down otherwise).
    const targets = (await (await fetch(`${prom}/api/v1/targets`)).json()) as {
      data: { activeTargets: { health: string; lastError: string }[] };
    };
    expect(targets.data.activeTargets[0]).toMatchObject({ health: 'up', lastError: '' });
  });
});
