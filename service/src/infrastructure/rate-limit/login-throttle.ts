// Login protection on rate-limiter-flexible, after its "login endpoint protection" scheme
// (consecutive failures per username+IP, reset on success, and failures per IP per day), with two
// changes. Points are consumed before the password is verified and given back on success, so
// parallel guesses cannot all pass a check made before any of them failed. And a client holding a
// device token for the username (it logged in as that user before) is limited per username+device
// instead of by address, so a flood from a shared address (a NAT, a proxy) cannot lock out the
// people behind it who have logged in before. The trade-off is in service/docs/security.md.
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { LoginAttempt, LoginThrottle } from '../../domain/auth/ports.js';
import { TooManyRequestsError } from '../../domain/shared/errors.js';
import { type RateLimiterFactory, isRateLimited } from './rate-limiter.js';

export interface LoginThrottleOptions {
  maxConsecutiveFails: number;
  consecutiveBlockSeconds: number;
  maxFailsPerIpDay: number;
}

const DAY = 86_400;

interface Reservation {
  limiter: RateLimiterAbstract;
  key: string;
  // Restarts on success (the consecutive counters), rather than giving one point back.
  resetOnSuccess: boolean;
}

export class RateLimiterLoginThrottle implements LoginThrottle {
  private readonly byUserIp: RateLimiterAbstract;
  private readonly byUserDevice: RateLimiterAbstract;
  private readonly byIp: RateLimiterAbstract;

  constructor(factory: RateLimiterFactory, options: LoginThrottleOptions) {
    const consecutive = {
      points: options.maxConsecutiveFails,
      durationSeconds: options.consecutiveBlockSeconds,
      blockSeconds: options.consecutiveBlockSeconds,
    };
    this.byUserIp = factory.create({ keyPrefix: 'login_fail_consecutive_username_and_ip', ...consecutive });
    this.byUserDevice = factory.create({
      keyPrefix: 'login_fail_consecutive_username_and_device',
      ...consecutive,
    });
    this.byIp = factory.create({
      keyPrefix: 'login_fail_ip_per_day',
      points: options.maxFailsPerIpDay,
      durationSeconds: DAY,
      blockSeconds: DAY,
    });
  }

  async reserve(username: string, ip: string, trustedDevice?: string): Promise<LoginAttempt> {
    const wanted: Reservation[] = trustedDevice
      ? [{ limiter: this.byUserDevice, key: `${username}_${trustedDevice}`, resetOnSuccess: true }]
      : [
          { limiter: this.byUserIp, key: `${username}_${ip}`, resetOnSuccess: true },
          { limiter: this.byIp, key: ip, resetOnSuccess: false },
        ];
    const taken: Reservation[] = [];
    try {
      for (const r of wanted) {
        await r.limiter.consume(r.key);
        taken.push(r);
      }
    } catch (err) {
      await giveBack(taken);
      if (!isRateLimited(err)) throw err;
      throw new TooManyRequestsError(
        'too many failed logins; try again later',
        Math.max(1, Math.ceil(err.msBeforeNext / 1000)),
      );
    }
    return {
      succeeded: async () => {
        await Promise.all(
          taken.map((r) => (r.resetOnSuccess ? r.limiter.delete(r.key) : r.limiter.reward(r.key))),
        );
      },
      cancelled: () => giveBack(taken),
    };
  }
}

async function giveBack(taken: Reservation[]): Promise<void> {
  await Promise.all(taken.map((r) => r.limiter.reward(r.key)));
}
