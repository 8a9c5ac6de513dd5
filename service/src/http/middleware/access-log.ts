// One log line per request with the route pattern (bounded cardinality), status and duration.
import type { RequestHandler } from 'express';
import type { Logger } from '../../domain/shared/ports.js';
import { currentRequestId } from '../../infrastructure/logging/request-context.js';
import { routePattern } from './route-pattern.js';

export function accessLog(log: Logger): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    const requestId = currentRequestId();
    res.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - start) / 1e6;
      // 503 is an expected answer (probes while starting or draining, a database outage).
      const level = res.statusCode === 503 ? 'warn' : res.statusCode >= 500 ? 'error' : 'info';
      log[level]('request', {
        requestId,
        method: req.method,
        route: routePattern(req, res),
        status: res.statusCode,
        durationMs: Math.round(durationMs * 100) / 100,
        userId: res.locals.principal?.id,
      });
    });
    next();
  };
}
