// What every request leaves behind once answered: its duration in the HTTP histogram (by route
// pattern, so unknown URLs share "unmatched" and the series stay bounded) and one access-log line.
// One clock and one `finish` listener serve both, since either alone costs a listener, a closure
// and a clock read per request.
import type { RequestHandler } from 'express';
import type { Logger } from '../../domain/shared/ports.js';
import { currentRequestId } from '../../infrastructure/logging/request-context.js';
import type { HttpObserver } from '../../infrastructure/metrics/metrics.js';
import { routePattern } from './route-pattern.js';

export interface RequestObservers {
  // The HTTP histogram; absent with METRICS_ENABLED=false or the `metrics` switch off.
  metrics?: HttpObserver;
  // The access log; absent with the `access-log` switch off.
  accessLog?: Logger;
}

export function observeRequests({ metrics, accessLog }: RequestObservers): RequestHandler | undefined {
  if (!metrics && !accessLog) return undefined;
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    const requestId = accessLog ? currentRequestId() : undefined;
    res.on('finish', () => {
      const ns = Number(process.hrtime.bigint() - start);
      const route = routePattern(req, res);
      metrics?.request(req.method, route, res.statusCode, ns / 1e9);
      if (!accessLog) return;
      // 503 is an expected answer (probes while starting or draining, a database outage).
      const level = res.statusCode === 503 ? 'warn' : res.statusCode >= 500 ? 'error' : 'info';
      accessLog[level]('request', {
        requestId,
        method: req.method,
        route,
        status: res.statusCode,
        durationMs: Math.round(ns / 1e4) / 100,
        userId: res.locals.principal?.id,
      });
    });
    next();
  };
}
