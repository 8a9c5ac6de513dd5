// The process's own health checks: event-loop delay, memory and disk. None touches a dependency;
// all are non-critical (they degrade /health, never take a replica out of rotation by themselves).
import fs from 'node:fs';
import os from 'node:os';
import { monitorEventLoopDelay, type ELDHistogram } from 'node:perf_hooks';
import v8 from 'node:v8';
import { CheckFailed, type HealthCheck } from './health-registry.js';

const MB = 1024 * 1024;
const round = (n: number) => Math.round(n * 10) / 10;

// Keeps the delays of the current and the previous window, so a stall is still reported by the
// next probe even if the window rolled over in between, and old stalls are forgotten.
export class EventLoopMonitor {
  private readonly histogram: ELDHistogram;
  private previousMaxMs = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(windowMs = 10_000, resolutionMs = 10) {
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.histogram.enable();
    this.timer = setInterval(() => {
      this.previousMaxMs = this.histogram.max / 1e6;
      this.histogram.reset();
    }, windowMs);
    this.timer.unref();
  }

  snapshot(): { maxMs: number; p99Ms: number; meanMs: number } {
    const h = this.histogram;
    const count = h.count;
    return {
      maxMs: round(Math.max(this.previousMaxMs, count > 0 ? h.max / 1e6 : 0)),
      p99Ms: round(count > 0 ? h.percentile(99) / 1e6 : 0),
      meanMs: round(count > 0 ? h.mean / 1e6 : 0),
    };
  }

  // Boot (module loading, migrations) blocks the loop by design; the service calls this once it
  // has started so such stalls are not reported as a problem afterwards.
  reset(): void {
    this.previousMaxMs = 0;
    this.histogram.reset();
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }
}

export function eventLoopCheck(monitor: EventLoopMonitor, maxDelayMs: number): HealthCheck {
  return {
    name: 'event-loop',
    critical: false,
    async check() {
      const s = monitor.snapshot();
      const details = { ...s, thresholdMs: maxDelayMs };
      if (s.maxMs > maxDelayMs) throw new CheckFailed(`event loop blocked for ${s.maxMs} ms`, details);
      return details;
    },
  };
}

export function memoryCheck(heapMaxRatio: number, rssMaxMb: number): HealthCheck {
  return {
    name: 'memory',
    critical: false,
    async check() {
      const m = process.memoryUsage();
      const limit = v8.getHeapStatistics().heap_size_limit;
      const heapRatio = m.heapUsed / limit;
      const details = {
        heapUsedMb: round(m.heapUsed / MB),
        heapLimitMb: round(limit / MB),
        heapRatio: Math.round(heapRatio * 1000) / 1000,
        rssMb: round(m.rss / MB),
        heapMaxRatio,
        rssMaxMb: rssMaxMb || undefined,
      };
      if (heapRatio > heapMaxRatio)
        throw new CheckFailed(`heap at ${details.heapRatio} of its limit`, details);
      if (rssMaxMb > 0 && m.rss / MB > rssMaxMb) throw new CheckFailed(`RSS ${details.rssMb} MB`, details);
      return details;
    },
  };
}

// The state folder when it exists (SQLite lives there), otherwise the temporary folder.
export function diskCheck(dir: string, minFreeMb: number): HealthCheck {
  return {
    name: 'disk',
    critical: false,
    async check() {
      const path = fs.existsSync(dir) ? dir : os.tmpdir();
      const s = await fs.promises.statfs(path);
      const freeMb = (s.bavail * s.bsize) / MB;
      const details = {
        path,
        freeMb: Math.round(freeMb),
        totalMb: Math.round((s.blocks * s.bsize) / MB),
        minFreeMb,
      };
      if (freeMb < minFreeMb) throw new CheckFailed(`only ${details.freeMb} MB free on ${path}`, details);
      return details;
    },
  };
}
