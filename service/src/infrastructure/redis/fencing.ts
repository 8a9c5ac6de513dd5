// The resource side of fencing: a guard that accepts a write only with a fencing number higher than
// every number it has accepted before. A lock holder that lost its lease without knowing (paused past
// its TTL) then cannot overwrite the work of the holder that came after it. Resources in other stores
// do the same check (e.g. `UPDATE ... WHERE fence < $1`); this one keeps its state in a Redis hash.
import type { Redis } from 'ioredis';

const FENCED_INCR = `
local last = tonumber(redis.call('HGET', KEYS[1], 'fence') or '0')
local fence = tonumber(ARGV[1])
if fence <= last then return -1 end
redis.call('HSET', KEYS[1], 'fence', fence)
return redis.call('HINCRBY', KEYS[1], 'count', tonumber(ARGV[2]))`;

type FenceCommands = { espFencedIncr(key: string, fence: number, by: number): Promise<number> };

// A counter guarded by fencing numbers (used by the lock tests and the lock demo endpoint).
export class FencedCounter {
  private readonly redis: Redis & FenceCommands;

  constructor(
    redis: Redis,
    readonly key: string,
  ) {
    const r = redis as Redis & Partial<FenceCommands>;
    if (!r.espFencedIncr) redis.defineCommand('espFencedIncr', { numberOfKeys: 1, lua: FENCED_INCR });
    this.redis = redis as Redis & FenceCommands;
  }

  // The new count, or null when the fence was stale and the write was rejected.
  async add(fence: number, by = 1): Promise<number | null> {
    const n = Number(await this.redis.espFencedIncr(this.key, fence, by));
    return n < 0 ? null : n;
  }

  async read(): Promise<{ fence: number; count: number }> {
    const h = await this.redis.hgetall(this.key);
    return { fence: Number(h.fence ?? 0), count: Number(h.count ?? 0) };
  }
}
