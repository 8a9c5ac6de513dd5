// Tracing end to end: the compiled service, started with OTEL_EXPORTER_OTLP_ENDPOINT pointing at
// an OTLP/HTTP receiver in this test, exports the spans of a request, and its log lines carry the
// same trace id. Without the endpoint nothing is exported and no log line has a trace id.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPgDatabase } from '../support/harness.js';
import { FAULT_ENV, loginAdmin, startServer, type Server } from '../support/processes.js';

interface Span {
  traceId: string;
  spanId: string;
  name: string;
  attributes: { key: string; value: { stringValue?: string } }[];
}
interface Export {
  resourceSpans: { scopeSpans: { scope: { name: string }; spans: Span[] }[] }[];
}

function receiver(): Promise<{ server: http.Server; url: string; exports: Export[]; paths: string[] }> {
  const exports: Export[] = [];
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      paths.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      if (req.headers['content-type']?.includes('json')) exports.push(JSON.parse(body) as Export);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, exports, paths }),
    ),
  );
}

async function stop(server: Server): Promise<void> {
  server.child.kill('SIGTERM');
  await server.exited;
}

describe('OpenTelemetry tracing', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esp-trace-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('exports the spans of a request over OTLP/HTTP (http with its route, pg, ioredis) and logs their trace id', async () => {
    const redisUrl = process.env.TEST_REDIS_URL;
    if (!redisUrl)
      throw new Error('TEST_REDIS_URL is not set: run `make test-observability` (it starts Redis)');
    const otlp = await receiver();
    const db = await createPgDatabase();
    const server = await startServer({
      ...FAULT_ENV,
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: `trace${Date.now()}:`,
      LOG_LEVEL: 'info',
      STATE_DIR: dir,
      SHUTDOWN_DELAY_MS: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_SERVICE_NAME: 'esp-trace-test',
      // Every request, so that the one below is certain to be traced (the default samples 1 in 10).
      OTEL_TRACES_SAMPLER: 'always_on',
    });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/api/test`);
      expect(res.status).toBe(200);
      const deadline = Date.now() + 20_000;
      let spans: Span[] = [];
      for (;;) {
        spans = otlp.exports.flatMap((e) =>
          e.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)),
        );
        if (spans.some((s) => s.name === 'GET /api/test')) break;
        if (Date.now() > deadline) throw new Error(`no span exported: ${JSON.stringify(otlp.paths)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(otlp.paths[0]).toMatch(/^POST \/v1\/traces application\/json/);
      const root = spans.find((s) => s.name === 'GET /api/test');
      expect(root?.attributes).toContainEqual({ key: 'http.route', value: { stringValue: '/api/test' } });
      // One span for the request, named after its route: no span per middleware layer.
      expect(spans.filter((s) => s.traceId === root?.traceId).map((s) => s.name)).toEqual(['GET /api/test']);
      // A login reads the database: its queries are child spans of the request's trace.
      expect((await loginAdmin(`http://127.0.0.1:${server.port}`)).status).toBe(200);
      const login = async () => {
        const all = otlp.exports.flatMap((e) => e.resourceSpans.flatMap((r) => r.scopeSpans));
        const root = all.flatMap((s) => s.spans).find((s) => s.name === 'POST /api/v1/auth/login');
        const pg = all
          .filter((s) => s.scope.name === '@opentelemetry/instrumentation-pg')
          .flatMap((s) => s.spans);
        return { root, pg: pg.filter((s) => s.traceId === root?.traceId) };
      };
      const until = Date.now() + 20_000;
      while ((await login()).pg.length === 0) {
        if (Date.now() > until)
          throw new Error(`no pg span in the login trace: ${JSON.stringify(otlp.paths)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      // The login throttle counts in Redis: ioredis commands are spans too.
      const redisSpans = otlp.exports
        .flatMap((e) => e.resourceSpans.flatMap((r) => r.scopeSpans))
        .filter((s) => s.scope.name === '@opentelemetry/instrumentation-ioredis')
        .flatMap((s) => s.spans);
      expect(redisSpans.length).toBeGreaterThan(0);
      process.stdout.write(
        `login trace: ${(await login()).pg.length} pg spans; ${redisSpans.length} ioredis spans exported\n`,
      );
      const line = server
        .output()
        .split('\n')
        .find((l) => l.includes('"route":"/api/test"'));
      expect(line).toBeDefined();
      const logged = JSON.parse(line ?? '{}') as { trace_id?: string; span_id?: string };
      expect(logged.trace_id).toBe(root?.traceId);
      expect(logged.span_id).toMatch(/^[0-9a-f]{16}$/);
    } finally {
      await stop(server);
      otlp.server.close();
      await db.drop();
    }
  });

  it('samples one trace in ten by default and always follows a sampled traceparent', async () => {
    const otlp = await receiver();
    const server = await startServer({
      ...FAULT_ENV,
      STATE_DIR: dir,
      SHUTDOWN_DELAY_MS: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    const roots = (traceId?: string) =>
      otlp.exports
        .flatMap((e) => e.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)))
        .filter((s) => s.name === 'GET /api/test' && (!traceId || s.traceId === traceId));
    try {
      for (let i = 0; i < 300; i++) await fetch(`http://127.0.0.1:${server.port}/api/test`);
      // A caller that sampled its trace gets its spans, whatever the ratio.
      const traceIds = Array.from(
        { length: 10 },
        (_, i) => `${'ab'.repeat(15)}${String(i).padStart(2, '0')}`,
      );
      for (const id of traceIds)
        await fetch(`http://127.0.0.1:${server.port}/api/test`, {
          headers: { traceparent: `00-${id}-${'cd'.repeat(8)}-01` },
        });
      const deadline = Date.now() + 10_000;
      while (traceIds.some((id) => roots(id).length === 0) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 500)); // the last batch of the 300
      for (const id of traceIds) expect(roots(id)).toHaveLength(1);
      const sampled = roots().length - traceIds.length;
      process.stdout.write(`default sampler: ${sampled} of 300 requests traced\n`);
      // Binomial(300, 0.1): mean 30, standard deviation 5.2; outside 8..60 has odds below one in a million.
      expect(sampled).toBeGreaterThanOrEqual(8);
      expect(sampled).toBeLessThanOrEqual(60);
    } finally {
      await stop(server);
      otlp.server.close();
    }
  });

  it('stays off without an endpoint', async () => {
    const server = await startServer({
      ...FAULT_ENV,
      LOG_LEVEL: 'info',
      STATE_DIR: dir,
      SHUTDOWN_DELAY_MS: '0',
    });
    try {
      expect((await fetch(`http://127.0.0.1:${server.port}/api/test`)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 300));
      const lines = server
        .output()
        .split('\n')
        .filter((l) => l.includes('"route":"/api/test"'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toContain('trace_id');
    } finally {
      await stop(server);
    }
  });
});
