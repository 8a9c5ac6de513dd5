// opossum circuit breakers for calls to a shared dependency (Redis, outbound HTTP). While a breaker
// is open a call fails in microseconds instead of waiting for a timeout; the state is exported for
// health checks and metrics.
import CircuitBreaker from 'opossum';

export type BreakerState = 'closed' | 'open' | 'half-open' | 'disabled';

export interface BreakerSnapshot {
  name: string;
  state: BreakerState;
  fires: number;
  successes: number;
  failures: number;
  rejects: number;
  timeouts: number;
  latencyMeanMs: number;
}

export interface BreakerOptions {
  // A call taking longer than this counts as a failure (and its caller gets an error at once).
  timeoutMs?: number;
  errorThresholdPercentage?: number;
  // Open -> half-open after this long; one trial call then decides.
  resetTimeoutMs?: number;
  // Minimum calls in the rolling window before the error percentage can open the breaker.
  volumeThreshold?: number;
  rollingCountTimeoutMs?: number;
  // When this returns false the call is refused without running (e.g. the Redis client is not
  // connected), and the refusal counts as a failure so the breaker opens quickly.
  isAvailable?: () => boolean;
  // Errors that are the caller's fault (validation, not found) must not open the breaker.
  isCallerError?: (err: unknown) => boolean;
}

export class BreakerOpenError extends Error {
  constructor(
    readonly breaker: string,
    cause?: unknown,
  ) {
    super(`${breaker} is unavailable (circuit open)`, { cause });
    this.name = 'BreakerOpenError';
  }
}

export class DependencyUnavailableError extends Error {
  constructor(readonly dependency: string) {
    super(`${dependency} is not connected`);
    this.name = 'DependencyUnavailableError';
  }
}

type Thunk = () => Promise<unknown>;

export class Breaker {
  private readonly cb: CircuitBreaker<[Thunk], unknown>;
  private readonly isAvailable: () => boolean;
  private readonly listeners = new Set<(state: BreakerState) => void>();

  constructor(
    readonly name: string,
    options: BreakerOptions = {},
  ) {
    this.isAvailable = options.isAvailable ?? (() => true);
    const isAvailable = this.isAvailable;
    this.cb = new CircuitBreaker<[Thunk], unknown>(
      async (fn: Thunk) => {
        if (!isAvailable()) throw new DependencyUnavailableError(name);
        return fn();
      },
      {
        name,
        timeout: options.timeoutMs ?? 1000,
        errorThresholdPercentage: options.errorThresholdPercentage ?? 50,
        resetTimeout: options.resetTimeoutMs ?? 2000,
        volumeThreshold: options.volumeThreshold ?? 5,
        rollingCountTimeout: options.rollingCountTimeoutMs ?? 10_000,
        errorFilter: options.isCallerError ?? (() => false),
      },
    );
    const notify = () => {
      const s = this.state;
      for (const l of this.listeners) l(s);
    };
    this.cb.on('open', notify);
    this.cb.on('halfOpen', notify);
    this.cb.on('close', notify);
  }

  // Runs fn through the breaker; rejects with BreakerOpenError while open.
  async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return (await this.cb.fire(fn)) as T;
    } catch (err) {
      if ((err as { code?: string }).code === 'EOPENBREAKER') throw new BreakerOpenError(this.name, err);
      throw err;
    }
  }

  get state(): BreakerState {
    if (!this.cb.enabled) return 'disabled';
    if (this.cb.opened) return 'open';
    if (this.cb.halfOpen) return 'half-open';
    return 'closed';
  }

  onStateChange(listener: (state: BreakerState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): BreakerSnapshot {
    const s = this.cb.stats;
    return {
      name: this.name,
      state: this.state,
      fires: s.fires,
      successes: s.successes,
      failures: s.failures,
      rejects: s.rejects,
      timeouts: s.timeouts,
      latencyMeanMs: s.latencyMean,
    };
  }

  shutdown(): void {
    this.cb.shutdown();
  }
}

// Every breaker of the process, so health and metrics can list them without knowing who made them.
export class BreakerRegistry {
  private readonly breakers = new Map<string, Breaker>();

  create(name: string, options: BreakerOptions = {}): Breaker {
    const existing = this.breakers.get(name);
    if (existing) return existing;
    const b = new Breaker(name, options);
    this.breakers.set(name, b);
    return b;
  }

  get(name: string): Breaker | undefined {
    return this.breakers.get(name);
  }

  all(): Breaker[] {
    return [...this.breakers.values()];
  }

  snapshot(): BreakerSnapshot[] {
    return this.all().map((b) => b.snapshot());
  }

  shutdown(): void {
    for (const b of this.breakers.values()) b.shutdown();
  }
}
