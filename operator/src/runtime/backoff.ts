// Delays for retries: per-item exponential backoff, a global token bucket, and jittered restart delays.

export interface RateLimiter {
  /** Delay before the item may be processed again, counting this as one more failure. */
  when(item: string): number;
  forget(item: string): void;
  failures(item: string): number;
}

export class ItemExponentialLimiter implements RateLimiter {
  private readonly counts = new Map<string, number>();
  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 300_000,
  ) {}
  when(item: string): number {
    const n = this.counts.get(item) ?? 0;
    this.counts.set(item, n + 1);
    return Math.min(this.baseMs * 2 ** n, this.maxMs);
  }
  forget(item: string): void {
    this.counts.delete(item);
  }
  failures(item: string): number {
    return this.counts.get(item) ?? 0;
  }
}

/** A token bucket over all items, so a storm of failures cannot flood the apiserver. */
export class BucketLimiter implements RateLimiter {
  private tokens: number;
  private last: number;
  constructor(
    private readonly qps = 10,
    private readonly burst = 100,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }
  when(): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
    this.tokens -= 1;
    // A negative balance is a reservation: wait until the bucket has refilled up to it.
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }
  forget(): void {}
  failures(): number {
    return 0;
  }
}

/** The slowest of several limiters wins (client-go's MaxOfRateLimiter). */
export class MaxOfLimiter implements RateLimiter {
  private readonly limiters: RateLimiter[];
  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }
  when(item: string): number {
    return Math.max(...this.limiters.map((l) => l.when(item)));
  }
  forget(item: string): void {
    for (const l of this.limiters) l.forget(item);
  }
  failures(item: string): number {
    return Math.max(...this.limiters.map((l) => l.failures(item)));
  }
}

export function defaultControllerRateLimiter(): RateLimiter {
  return new MaxOfLimiter(new ItemExponentialLimiter(5, 300_000), new BucketLimiter(10, 100));
}

/**
 * Exponential backoff with full jitter for restarting a failed watch: attempts that fail together do
 * not retry together.
 */
export class JitteredBackoff {
  private attempt = 0;
  constructor(
    private readonly baseMs = 500,
    private readonly maxMs = 30_000,
    private readonly random: () => number = Math.random,
  ) {}
  next(): number {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** this.attempt);
    this.attempt += 1;
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }
  reset(): void {
    this.attempt = 0;
  }
}
