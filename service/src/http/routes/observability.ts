// Metrics for Prometheus (text at METRICS_PATH and /distributed/metrics, JSON at
// /distributed/metrics/json) and the sanitised configuration and build information.
import { Router, type RequestHandler } from 'express';
import type { Config } from '../../config/config.js';
import type { Metrics } from '../../infrastructure/metrics/metrics.js';
import { sanitizedConfig, serviceInfo } from '../../runtime/config-view.js';

export interface ObservabilityRouteDeps {
  config: Config;
  metrics: Metrics;
  version: string;
  gitSha?: string;
}

export function metricsHandler(metrics: Metrics): RequestHandler {
  return async (_req, res) => {
    res
      .set('Cache-Control', 'no-store')
      .type(metrics.contentType)
      .send(await metrics.text());
  };
}

export function observabilityRoutes({ config, metrics, version, gitSha }: ObservabilityRouteDeps): Router {
  const router = Router();
  if (config.metrics.enabled) {
    const text = metricsHandler(metrics);
    router.get(config.metrics.path, text);
    if (config.metrics.path !== '/distributed/metrics') router.get('/distributed/metrics', text);
    router.get('/distributed/metrics/json', async (_req, res) => {
      res.set('Cache-Control', 'no-store').json(await metrics.json());
    });
  }
  router.get('/distributed/config', (_req, res) => {
    res.set('Cache-Control', 'no-store').json(sanitizedConfig(config));
  });
  router.get('/distributed/info', (_req, res) => {
    res.set('Cache-Control', 'no-store').json(serviceInfo(config, version, gitSha));
  });
  return router;
}
