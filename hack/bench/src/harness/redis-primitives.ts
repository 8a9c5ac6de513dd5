// Redis primitives against their physical floor: each of ours next to the raw round trips it needs,
// driven in-process with a fixed number of operations in flight on one connection.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Row } from './report.js';
import { percentile } from './stats.js';
import { loadOurPrimitives } from './service-subjects.js';

const IN_FLIGHT = 16;
const DURATION_MS = 3000;
const WARMUP_MS = 500;

type Op = () => Promise<unknown>;

async function drive(
  op: Op,
  durationMs: number,
): Promise<{ ops: number; latenciesMs: number[]; errors: number }> {
  const latenciesMs: number[] = [];
  let errors = 0;
  const deadline = performance.now() + durationMs;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          await op();
          latenciesMs.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  return { ops: latenciesMs.length, latenciesMs, errors };
}

async function row(id: string, label: string, ceiling: boolean, op: Op, ratioTo?: string[]): Promise<Row> {
  await drive(op, WARMUP_MS);
  const r = await drive(op, DURATION_MS);
  const result: Row = {
    id,
    label,
    group: 'redis',
    ceiling,
    rps: r.ops / (DURATION_MS / 1000),
    p50Ms: percentile(r.latenciesMs, 50),
    p99Ms: percentile(r.latenciesMs, 99),
    errors: r.errors,
    ratioTo,
  };
  process.stderr.write(
    `[bench] ${label}: ${result.rps.toFixed(0)} ops/s, p99 ${result.p99Ms.toFixed(2)} ms\n`,
  );
  return result;
}

const RELEASE_SCRIPT =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

export async function redisPrimitiveRows(redisUrl: string): Promise<Row[]> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    await redis.set('bench:get', 'x'.repeat(200));
    const rows: Row[] = [];
    rows.push(
      await row('raw-get', 'raw GET (1 round trip, ceiling)', true, () => redis.get('bench:get'), [
        'raw-get',
      ]),
    );
    rows.push(
      await row(
        'raw-lock-floor',
        'raw SET NX PX + compare-and-delete (2 round trips, lock ceiling)',
        true,
        async () => {
          const key = `bench:lock:${randomUUID()}`;
          const token = randomUUID();
          await redis.set(key, token, 'PX', 5000, 'NX');
          await redis.eval(RELEASE_SCRIPT, 1, key, token);
        },
      ),
    );
    const ours = await loadOurPrimitives(redisUrl);
    if (!ours) {
      rows.push(
        skippedRow('ours-lock', 'ours: lock acquire+release'),
        skippedRow('ours-ratelimit', 'ours: rate-limiter consume'),
        skippedRow('ours-cache', 'ours: cache get (hit)'),
      );
      return rows;
    }
    try {
      rows.push(
        await row('ours-lock', 'ours: lock acquire+release (+ fencing INCR)', false, ours.lockCycle, [
          'raw-get',
          'raw-lock-floor',
        ]),
      );
      rows.push(
        await row('ours-ratelimit', 'ours: rate-limiter consume', false, ours.rateLimitConsume, ['raw-get']),
      );
      rows.push(await row('ours-cache', 'ours: cache get (hit)', false, ours.cacheGet, ['raw-get']));
    } finally {
      await ours.close();
    }
    return rows;
  } finally {
    redis.disconnect();
  }
}

function skippedRow(id: string, label: string): Row {
  return {
    id,
    label,
    group: 'redis',
    ceiling: false,
    rps: Number.NaN,
    p50Ms: Number.NaN,
    p99Ms: Number.NaN,
    errors: 0,
    skipped: 'the service has no Redis primitives yet',
  };
}
