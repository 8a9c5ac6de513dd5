// Times every request and reports it by route pattern (never the raw path, so unknown URLs all
// share the label "unmatched" and the series count stays bounded).
import type { RequestHandler } from 'express';
import type { HttpObserver } from '../../infrastructure/metrics/metrics.js';
import { routePattern } from './route-pattern.js';

export function httpMetrics(observer: HttpObserver): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      observer.request(req.method, routePattern(req, res), res.statusCode, seconds);
    });
    next();
  };
}
