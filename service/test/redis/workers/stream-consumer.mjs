// A consumer the event-bus test kills and restarts: applies each event's effect once (ProcessedSet)
// and counts raw deliveries, so duplicates are visible and their effects are not.
import process from 'node:process';
import { Redis } from 'ioredis';
import { ProcessedSet, RedisStreamBus } from '../../../dist/infrastructure/redis/event-bus.js';

const { REDIS_URL, PREFIX, CONSUMER } = process.env;
const main = new Redis(REDIS_URL);
const txConn = new Redis(REDIS_URL);
const bus = new RedisStreamBus(main, () => new Redis(REDIS_URL), PREFIX);
const processed = new ProcessedSet(txConn, PREFIX, 'effects', 3600);
await bus.subscribe(
  'users',
  async (event) => {
    await main.incr(`${PREFIX}deliveries`);
    await processed.applyOnce(event.id, (tx) => tx.hincrby(`${PREFIX}effects`, event.id, 1));
  },
  { group: 'effects', consumer: CONSUMER, minIdleMs: 1000, blockMs: 200, batchSize: 50 },
);
process.stdout.write(JSON.stringify({ ready: true }) + '\n');
