// Mutual exclusion per resource name with fencing numbers, on one Redis or in process.
//
// A grant is a random token stored under the lock key with SET NX PX; release and extend are
// compare-and-delete / compare-and-set scripts, so a holder whose lease expired can never delete or
// prolong someone else's lock. Every grant also carries a fencing number from a per-resource counter
// (INCR in the same script as the SET), strictly increasing across grants. A lease can expire under a
// holder that is paused (GC, SIGSTOP, a slow disk); only the resource checking the fencing number
// (reject anything lower than the highest seen) makes that late holder harmless. See docs/distributed.md.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Breaker } from '../resilience/breaker.js';

export interface LockGrant {
  resource: string;
  token: string;
  fence: number;
  // Epoch milliseconds at which the lease ends unless extended (by this process's clock).
  expiresAt: number;
  ttlMs: number;
}

export interface AcquireOptions {
  ttlMs?: number;
  // Further attempts after the first one fails because someone else holds the lock.
  retries?: number;
  retryDelayMs?: number;
  // Up to this much random delay is added to each retry, so waiters do not retry in lockstep.
  retryJitterMs?: number;
  signal?: AbortSignal;
}

export interface LockContext {
  signal: AbortSignal;
  grant: LockGrant;
}

export interface LockStats {
  grants: number;
  // Attempts that found the lock held (each retry counts).
  contended: number;
  // Acquisitions that gave up after every retry.
  busy: number;
  // withLock runs whose lease was lost before the work finished.
  lost: number;
}

export interface DistributedLock {
  readonly kind: 'redis' | 'in-process';
  readonly stats: LockStats;
  // null when another holder kept the lock through every retry.
  acquire(resource: string, options?: AcquireOptions): Promise<LockGrant | null>;
  // true when this grant was still the holder and is now released; false deletes nothing.
  release(grant: Pick<LockGrant, 'resource' | 'token'>): Promise<boolean>;
  // A new grant (same token and fence, later expiry), or null when the lease is no longer ours.
  extend(grant: LockGrant, ttlMs?: number): Promise<LockGrant | null>;
  // The lock is extended every ttl/3 while fn runs; if it is lost, ctx.signal aborts and withLock
  // rejects with LockLostError. Throws LockBusyError when the lock cannot be had.
  withLock<T>(resource: string, fn: (ctx: LockContext) => Promise<T>, options?: AcquireOptions): Promise<T>;
}

export const LOCK_DEFAULTS = { ttlMs: 10_000, retries: 10, retryDelayMs: 100, retryJitterMs: 100 } as const;

export class LockBusyError extends Error {
  constructor(readonly resource: string) {
    super(`lock ${resource} is held by someone else`);
    this.name = 'LockBusyError';
  }
}

export class LockLostError extends Error {
  constructor(
    readonly resource: string,
    readonly fence: number,
  ) {
    super(`lock ${resource} (fence ${fence}) was lost before the work finished`);
    this.name = 'LockLostError';
  }
}

export function newToken(): string {
  return randomBytes(16).toString('hex');
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });

// Shared by both implementations: the retry loop and the withLock supervision.
abstract class LockBase implements DistributedLock {
  abstract readonly kind: 'redis' | 'in-process';
  readonly stats: LockStats = { grants: 0, contended: 0, busy: 0, lost: 0 };
  protected abstract tryAcquire(resource: string, token: string, ttlMs: number): Promise<number | null>;
  abstract release(grant: Pick<LockGrant, 'resource' | 'token'>): Promise<boolean>;
  protected abstract tryExtend(resource: string, token: string, ttlMs: number): Promise<boolean>;

  async acquire(resource: string, options: AcquireOptions = {}): Promise<LockGrant | null> {
    const ttlMs = options.ttlMs ?? LOCK_DEFAULTS.ttlMs;
    const retries = options.retries ?? LOCK_DEFAULTS.retries;
    const delay = options.retryDelayMs ?? LOCK_DEFAULTS.retryDelayMs;
    const jitter = options.retryJitterMs ?? LOCK_DEFAULTS.retryJitterMs;
    const token = newToken();
    for (let attempt = 0; ; attempt++) {
      const started = Date.now();
      const fence = await this.tryAcquire(resource, token, ttlMs);
      if (fence !== null) {
        this.stats.grants++;
        return { resource, token, fence, ttlMs, expiresAt: started + ttlMs };
      }
      this.stats.contended++;
      if (attempt >= retries) {
        this.stats.busy++;
        return null;
      }
      await sleep(delay + Math.random() * jitter, options.signal);
    }
  }

  async extend(grant: LockGrant, ttlMs = grant.ttlMs): Promise<LockGrant | null> {
    const started = Date.now();
    if (!(await this.tryExtend(grant.resource, grant.token, ttlMs))) return null;
    return { ...grant, ttlMs, expiresAt: started + ttlMs };
  }

  async withLock<T>(
    resource: string,
    fn: (ctx: LockContext) => Promise<T>,
    options: AcquireOptions = {},
  ): Promise<T> {
    let grant = await this.acquire(resource, options);
    if (!grant) throw new LockBusyError(resource);
    const controller = new AbortController();
    const lost = () => {
      this.stats.lost++;
      controller.abort(new LockLostError(resource, grant!.fence));
    };
    const interval = Math.max(10, Math.floor(grant.ttlMs / 3));
    let extending = false;
    const timer = setInterval(() => {
      if (extending || controller.signal.aborted) return;
      // The lease is only ours for as long as the last successful extension said.
      if (Date.now() >= grant!.expiresAt) return lost();
      extending = true;
      this.extend(grant!)
        .then((next) => (next ? (grant = next) : lost()))
        // A failed call is not a lost lock yet: try again next tick, give up at expiry (above).
        .catch(() => undefined)
        .finally(() => (extending = false));
    }, interval);
    timer.unref();
    const lostPromise = new Promise<never>((_, reject) =>
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), {
        once: true,
      }),
    );
    lostPromise.catch(() => undefined);
    try {
      return await Promise.race([fn({ signal: controller.signal, grant }), lostPromise]);
    } finally {
      clearInterval(timer);
      if (!controller.signal.aborted) await this.release(grant).catch(() => false);
    }
  }
}

const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return 0`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
const EXTEND = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

type LockCommands = {
  espLockAcquire(lockKey: string, fenceKey: string, token: string, ttlMs: number): Promise<number>;
  espLockRelease(lockKey: string, token: string): Promise<number>;
  espLockExtend(lockKey: string, token: string, ttlMs: number): Promise<number>;
};

export function defineLockCommands(redis: Redis): Redis & LockCommands {
  const r = redis as Redis & Partial<LockCommands>;
  if (!r.espLockAcquire) {
    redis.defineCommand('espLockAcquire', { numberOfKeys: 2, lua: ACQUIRE });
    redis.defineCommand('espLockRelease', { numberOfKeys: 1, lua: RELEASE });
    redis.defineCommand('espLockExtend', { numberOfKeys: 1, lua: EXTEND });
  }
  return redis as Redis & LockCommands;
}

export class RedisLock extends LockBase {
  readonly kind = 'redis' as const;
  private readonly redis: Redis & LockCommands;

  constructor(
    redis: Redis,
    private readonly keyPrefix = '',
    private readonly breaker?: Breaker,
  ) {
    super();
    this.redis = defineLockCommands(redis);
  }

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return this.breaker ? this.breaker.run(fn) : fn();
  }

  lockKey(resource: string): string {
    return `${this.keyPrefix}lock:${resource}`;
  }

  fenceKey(resource: string): string {
    return `${this.keyPrefix}lock-fence:${resource}`;
  }

  protected async tryAcquire(resource: string, token: string, ttlMs: number): Promise<number | null> {
    const fence = Number(
      await this.call(() =>
        this.redis.espLockAcquire(this.lockKey(resource), this.fenceKey(resource), token, ttlMs),
      ),
    );
    return fence > 0 ? fence : null;
  }

  async release(grant: Pick<LockGrant, 'resource' | 'token'>): Promise<boolean> {
    return (
      Number(await this.call(() => this.redis.espLockRelease(this.lockKey(grant.resource), grant.token))) ===
      1
    );
  }

  protected async tryExtend(resource: string, token: string, ttlMs: number): Promise<boolean> {
    return (
      Number(await this.call(() => this.redis.espLockExtend(this.lockKey(resource), token, ttlMs))) === 1
    );
  }
}

// The embedded default: the same contract inside one process (no protection across replicas).
export class InProcessLock extends LockBase {
  readonly kind = 'in-process' as const;
  private readonly held = new Map<string, { token: string; expiresAt: number }>();
  private readonly fences = new Map<string, number>();

  private current(resource: string) {
    const h = this.held.get(resource);
    if (h && h.expiresAt <= Date.now()) {
      this.held.delete(resource);
      return undefined;
    }
    return h;
  }

  protected async tryAcquire(resource: string, token: string, ttlMs: number): Promise<number | null> {
    if (this.current(resource)) return null;
    this.held.set(resource, { token, expiresAt: Date.now() + ttlMs });
    const fence = (this.fences.get(resource) ?? 0) + 1;
    this.fences.set(resource, fence);
    return fence;
  }

  async release(grant: Pick<LockGrant, 'resource' | 'token'>): Promise<boolean> {
    if (this.current(grant.resource)?.token !== grant.token) return false;
    this.held.delete(grant.resource);
    return true;
  }

  protected async tryExtend(resource: string, token: string, ttlMs: number): Promise<boolean> {
    const h = this.current(resource);
    if (h?.token !== token) return false;
    h.expiresAt = Date.now() + ttlMs;
    return true;
  }
}
