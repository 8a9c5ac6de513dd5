// Metrics for Prometheus (text at METRICS_PATH and /distributed/metrics, JSON at
// /distributed/metrics/json) and the sanitised configuration and build information. With
// METRICS_PORT set the text metrics are served only there (runtime/metrics-server.ts), never on
// the API port; the JSON metrics, the configuration and the build information need an admin token.
import { Router, type RequestHandler } from 'express';
import type { Config } from '../../config/config.js';
import type { AuthService } from '../../domain/auth/auth.service.js';
import type { Metrics } from '../../infrastructure/metrics/metrics.js';
import { sanitizedConfig, serviceInfo } from '../../runtime/config-view.js';
import { adminOnly } from '../middleware/authenticate.js';

export interface ObservabilityRouteDeps {
  config: Config;
  metrics: Metrics;
  version: string;
  gitSha?: string;
  auth: AuthService;
}

export function metricsHandler(metrics: Metrics): RequestHandler {
  return async (_req, res) => {
    res
      .set('Cache-Control', 'no-store')
      .type(metrics.contentType)
      .send(await metrics.text());
  };
}

export function observabilityRoutes({
  config,
  metrics,
  version,
  gitSha,
  auth,
}: ObservabilityRouteDeps): Router {
  const router = Router();
  const admin = adminOnly(auth);
  if (config.metrics.enabled) {
    if (config.metrics.port === undefined) {
      const text = metricsHandler(metrics);
      router.get(config.metrics.path, text);
      if (config.metrics.path !== '/distributed/metrics') router.get('/distributed/metrics', text);
    }
    router.get('/distributed/metrics/json', ...admin, async (_req, res) => {
      res.set('Cache-Control', 'no-store').json(await metrics.json());
    });
  }
  router.get('/distributed/config', ...admin, (_req, res) => {
    res.set('Cache-Control', 'no-store').json(sanitizedConfig(config));
  });
  router.get('/distributed/info', ...admin, (_req, res) => {
    res.set('Cache-Control', 'no-store').json(serviceInfo(config, version, gitSha));
  });
  return router;
}
