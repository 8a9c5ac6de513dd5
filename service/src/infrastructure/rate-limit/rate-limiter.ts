// Limiters are made by a factory: in memory here for the embedded mode; the Redis-backed factory
// (rate-limiter-flexible's RateLimiterRedis with an in-memory insurance limiter) is in ../redis.
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

// Refusals per limiter name since start, counted by the HTTP middleware and read by the metrics.
export const rateLimitRefusals = new Map<string, number>();
