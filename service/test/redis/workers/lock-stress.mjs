// One of the N processes contending for one lock: CYCLES acquire/critical-section/release rounds.
import process from 'node:process';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { RedisLock } from '../../../dist/infrastructure/redis/lock.js';
import { FencedCounter } from '../../../dist/infrastructure/redis/fencing.js';

const { REDIS_URL, PREFIX, CYCLES = '2000' } = process.env;
const redis = new Redis(REDIS_URL);
const lock = new RedisLock(redis, PREFIX);
const counter = new FencedCounter(redis, `${PREFIX}counter`);
const active = `${PREFIX}active`;

const fences = [];
let overlaps = 0;
let rejected = 0;
let failedAcquire = 0;
const t0 = performance.now();
for (let i = 0; i < Number(CYCLES); i++) {
  const grant = await lock.acquire('stress', {
    ttlMs: 5000,
    retries: 100_000,
    retryDelayMs: 1,
    retryJitterMs: 2,
  });
  if (!grant) {
    failedAcquire++;
    continue;
  }
  // Anyone else inside the critical section right now makes this more than 1.
  if ((await redis.incr(active)) !== 1) overlaps++;
  if ((await counter.add(grant.fence)) === null) rejected++;
  fences.push(grant.fence);
  await redis.decr(active);
  if (!(await lock.release(grant))) throw new Error('release of a live grant deleted nothing');
}
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ overlaps, rejected, failedAcquire, fences, ms }) + '\n');
redis.disconnect();
