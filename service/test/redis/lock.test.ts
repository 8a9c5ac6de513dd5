// The lock against a real Redis: contention across processes, a paused holder, a killed holder.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { FencedCounter } from '../../src/infrastructure/redis/fencing.js';
import {
  InProcessLock,
  LockBusyError,
  LockLostError,
  RedisLock,
} from '../../src/infrastructure/redis/lock.js';
import { figure, rawRedis, sleep, startWorker, testPrefix } from './support.js';

let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(() => redis.disconnect());

describe('RedisLock across processes', () => {
  it('8 processes x 2,000 cycles: no overlap, fencing numbers strictly increasing', async () => {
    const prefix = testPrefix('lock-stress');
    const processes = 8;
    const cycles = 2000;
    const t0 = performance.now();
    const workers = Array.from({ length: processes }, () =>
      startWorker('lock-stress', { PREFIX: prefix, CYCLES: String(cycles) }),
    );
    const results = (await Promise.all(workers.map((w) => w.next()))) as {
      overlaps: number;
      rejected: number;
      failedAcquire: number;
      fences: number[];
      ms: number;
    }[];
    const wallMs = performance.now() - t0;
    await Promise.all(workers.map((w) => w.exited));

    const all = results.flatMap((r) => r.fences);
    const overlaps = results.reduce((n, r) => n + r.overlaps, 0);
    const rejected = results.reduce((n, r) => n + r.rejected, 0);
    const counter = await redis.hgetall(`${prefix}counter`);
    figure('lock 8x2000', {
      grants: all.length,
      overlaps,
      staleWritesRejected: rejected,
      distinctFences: new Set(all).size,
      counter: Number(counter.count),
      wallMs: Math.round(wallMs),
      cyclesPerSecond: Math.round(all.length / (wallMs / 1000)),
    });
    expect(results.every((r) => r.failedAcquire === 0)).toBe(true);
    expect(all).toHaveLength(processes * cycles);
    expect(overlaps).toBe(0);
    // Every write was accepted by the fenced counter, so fences arrived strictly increasing in
    // critical-section order; and within each process they increase too.
    expect(rejected).toBe(0);
    expect(Number(counter.count)).toBe(processes * cycles);
    expect(new Set(all).size).toBe(all.length);
    for (const r of results)
      for (let i = 1; i < r.fences.length; i++) expect(r.fences[i]!).toBeGreaterThan(r.fences[i - 1]!);
    expect(Number(counter.fence)).toBe(Math.max(...all));
  });

  it('a holder paused past its TTL: its late write is rejected and its late release deletes nothing', async () => {
    const prefix = testPrefix('lock-pause');
    const ttlMs = 500;
    const holder = startWorker('lock-holder', { PREFIX: prefix, TTL_MS: String(ttlMs) });
    const first = (await holder.next()) as { acquired: boolean; fence: number };
    expect(first.acquired).toBe(true);
    holder.child.kill('SIGSTOP');
    await sleep(ttlMs + 300);

    const lock = new RedisLock(redis, prefix);
    const second = await lock.acquire('held', { ttlMs: 10_000, retries: 0 });
    expect(second).not.toBeNull();
    expect(second!.fence).toBeGreaterThan(first.fence);
    expect(await new FencedCounter(redis, `${prefix}counter`).add(second!.fence)).toBe(1);

    holder.child.kill('SIGCONT');
    holder.send({ cmd: 'write' });
    const late = (await holder.next()) as { written: number | null; released: boolean };
    await holder.exited;
    figure('lock paused holder', {
      pausedFence: first.fence,
      newFence: second!.fence,
      lateWrite: late.written,
      lateRelease: late.released,
    });
    expect(late.written).toBeNull();
    expect(late.released).toBe(false);
    // The new holder's lease is untouched.
    expect(await redis.get(lock.lockKey('held'))).toBe(second!.token);
    expect(await lock.release(second!)).toBe(true);
  });

  it('a holder killed with SIGKILL: the lock is free again within TTL plus the retry delay', async () => {
    const prefix = testPrefix('lock-kill');
    const ttlMs = 1000;
    const retryDelayMs = 50;
    const retryJitterMs = 20;
    const holder = startWorker('lock-holder', { PREFIX: prefix, TTL_MS: String(ttlMs) });
    const first = (await holder.next()) as { acquired: boolean; at: number };
    expect(first.acquired).toBe(true);
    holder.child.kill('SIGKILL');
    await holder.exited;

    const lock = new RedisLock(redis, prefix);
    const grant = await lock.acquire('held', { ttlMs: 5000, retries: 1000, retryDelayMs, retryJitterMs });
    const freeAfterMs = Date.now() - first.at;
    figure('lock killed holder', { ttlMs, retryDelayMs, retryJitterMs, freeAfterMs });
    expect(grant).not.toBeNull();
    expect(freeAfterMs).toBeGreaterThanOrEqual(ttlMs - 5);
    expect(freeAfterMs).toBeLessThanOrEqual(ttlMs + retryDelayMs + retryJitterMs + 50);
    await lock.release(grant!);
  });
});

describe.each([
  ['redis', () => new RedisLock(redis, testPrefix('lock-unit'))],
  ['in-process', () => new InProcessLock()],
])('%s lock contract', (_name, make) => {
  it('refuses a second holder, and a release with a wrong token deletes nothing', async () => {
    const lock = make();
    const a = await lock.acquire('r', { ttlMs: 2000, retries: 0 });
    expect(a).not.toBeNull();
    expect(
      await lock.acquire('r', { ttlMs: 2000, retries: 2, retryDelayMs: 5, retryJitterMs: 5 }),
    ).toBeNull();
    expect(await lock.release({ resource: 'r', token: 'not-mine' })).toBe(false);
    expect(await lock.acquire('r', { retries: 0 })).toBeNull();
    expect(await lock.release(a!)).toBe(true);
    const b = await lock.acquire('r', { retries: 0 });
    expect(b!.fence).toBe(a!.fence + 1);
    await lock.release(b!);
  });

  it('withLock keeps extending while the work runs longer than the TTL', async () => {
    const lock = make();
    const result = await lock.withLock(
      'long',
      async ({ signal }) => {
        await sleep(450);
        return signal.aborted ? 'aborted' : 'done';
      },
      { ttlMs: 150 },
    );
    expect(result).toBe('done');
    expect(await lock.acquire('long', { retries: 0 })).not.toBeNull();
  });

  it('withLock aborts the work when the lease is taken away, and reports LockBusyError when held', async () => {
    const lock = make();
    let sawAbort = false;
    const run = lock.withLock(
      'stolen',
      async ({ signal, grant }) => {
        // Someone deletes the lease from under us (an operator, or expiry during a pause).
        await lock.release(grant);
        await new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        sawAbort = signal.aborted;
      },
      { ttlMs: 90 },
    );
    await expect(run).rejects.toBeInstanceOf(LockLostError);
    await sleep(10);
    expect(sawAbort).toBe(true);

    const held = await lock.acquire('busy', { retries: 0 });
    await expect(
      lock.withLock('busy', async () => 1, { retries: 1, retryDelayMs: 5 }),
    ).rejects.toBeInstanceOf(LockBusyError);
    await lock.release(held!);
  });
});
