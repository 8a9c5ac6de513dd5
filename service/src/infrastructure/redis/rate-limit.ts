// Rate limits on Redis (shared by every replica) with an in-memory insurance limiter per process:
// while Redis is unreachable, rate-limiter-flexible answers from the insurance limiter instead of
// failing, and rejectIfRedisNotReady makes that switch immediate (no command waits on a dead socket).
import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  type RateLimiterAbstract,
  type RateLimiterRes,
} from 'rate-limiter-flexible';
import type { LimiterSpec, RateLimiterFactory } from '../rate-limit/rate-limiter.js';

export interface RedisRateLimiterOptions {
  // During an outage each replica enforces points / insuranceDivisor on its own, so the fleet as a
  // whole stays near the configured limit (set it to the expected replica count).
  insuranceDivisor?: number;
}

export class RedisRateLimiterFactory implements RateLimiterFactory {
  readonly kind = 'redis';

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly options: RedisRateLimiterOptions = {},
  ) {}

  create(spec: LimiterSpec): RateLimiterAbstract {
    const divisor = Math.max(1, this.options.insuranceDivisor ?? 1);
    return new RateLimiterRedis({
      storeClient: this.redis,
      keyPrefix: `${this.keyPrefix}rl:${spec.keyPrefix}`,
      points: spec.points,
      duration: spec.durationSeconds,
      blockDuration: spec.blockSeconds ?? 0,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({
        keyPrefix: `insurance:${spec.keyPrefix}`,
        points: Math.max(1, Math.ceil(spec.points / divisor)),
        duration: spec.durationSeconds,
        blockDuration: spec.blockSeconds ?? 0,
      }),
    });
  }
}

// The HTTP-level limiters are built in http/middleware/rate-limit.ts (httpLimiters); the login
// limiters live in the core's RateLimiterLoginThrottle and move to Redis by being given this factory.

// IETF draft-ietf-httpapi-ratelimit-headers fields (RateLimit-Limit/Remaining/Reset/Policy) and,
// when refused, Retry-After. Reset and Retry-After are whole seconds, rounded up.
export function rateLimitHeaders(
  res: Pick<RateLimiterRes, 'remainingPoints' | 'msBeforeNext'>,
  limit: { points: number; durationSeconds: number },
  refused: boolean,
): Record<string, string> {
  const reset = Math.max(0, Math.ceil(res.msBeforeNext / 1000));
  const headers: Record<string, string> = {
    'RateLimit-Limit': String(limit.points),
    'RateLimit-Remaining': String(Math.max(0, res.remainingPoints)),
    'RateLimit-Reset': String(reset),
    'RateLimit-Policy': `${limit.points};w=${limit.durationSeconds}`,
  };
  if (refused) headers['Retry-After'] = String(Math.max(1, reset));
  return headers;
}
