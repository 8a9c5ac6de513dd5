// Rate limits in the HTTP layer: a per-client limiter in front of everything but the probes, and a
// per-user limiter behind authentication. The client key is req.ip, which honours X-Forwarded-For
// only as far as TRUST_PROXY allows: with it off a forged header never buys a fresh bucket.
import type { Request, RequestHandler, Response } from 'express';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { TooManyRequestsError } from '../../domain/shared/errors.js';
import type { Config } from '../../config/config.js';
import type { FeatureFlags, Logger } from '../../domain/shared/ports.js';
import {
  type RateLimiterFactory,
  isRateLimited,
  rateLimitRefusals,
} from '../../infrastructure/rate-limit/rate-limiter.js';
import { rateLimitHeaders } from '../../infrastructure/redis/rate-limit.js';

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

// The limiters the app puts in front of the API. A limit of 0 points (the default) leaves that
// limiter out: a per-address limit that suits production would refuse load tests and benchmarks
// that all come from one address, so deployments set RATE_LIMIT_CLIENT_POINTS/_USER_POINTS.
export function httpLimiters(
  r: Config['distributed']['rateLimit'],
  limiters: RateLimiterFactory,
  flags: FeatureFlags,
  log: Logger,
): { perClient?: RequestHandler; perUser?: RequestHandler } {
  const enabled = () => flags.isEnabled('rateLimit');
  const limiter = (name: string, points: number, key: (req: Request, res: Response) => string | undefined) =>
    points > 0
      ? rateLimit({
          name,
          limiter: limiters.create({
            keyPrefix: `http_${name}`,
            points,
            durationSeconds: r.windowSeconds,
          }),
          points,
          durationSeconds: r.windowSeconds,
          key,
          enabled,
          log,
        })
      : undefined;
  return {
    perClient: limiter('client', r.clientPoints, clientKey),
    perUser: limiter(
      'user',
      r.userPoints,
      (_req, res) => (res.locals.principal as { id?: string } | undefined)?.id,
    ),
  };
}
