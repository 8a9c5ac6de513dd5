// One of the processes hammering one rate-limit key: ATTEMPTS consumes, counted by outcome.
import process from 'node:process';
import readline from 'node:readline';
import { Redis } from 'ioredis';
import { RedisRateLimiterFactory } from '../../../dist/infrastructure/redis/rate-limit.js';

const { REDIS_URL, PREFIX, POINTS, ATTEMPTS } = process.env;
const redis = new Redis(REDIS_URL);
await new Promise((r) => redis.once('ready', r));
const limiter = new RedisRateLimiterFactory(redis, PREFIX).create({
  keyPrefix: 'hammer',
  points: Number(POINTS),
  durationSeconds: 60,
});
// Start together: say ready, then wait for the test's go.
process.stdout.write('{"ready":true}\n');
await new Promise((resolve) => readline.createInterface({ input: process.stdin }).once('line', resolve));
let allowed = 0,
  refused = 0,
  errors = 0;
// A few requests in flight per process, like a busy replica.
await Promise.all(
  Array.from({ length: 4 }, async () => {
    for (let i = 0; i < Number(ATTEMPTS) / 4; i++) {
      try {
        await limiter.consume('one-key');
        allowed++;
      } catch (e) {
        if (e instanceof Error) errors++;
        else refused++;
      }
    }
  }),
);
process.stdout.write(JSON.stringify({ allowed, refused, errors }) + '\n');
redis.disconnect();
process.exit(0);
