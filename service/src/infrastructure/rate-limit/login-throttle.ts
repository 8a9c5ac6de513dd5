// The two-limiter login protection: consecutive failures per (username, IP), reset on success,
// and failures per IP per day. Either one blocks further attempts with a Retry-After.
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { LoginThrottle } from '../../domain/auth/ports.js';
import { TooManyRequestsError } from '../../domain/shared/errors.js';
import { type RateLimiterFactory, isRateLimited } from './rate-limiter.js';

export interface LoginThrottleOptions {
  maxConsecutiveFails: number;
  consecutiveBlockSeconds: number;
  maxFailsPerIpDay: number;
}

const DAY = 86_400;

export class RateLimiterLoginThrottle implements LoginThrottle {
  private readonly byUserIp: RateLimiterAbstract;
  private readonly byIp: RateLimiterAbstract;

  constructor(
    factory: RateLimiterFactory,
    private readonly options: LoginThrottleOptions,
  ) {
    this.byUserIp = factory.create({
      keyPrefix: 'login_fail_consecutive_username_and_ip',
      points: options.maxConsecutiveFails,
      durationSeconds: options.consecutiveBlockSeconds,
      blockSeconds: options.consecutiveBlockSeconds,
    });
    this.byIp = factory.create({
      keyPrefix: 'login_fail_ip_per_day',
      points: options.maxFailsPerIpDay,
      durationSeconds: DAY,
      blockSeconds: DAY,
    });
  }

  async check(username: string, ip: string): Promise<void> {
    const [pair, perIp] = await Promise.all([this.byUserIp.get(key(username, ip)), this.byIp.get(ip)]);
    let retry = 0;
    if (pair && pair.consumedPoints >= this.options.maxConsecutiveFails) retry = pair.msBeforeNext;
    if (perIp && perIp.consumedPoints >= this.options.maxFailsPerIpDay)
      retry = Math.max(retry, perIp.msBeforeNext);
    if (retry > 0)
      throw new TooManyRequestsError('too many failed logins; try again later', Math.ceil(retry / 1000));
  }

  async failed(username: string, ip: string): Promise<void> {
    await Promise.all([
      swallowLimit(this.byUserIp.consume(key(username, ip))),
      swallowLimit(this.byIp.consume(ip)),
    ]);
  }

  async succeeded(username: string, ip: string): Promise<void> {
    await this.byUserIp.delete(key(username, ip));
  }
}

function key(username: string, ip: string): string {
  return `${username}_${ip}`;
}

// Running out of points on a failure is expected; check() reports the block on the next attempt.
async function swallowLimit(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!isRateLimited(err)) throw err;
  }
}
