// A lock holder the test pauses (SIGSTOP) or kills (SIGKILL). It acquires, says so, then waits for
// "write" on stdin before touching the fenced counter and releasing: the late writer of the tests.
import process from 'node:process';
import readline from 'node:readline';
import { Redis } from 'ioredis';
import { RedisLock } from '../../../dist/infrastructure/redis/lock.js';
import { FencedCounter } from '../../../dist/infrastructure/redis/fencing.js';

const { REDIS_URL, PREFIX, TTL_MS = '500' } = process.env;
const redis = new Redis(REDIS_URL);
const lock = new RedisLock(redis, PREFIX);
const counter = new FencedCounter(redis, `${PREFIX}counter`);
const out = (m) => process.stdout.write(JSON.stringify(m) + '\n');

const grant = await lock.acquire('held', { ttlMs: Number(TTL_MS), retries: 0 });
out({ acquired: Boolean(grant), fence: grant?.fence, at: Date.now() });
for await (const line of readline.createInterface({ input: process.stdin })) {
  if (JSON.parse(line).cmd !== 'write') continue;
  const written = await counter.add(grant.fence);
  const released = await lock.release(grant);
  out({ written, released });
  break;
}
redis.disconnect();
process.exit(0);
