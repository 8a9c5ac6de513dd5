// Rate limits in the HTTP layer: a per-client limiter in front of everything but the probes, and a
// per-user limiter behind authentication. The client key is req.ip, which honours X-Forwarded-For
// only as far as TRUST_PROXY allows: with it off a forged header never buys a fresh bucket.
import type { Request, RequestHandler, Response } from 'express';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { TooManyRequestsError } from '../../domain/shared/errors.js';
import type { Logger } from '../../domain/shared/ports.js';
import { isRateLimited } from '../../infrastructure/rate-limit/rate-limiter.js';
import { rateLimitHeaders } from '../../infrastructure/redis/rate-limit.js';

// Refusals per limiter name since start, read by the metrics.
export const rateLimitRefusals = new Map<string, number>();

export interface LimitMiddlewareOptions {
  name: string;
  limiter: RateLimiterAbstract;
  points: number;
  durationSeconds: number;
  key(req: Request, res: Response): string | undefined;
  // Read per request, so the rateLimit flag switches it at run time.
  enabled(): boolean;
  log: Logger;
}

export function rateLimit(o: LimitMiddlewareOptions): RequestHandler {
  const limit = { points: o.points, durationSeconds: o.durationSeconds };
  return async (req, res, next) => {
    const key = o.enabled() ? o.key(req, res) : undefined;
    if (key === undefined) return next();
    try {
      res.set(rateLimitHeaders(await o.limiter.consume(key), limit, false));
    } catch (err) {
      if (!isRateLimited(err)) {
        // The insurance limiter should make this unreachable; if not, serving beats refusing.
        o.log.warn('rate limiter failed; request let through', { error: (err as Error).message });
        return next();
      }
      rateLimitRefusals.set(o.name, (rateLimitRefusals.get(o.name) ?? 0) + 1);
      const headers = rateLimitHeaders(err, limit, true);
      res.set(headers);
      throw new TooManyRequestsError(
        'rate limit exceeded; retry after the time in Retry-After',
        Number(headers['Retry-After']),
      );
    }
    next();
  };
}

export const clientKey = (req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown';
