import { describe, expect, it } from '@jest/globals';
import { startService } from '../support/harness.js';

describe('readiness with a failing critical check', () => {
  it('answers /ready 503 and a degraded /health for a non-critical failure', async () => {
    const s = await startService('sqlite', { HEALTH_CHECK_TIMEOUT_MS: '100' });
    try {
      await s.asAdmin();
      s.composition.health.register({
        name: 'cache',
        critical: false,
        check: () => Promise.reject(new Error('cache down')),
      });
      const degraded = await s.request('GET', '/ready');
      expect(degraded.status).toBe(200);
      expect(degraded.body).toMatchObject({
        status: 'degraded',
        checks: { cache: { status: 'down', error: 'cache down' } },
      });

      s.composition.health.register({
        name: 'slow',
        critical: true,
        check: () => new Promise((r) => setTimeout(r, 1000)),
      });
      const started = Date.now();
      const down = await s.request('GET', '/ready');
      expect(Date.now() - started).toBeLessThan(900);
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({
        status: 'down',
        checks: { slow: { status: 'down', error: 'timed out after 100 ms' } },
      });
    } finally {
      await s.stop();
    }
  });
});
