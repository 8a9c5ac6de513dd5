// Named health checks with a timeout each. Critical checks decide readiness; the others are
// reported but only degrade. Redis, the event bus, etc. register here as they arrive.
export interface HealthCheck {
  name: string;
  critical: boolean;
  // May resolve to details shown in /health (measured values, thresholds).
  check(): Promise<void | Record<string, unknown>>;
}

export interface CheckResult {
  status: 'up' | 'down';
  critical: boolean;
  durationMs: number;
  error?: string;
  details?: Record<string, unknown>;
}

// Told the outcome of every check run (the metrics module exports it as a gauge).
export type CheckListener = (name: string, result: CheckResult) => void;

export interface HealthReport {
  status: 'up' | 'degraded' | 'down';
  checks: Record<string, CheckResult>;
}

export class HealthRegistry {
  private readonly checks = new Map<string, HealthCheck>();
  private cached?: { at: number; report: Promise<HealthReport> };
  private readonly listeners: CheckListener[] = [];

  constructor(
    private readonly timeoutMs: number,
    private readonly cacheMs = 0,
  ) {}

  register(check: HealthCheck): void {
    this.checks.set(check.name, check);
  }

  onResult(listener: CheckListener): void {
    this.listeners.push(listener);
  }

  // With cacheMs > 0 the probes of many kubelets/load balancers share one run.
  run(): Promise<HealthReport> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < this.cacheMs) return this.cached.report;
    const report = this.runAll();
    this.cached = { at: now, report };
    return report;
  }

  private async runAll(): Promise<HealthReport> {
    const entries = await Promise.all(
      [...this.checks.values()].map(async (c) => [c.name, await this.runOne(c)] as const),
    );
    for (const [name, result] of entries) for (const l of this.listeners) l(name, result);
    const checks = Object.fromEntries(entries);
    const results = Object.values(checks);
    const status = results.some((r) => r.critical && r.status === 'down')
      ? 'down'
      : results.some((r) => r.status === 'down')
        ? 'degraded'
        : 'up';
    return { status, checks };
  }

  private async runOne(c: HealthCheck): Promise<CheckResult> {
    const start = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const details = await Promise.race([
        c.check(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
      return {
        status: 'up',
        critical: c.critical,
        durationMs: elapsed(start),
        ...(details ? { details } : {}),
      };
    } catch (err) {
      return {
        status: 'down',
        critical: c.critical,
        durationMs: elapsed(start),
        error: (err as Error).message,
        ...(err instanceof CheckFailed ? { details: err.details } : {}),
      };
    } finally {
      clearTimeout(timer);
    }
  }
}

function elapsed(start: number): number {
  return Math.round((performance.now() - start) * 10) / 10;
}

// Thrown by a check that measured something out of bounds, to show what it measured.
export class CheckFailed extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'CheckFailed';
  }
}
