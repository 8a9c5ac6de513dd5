// The rate-limiter seam: limiters are made by a factory, in memory now; a Redis-backed factory
// (rate-limiter-flexible's RateLimiterRedis with an in-memory insurance limiter) can replace it.
import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export interface LimiterSpec {
  keyPrefix: string;
  points: number;
  durationSeconds: number;
  blockSeconds?: number;
}

export interface RateLimiterFactory {
  create(spec: LimiterSpec): RateLimiterAbstract;
}

export class MemoryRateLimiterFactory implements RateLimiterFactory {
  create(spec: LimiterSpec): RateLimiterAbstract {
    return new RateLimiterMemory({
      keyPrefix: spec.keyPrefix,
      points: spec.points,
      duration: spec.durationSeconds,
      blockDuration: spec.blockSeconds ?? 0,
    });
  }
}

// rate-limiter-flexible rejects with a RateLimiterRes when points run out, or an Error when the
// store fails; callers need to tell them apart.
export function isRateLimited(err: unknown): err is RateLimiterRes {
  return err instanceof RateLimiterRes;
}
