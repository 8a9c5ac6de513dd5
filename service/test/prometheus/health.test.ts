// The health registry's process checks and probes: a blocked event loop, memory and disk limits,
// check timeouts, readiness while draining, and the /distributed aliases.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HealthRegistry } from '../../src/runtime/health-registry.js';
import { startService, type TestService } from '../support/harness.js';

interface Check {
  status: string;
  critical: boolean;
  durationMs: number;
  error?: string;
  details?: Record<string, number | string>;
}
type Health = { status: string; checks: Record<string, Check> };

function blockFor(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy: nothing else runs on this thread, which is the point
  }
}

describe('health checks', () => {
  let s: TestService;
  beforeAll(async () => {
    s = await startService('sqlite', {
      HEALTH_EVENT_LOOP_MAX_MS: '300',
      HEALTH_RSS_MAX_MB: '1',
      HEALTH_DISK_MIN_FREE_MB: '100',
    });
    await s.asAdmin();
  });
  afterAll(async () => {
    await s.stop();
  });

  it('reports every check with its duration, at /health and /distributed/health', async () => {
    for (const path of ['/health', '/distributed/health']) {
      const res = await s.request<Health>('GET', path);
      expect(Object.keys(res.body.checks).sort()).toEqual([
        'database',
        'disk',
        'event-loop',
        'memory',
        'redis',
      ]);
      // Without Redis configured the features run in process: nothing to reach, never critical.
      expect(res.body.checks.redis).toMatchObject({ status: 'up', critical: false });
      for (const c of Object.values(res.body.checks)) expect(typeof c.durationMs).toBe('number');
      expect(res.body.checks.database).toMatchObject({ status: 'up', critical: true });
      expect(res.body.checks.disk).toMatchObject({ status: 'up', critical: false });
      expect(Number(res.body.checks.disk.details?.freeMb)).toBeGreaterThan(100);
      // RSS above 1 MB: memory is down, but it is not critical, so the service is degraded, not down.
      expect(res.body.checks.memory).toMatchObject({ status: 'down', critical: false });
      expect(res.body.checks.memory.error).toMatch(/^RSS \d/);
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('degraded');
    }
  });

  it('reports a blocked event loop without taking the replica out of rotation', async () => {
    const calm = await s.request<Health>('GET', '/health');
    expect(calm.body.checks['event-loop'].status).toBe('up');
    blockFor(800);
    await new Promise((r) => setTimeout(r, 20));
    const blocked = await s.request<Health>('GET', '/distributed/health');
    const loop = blocked.body.checks['event-loop'];
    expect(loop.status).toBe('down');
    expect(loop.error).toMatch(/^event loop blocked for \d+/);
    expect(Number(loop.details?.maxMs)).toBeGreaterThanOrEqual(700);
    expect(loop.details?.thresholdMs).toBe(300);
    // Not critical: readiness holds.
    expect((await s.request('GET', '/distributed/ready')).status).toBe(200);
  });

  it('/live never runs a check; /ready turns 503 while draining', async () => {
    const { health, lifecycle } = s.composition;
    let runs = 0;
    health.register({
      name: 'counted',
      critical: false,
      check: async () => {
        runs++;
      },
    });
    expect((await s.request('GET', '/live')).status).toBe(200);
    expect((await s.request('GET', '/distributed/live')).status).toBe(200);
    expect(runs).toBe(0);
    await s.request('GET', '/ready');
    expect(runs).toBe(1);
    lifecycle.drain();
    const ready = await s.request<{ phase: string }>('GET', '/distributed/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.phase).toBe('draining');
    expect((await s.request('GET', '/distributed/live')).status).toBe(200);
  });
});

describe('HealthRegistry', () => {
  it('times a hanging check out and lets a failing critical check decide readiness', async () => {
    const registry = new HealthRegistry(50);
    registry.register({ name: 'hangs', critical: false, check: () => new Promise(() => undefined) });
    registry.register({ name: 'fine', critical: true, check: async () => ({ answer: 42 }) });
    const degraded = await registry.run();
    expect(degraded.status).toBe('degraded');
    expect(degraded.checks.hangs).toMatchObject({ status: 'down', error: 'timed out after 50 ms' });
    expect(degraded.checks.hangs.durationMs).toBeGreaterThanOrEqual(45);
    expect(degraded.checks.fine.details).toEqual({ answer: 42 });
    registry.register({
      name: 'fine',
      critical: true,
      check: async () => {
        throw new Error('refused');
      },
    });
    const down = await registry.run();
    expect(down.status).toBe('down');
    expect(down.checks.fine).toMatchObject({ status: 'down', critical: true, error: 'refused' });
  });
});
