// Cache-aside in two tiers: a small in-process LRU in front of Redis (shared by the replicas).
// - getOrLoad: single flight per key per process (concurrent misses share one loader call), "not
//   found" cached as a negative entry for a short TTL, loader errors never cached.
// - delete / deleteByPrefix / invalidateTag remove both tiers here and broadcast the keys, so every
//   other replica drops its in-process copy within a pub/sub round trip.
// - Redis failures (through the breaker) make the cache a miss, never an error: the caller then reads
//   the database. While Redis is down the in-process TTL bounds how stale another replica can be.
// - Deletes that could not reach Redis are kept and replayed when it is back (a reconnect, or the
//   first command that succeeds after failures), and the in-process tier is dropped then: entries
//   written before the outage must not outlive the changes made during it (a disabled user, a
//   revoked session).
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Breaker } from '../resilience/breaker.js';
import type { Broadcaster } from './broadcast.js';
import type { Logger } from '../../domain/shared/ports.js';
import { silentLogger } from '../logging/silent-logger.js';

// What is stored: a value, or the fact that there is none (negative entry).
type Entry = { v: unknown } | { n: 1 };

export interface LoadOptions {
  ttlSeconds?: number;
  negativeTtlSeconds?: number;
  tags?: string[];
}

export interface CacheStats {
  localHits: number;
  remoteHits: number;
  misses: number;
  loads: number;
  negativeHits: number;
  invalidationsReceived: number;
  remoteErrors: number;
}

export interface TieredCacheOptions {
  keyPrefix: string;
  redis?: Redis;
  breaker?: Breaker;
  broadcaster?: Broadcaster;
  localMaxEntries?: number;
  // false (or localTtlMs 0): Redis only (the benchmark measures the shared tier this way).
  localTier?: boolean;
  // The in-process copy lives at most this long, whatever the entry's TTL.
  localTtlMs?: number;
  defaultTtlSeconds?: number;
  negativeTtlSeconds?: number;
  log?: Logger;
}

interface InvalidationMessage {
  origin: string;
  keys?: string[];
  prefix?: string;
}

export class TieredCache {
  private readonly local: LRUCache<string, Entry>;
  private readonly inflight = new Map<string, Promise<unknown>>();
  // Bumped on every invalidation of a key, so a load that started before it does not store stale data.
  private readonly generations = new Map<string, number>();
  private readonly localTags = new Map<string, Set<string>>();
  private readonly origin = Math.random().toString(36).slice(2);
  private unsubscribe?: () => Promise<void>;
  readonly stats: CacheStats = {
    localHits: 0,
    remoteHits: 0,
    misses: 0,
    loads: 0,
    negativeHits: 0,
    invalidationsReceived: 0,
    remoteErrors: 0,
  };
  private readonly log: Logger;

  private readonly localOn: boolean;
  // Keys whose delete failed while Redis was unreachable, replayed when it is back.
  private readonly unsentDeletes = new Set<string>();
  // Set by a failed command, cleared (and the recovery run) by the next one that succeeds.
  private unreachable = false;

  constructor(private readonly o: TieredCacheOptions) {
    // lru-cache reads a TTL of 0 as "never expires": 0 here means no in-process tier at all.
    this.localOn = o.localTier !== false && (o.localTtlMs ?? 5000) > 0;
    this.local = new LRUCache<string, Entry>({ max: o.localMaxEntries ?? 10_000, ttl: o.localTtlMs ?? 5000 });
    this.log = o.log ?? silentLogger;
    o.redis?.on('ready', () => void this.recover());
  }

  // Redis is back: nothing cached in this process before or during the outage is trusted, and the
  // deletes it missed are made now (and announced, for the other replicas' in-process copies).
  private async recover(): Promise<void> {
    this.local.clear();
    for (const k of [...this.generations.keys()]) this.generations.set(k, (this.generations.get(k) ?? 0) + 1);
    const keys = [...this.unsentDeletes];
    this.unsentDeletes.clear();
    if (keys.length === 0) return;
    const redis = this.o.redis;
    try {
      for (let i = 0; i < keys.length; i += 500) {
        await redis?.unlink(...keys.slice(i, i + 500).map((k) => this.redisKey(k)));
      }
      await this.announce({ keys });
      this.log.info('cache: replayed deletes missed during the Redis outage', { keys: keys.length });
    } catch (err) {
      for (const k of keys) this.unsentDeletes.add(k);
      this.log.warn('cache: replaying missed deletes failed; retried at the next reconnect', {
        error: (err as Error).message,
      });
    }
  }

  get kind(): 'redis' | 'in-process' {
    return this.o.redis ? 'redis' : 'in-process';
  }

  get channel(): string {
    return `${this.o.keyPrefix}cache:invalidate`;
  }

  // Starts listening for other replicas' invalidations.
  async start(): Promise<void> {
    if (!this.o.broadcaster || this.unsubscribe) return;
    this.unsubscribe = await this.o.broadcaster.subscribe(this.channel, (raw) => this.onInvalidation(raw));
  }

  async stop(): Promise<void> {
    await this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private redisKey(key: string): string {
    return `${this.o.keyPrefix}cache:${key}`;
  }

  private tagKey(tag: string): string {
    return `${this.o.keyPrefix}cache-tag:${tag}`;
  }

  private async remote<T>(what: string, fn: (r: Redis) => Promise<T>): Promise<T | undefined> {
    const redis = this.o.redis;
    if (!redis) return undefined;
    try {
      const result = this.o.breaker ? await this.o.breaker.run(() => fn(redis)) : await fn(redis);
      if (this.unreachable) {
        this.unreachable = false;
        void this.recover();
      }
      return result;
    } catch (err) {
      this.unreachable = true;
      this.stats.remoteErrors++;
      this.log.debug('cache: redis unavailable, using the in-process tier only', {
        op: what,
        error: (err as Error).message,
      });
      return undefined;
    }
  }

  private async read(key: string): Promise<Entry | undefined> {
    const hit = this.local.get(key);
    if (hit) {
      this.stats.localHits++;
      return hit;
    }
    const raw = await this.remote('get', (r) => r.get(this.redisKey(key)));
    if (raw) {
      const entry = JSON.parse(raw) as Entry;
      if (this.localOn) {
        const ttlMs = await this.remote('pttl', (r) => r.pttl(this.redisKey(key)));
        this.local.set(
          key,
          entry,
          ttlMs && ttlMs > 0 ? { ttl: Math.min(ttlMs, this.o.localTtlMs ?? 5000) } : {},
        );
      }
      this.stats.remoteHits++;
      return entry;
    }
    this.stats.misses++;
    return undefined;
  }

  private async write(key: string, entry: Entry, ttlSeconds: number, tags: string[] = []): Promise<void> {
    if (this.localOn)
      this.local.set(key, entry, { ttl: Math.min(ttlSeconds * 1000, this.o.localTtlMs ?? 5000) });
    for (const tag of tags) {
      let set = this.localTags.get(tag);
      if (!set) this.localTags.set(tag, (set = new Set()));
      set.add(key);
    }
    await this.remote('set', async (r) => {
      const m = r.multi().set(this.redisKey(key), JSON.stringify(entry), 'EX', ttlSeconds);
      for (const tag of tags)
        m.sadd(this.tagKey(tag), key).expire(this.tagKey(tag), Math.max(ttlSeconds, 3600));
      await m.exec();
    });
  }

  // A write whose caller promises it is readable for its whole TTL: stored in Redis or it throws;
  // without Redis the in-process tier is the store and keeps it for the TTL, not the local cap.
  async store<T>(key: string, value: T, ttlSeconds: number): Promise<void> {
    const entry: Entry = { v: value };
    const redis = this.o.redis;
    if (!redis) {
      this.local.set(key, entry, { ttl: ttlSeconds * 1000 });
      return;
    }
    const write = () => redis.set(this.redisKey(key), JSON.stringify(entry), 'EX', ttlSeconds);
    await (this.o.breaker ? this.o.breaker.run(write) : write());
    if (this.localOn)
      this.local.set(key, entry, { ttl: Math.min(ttlSeconds * 1000, this.o.localTtlMs ?? 5000) });
  }

  async get<T>(key: string): Promise<T | undefined> {
    const e = await this.read(key);
    return e && 'v' in e ? (e.v as T) : undefined;
  }

  async set<T>(key: string, value: T, ttlSeconds: number, tags?: string[]): Promise<void> {
    await this.write(key, { v: value }, ttlSeconds, tags);
  }

  async getOrLoad<T>(
    key: string,
    loader: () => Promise<T | undefined>,
    options: LoadOptions = {},
  ): Promise<T | undefined> {
    const hit = this.local.get(key);
    if (hit) {
      this.stats.localHits++;
      return this.unwrap<T>(hit);
    }
    // Concurrent misses join the flight before anyone asks Redis, so one process sends one GET.
    const running = this.inflight.get(key);
    if (running) return running as Promise<T | undefined>;
    const generation = this.generations.get(key) ?? 0;
    const flight = (async () => {
      const cached = await this.read(key);
      if (cached) return this.unwrap<T>(cached);
      this.stats.loads++;
      const value = await loader();
      // An invalidation arrived while loading: the value may predate it, so it is returned, not kept.
      if ((this.generations.get(key) ?? 0) === generation) {
        if (value === undefined) {
          await this.write(key, { n: 1 }, options.negativeTtlSeconds ?? this.o.negativeTtlSeconds ?? 5);
        } else {
          await this.write(
            key,
            { v: value },
            options.ttlSeconds ?? this.o.defaultTtlSeconds ?? 60,
            options.tags,
          );
        }
      }
      return value;
    })();
    this.inflight.set(key, flight);
    try {
      return await flight;
    } finally {
      this.inflight.delete(key);
    }
  }

  private unwrap<T>(e: Entry): T | undefined {
    if ('v' in e) return e.v as T;
    this.stats.negativeHits++;
    return undefined;
  }

  private dropLocal(keys: string[]): void {
    for (const k of keys) {
      this.local.delete(k);
      this.generations.set(k, (this.generations.get(k) ?? 0) + 1);
    }
  }

  private dropLocalPrefix(prefix: string): void {
    this.dropLocal([...this.local.keys()].filter((k) => k.startsWith(prefix)));
    for (const k of this.inflight.keys()) if (k.startsWith(prefix)) this.dropLocal([k]);
  }

  private async announce(msg: Omit<InvalidationMessage, 'origin'>): Promise<void> {
    if (!this.o.broadcaster) return;
    try {
      await this.o.broadcaster.publish(this.channel, JSON.stringify({ origin: this.origin, ...msg }));
    } catch (err) {
      this.log.warn('cache: invalidation broadcast failed; other replicas expire their copy by TTL', {
        error: (err as Error).message,
      });
    }
  }

  private onInvalidation(raw: string): void {
    const msg = JSON.parse(raw) as InvalidationMessage;
    if (msg.origin === this.origin) return;
    this.stats.invalidationsReceived++;
    if (msg.keys) this.dropLocal(msg.keys);
    if (msg.prefix !== undefined) this.dropLocalPrefix(msg.prefix);
  }

  async delete(key: string): Promise<void> {
    await this.deleteMany([key]);
  }

  async deleteMany(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    this.dropLocal(keys);
    const done = await this.remote('del', async (r) => {
      await r.unlink(...keys.map((k) => this.redisKey(k)));
      return true;
    });
    if (!done && this.o.redis) for (const k of keys) this.unsentDeletes.add(k);
    await this.announce({ keys });
  }

  // Every key starting with prefix, in both tiers and on every replica.
  async deleteByPrefix(prefix: string): Promise<number> {
    this.dropLocalPrefix(prefix);
    const removed = await this.remote('scan', async (r) => {
      let cursor = '0';
      let n = 0;
      const pattern = `${this.redisKey(prefix).replace(/[*?[\]\\]/g, '\\$&')}*`;
      do {
        const [next, found] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        cursor = next;
        if (found.length > 0) n += await r.unlink(...found);
      } while (cursor !== '0');
      return n;
    });
    await this.announce({ prefix });
    return removed ?? 0;
  }

  async invalidateTag(tag: string): Promise<void> {
    const local = [...(this.localTags.get(tag) ?? [])];
    this.localTags.delete(tag);
    const remote =
      (await this.remote('smembers', async (r) => {
        const members = await r.smembers(this.tagKey(tag));
        await r.unlink(this.tagKey(tag));
        return members;
      })) ?? [];
    await this.deleteMany([...new Set([...local, ...remote])]);
  }

  // For tests and the admin endpoint: is the key in this process's tier right now?
  hasLocal(key: string): boolean {
    return this.local.has(key);
  }
}
