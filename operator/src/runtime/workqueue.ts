// A de-duplicating, rate-limited work queue with client-go's semantics: a key is never processed by two
// workers at once, a key added while being processed is processed again afterwards, and a key waiting
// in the queue is held only once however often it is added.
import { defaultControllerRateLimiter, type RateLimiter } from './backoff.js';

export interface QueueMetrics {
  depth(n: number): void;
  added(): void;
  retried(): void;
  /** Seconds a key waited in the queue before a worker took it. */
  waited?(seconds: number): void;
  /** Seconds a worker held a key. */
  worked?(seconds: number): void;
}

const noMetrics: QueueMetrics = { depth: () => {}, added: () => {}, retried: () => {} };

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly addedAt = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();
  private shuttingDown = false;

  constructor(
    private readonly limiter: RateLimiter = defaultControllerRateLimiter(),
    private readonly metrics: QueueMetrics = noMetrics,
  ) {}

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.metrics.added();
    this.dirty.add(key);
    this.addedAt.set(key, performance.now());
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /** Adds the key after `ms`; an earlier pending time for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + ms;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  addRateLimited(key: string): void {
    this.metrics.retried();
    this.addAfter(key, this.limiter.when(key));
  }

  forget(key: string): void {
    this.limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.limiter.failures(key);
  }

  /** Resolves with the next key, or undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) return Promise.resolve(this.take(key));
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    const started = this.startedAt.get(key);
    if (started !== undefined) this.metrics.worked?.((performance.now() - started) / 1000);
    this.startedAt.delete(key);
    this.processing.delete(key);
    if (this.dirty.has(key)) this.push(key);
  }

  len(): number {
    return this.queue.length;
  }

  /** Seconds each key being processed has been held so far. */
  inFlightSeconds(): number[] {
    const now = performance.now();
    return [...this.startedAt.values()].map((t) => (now - t) / 1000);
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  private take(key: string): string {
    const now = performance.now();
    const added = this.addedAt.get(key);
    if (added !== undefined) this.metrics.waited?.((now - added) / 1000);
    this.addedAt.delete(key);
    this.startedAt.set(key, now);
    this.processing.add(key);
    this.dirty.delete(key);
    this.metrics.depth(this.queue.length);
    return key;
  }

  private push(key: string): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter(this.take(key));
      return;
    }
    this.queue.push(key);
    this.metrics.depth(this.queue.length);
  }
}
