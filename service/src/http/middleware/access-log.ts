// One log line per request with the route pattern (bounded cardinality), status and duration.
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../../domain/shared/ports.js';
import { currentRequestId } from '../../infrastructure/logging/request-context.js';

// Express resets req.baseUrl when a request leaves a router, so routers record their mount path.
export function recordMountPath(): RequestHandler {
  return (req, res, next) => {
    res.locals.mountPath = req.baseUrl;
    next();
  };
}

export function routePattern(req: Request, res: Response): string {
  const route = req.route as { path?: string } | undefined;
  if (route?.path === undefined) return 'unmatched';
  const base = (res.locals.mountPath as string | undefined) ?? '';
  return `${base}${route.path === '/' && base ? '' : route.path}`;
}

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
