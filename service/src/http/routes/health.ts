// Probes for Kubernetes (/startup, /live, /ready), the aggregate /health and /api/test; /live,
// /ready and /health also answer under /distributed (the original design's paths).
import { Router, type RequestHandler } from 'express';
import type { AuthService } from '../../domain/auth/auth.service.js';
import type { HealthRegistry } from '../../runtime/health-registry.js';
import type { Lifecycle } from '../../runtime/lifecycle.js';
import { isAdminRequest } from '../middleware/authenticate.js';
import { sendProblem } from '../problem.js';

export interface HealthRouteDeps {
  lifecycle: Lifecycle;
  health: HealthRegistry;
  service: { name: string; region: string; zone: string };
  // An admin token on /health shows the checks; without one it answers only the status.
  auth: AuthService;
}

export function healthRoutes({ lifecycle, health, service, auth }: HealthRouteDeps): Router {
  const router = Router();
  const noStore = { 'Cache-Control': 'no-store' };

  router.get('/startup', (_req, res) => {
    res
      .set(noStore)
      .status(lifecycle.isStarted ? 200 : 503)
      .json({ status: lifecycle.isStarted ? 'started' : 'starting' });
  });

  // Liveness says only that the event loop answers; dependencies never make it fail.
  const live: RequestHandler = (_req, res) => {
    res.set(noStore).json({ status: 'alive' });
  };

  // The kubelet reads the status code; the checks (their errors may name paths or hosts) are
  // shown to administrators only.
  const ready: RequestHandler = async (req, res) => {
    res.set(noStore);
    if (!lifecycle.acceptsTraffic) {
      res.status(503).json({ status: 'down', phase: lifecycle.phase, checks: {} });
      return;
    }
    const report = await health.run();
    res.status(report.status === 'down' ? 503 : 200);
    const details = await isAdminRequest(auth, req);
    res.json({
      status: report.status,
      phase: lifecycle.phase,
      ...(details ? { checks: report.checks } : {}),
    });
  };

  const healthReport: RequestHandler = async (req, res) => {
    const report = await health.run();
    const status = lifecycle.acceptsTraffic ? report.status : 'down';
    res.set(noStore).status(status === 'down' ? 503 : 200);
    if (!(await isAdminRequest(auth, req))) {
      res.json({ status });
      return;
    }
    res.json({
      status,
      service: service.name,
      region: service.region,
      zone: service.zone,
      uptimeSeconds: Math.round(process.uptime()),
      timestamp: new Date().toISOString(),
      checks: report.checks,
    });
  };

  for (const prefix of ['', '/distributed']) {
    router.get(`${prefix}/live`, live);
    router.get(`${prefix}/ready`, ready);
    router.get(`${prefix}/health`, healthReport);
  }

  // The original design's smoke endpoint: answers without touching a dependency.
  router.get('/api/test', (_req, res) => {
    if (lifecycle.phase === 'starting') return sendProblem(res, 'service-unavailable', 'starting');
    res.json({
      message: 'API is working',
      service: service.name,
      region: service.region,
      zone: service.zone,
      timestamp: new Date().toISOString(),
    });
  });

  return router;
}
