import { describe, it, expect } from '@jest/globals';
import { WorkQueue } from '../../src/runtime/workqueue.js';
import { runWorkers } from '../../src/runtime/reconcile-loop.js';
import {
  BucketLimiter,
  ItemExponentialLimiter,
  JitteredBackoff,
  MaxOfLimiter,
} from '../../src/runtime/backoff.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('WorkQueue', () => {
  it('holds a key once however often it is added', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.len()).toBe(0);
  });

  it('never hands a key to two workers at once, and reprocesses a key added while in flight', async () => {
    const q = new WorkQueue();
    q.add('a');
    const first = await q.get();
    q.add('a'); // arrives while 'a' is processed
    expect(q.len()).toBe(0);
    q.done(first!);
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('a');
  });

  it('backs off per item exponentially and forgets on success', () => {
    const l = new ItemExponentialLimiter(10, 1000);
    expect([l.when('x'), l.when('x'), l.when('x'), l.when('y')]).toEqual([10, 20, 40, 10]);
    for (let i = 0; i < 10; i++) l.when('x');
    expect(l.when('x')).toBe(1000);
    l.forget('x');
    expect(l.when('x')).toBe(10);
  });

  it('limits all items together with a token bucket', () => {
    let now = 0;
    const b = new BucketLimiter(10, 2, () => now);
    expect([b.when(), b.when()]).toEqual([0, 0]);
    expect(b.when()).toBe(100);
    expect(b.when()).toBe(200);
    now = 1000; // ten tokens refilled, capped by the burst of 2 minus the two reservations
    expect(b.when()).toBe(0);
    const m = new MaxOfLimiter(new ItemExponentialLimiter(5, 50), new BucketLimiter(1, 1, () => 0));
    expect(m.when('k')).toBe(5);
    expect(m.when('k')).toBe(1000);
  });

  it('jitters restart delays within [ceiling/2, ceiling] and grows them', () => {
    const lo = new JitteredBackoff(100, 1000, () => 0);
    const hi = new JitteredBackoff(100, 1000, () => 1);
    expect([lo.next(), lo.next(), lo.next()]).toEqual([50, 100, 200]);
    expect([hi.next(), hi.next(), hi.next(), hi.next(), hi.next()]).toEqual([100, 200, 400, 800, 1000]);
    hi.reset();
    expect(hi.next()).toBe(100);
  });

  it('addAfter keeps the earliest pending time', async () => {
    const q = new WorkQueue();
    q.addAfter('a', 5000);
    q.addAfter('a', 20);
    await sleep(60);
    expect(q.len()).toBe(1);
    q.shutDown();
  });

  it('runs N workers, retries failures with backoff and counts metrics', async () => {
    const counts = { adds: 0, retries: 0, depth: 0 };
    const q = new WorkQueue(new ItemExponentialLimiter(5, 50), {
      added: () => counts.adds++,
      retried: () => counts.retries++,
      depth: (n) => (counts.depth = n),
    });
    let concurrent = 0;
    let peak = 0;
    const attempts = new Map<string, number>();
    const processed: string[] = [];
    const done = runWorkers(q, 3, async (key) => {
      concurrent++;
      peak = Math.max(peak, concurrent);
      await sleep(10);
      concurrent--;
      const n = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, n);
      if (key === 'flaky' && n < 3) throw new Error('conflict');
      processed.push(key);
    });
    for (const k of ['a', 'b', 'c', 'd', 'flaky']) q.add(k);
    for (let i = 0; i < 100 && processed.length < 5; i++) await sleep(10);
    q.shutDown();
    await done;
    expect(processed.sort()).toEqual(['a', 'b', 'c', 'd', 'flaky']);
    expect(attempts.get('flaky')).toBe(3);
    expect(peak).toBe(3);
    expect(counts.retries).toBe(2);
    expect(counts.adds).toBe(7);
    expect(q.numRequeues('flaky')).toBe(0);
  });
});
