// The parts shared between replicas, built from configuration: on Redis when REDIS_URL/REDIS_HOST
// is set, otherwise the in-process twins behind the same interfaces (so `make run` works on one
// machine). The composition root creates one DistributedRuntime, hands its parts on and starts and
// stops it with the service.
import type { Redis } from 'ioredis';
import type { Sequelize } from 'sequelize';
import type { Config } from '../config/config.js';
import type { LoggerProvider } from '../domain/shared/ports.js';
import {
  MemoryRateLimiterFactory,
  type RateLimiterFactory,
} from '../infrastructure/rate-limit/rate-limiter.js';
import { OutboxRelay } from '../infrastructure/db/outbox.js';
import { OutboxLog } from '../infrastructure/db/outbox-log.js';
import { LogFanout } from '../infrastructure/events/fanout.js';
import { USER_EVENTS_STREAM } from '../domain/users/user.js';
import { FLAG_DEFAULTS, FileFeatureFlags } from '../infrastructure/flags/feature-flags.js';
import { type Broadcaster, LocalBroadcaster, RedisBroadcaster } from '../infrastructure/redis/broadcast.js';
import { TieredCache } from '../infrastructure/redis/cache.js';
import {
  closeQuietly,
  createRedisConnection,
  guardOfflineQueue,
  redisConfigured,
} from '../infrastructure/redis/connection.js';
import { type EventBus, InProcessEventBus, RedisStreamBus } from '../infrastructure/redis/event-bus.js';
import { type DistributedLock, InProcessLock, RedisLock } from '../infrastructure/redis/lock.js';
import { RedisRateLimiterFactory } from '../infrastructure/redis/rate-limit.js';
import { RedisStreamLog } from '../infrastructure/redis/stream-log.js';
import { type RedisStatus, probeRedisStatus } from '../infrastructure/redis/status.js';
import { type Breaker, BreakerRegistry } from '../infrastructure/resilience/breaker.js';

export class DistributedRuntime {
  readonly breakers = new BreakerRegistry();
  readonly redis?: Redis;
  private readonly subscriber?: Redis;
  private readonly consumers: Redis[] = [];
  readonly redisBreaker?: Breaker;
  readonly lock: DistributedLock;
  readonly rateLimiters: RateLimiterFactory;
  readonly broadcaster: Broadcaster;
  readonly cache: TieredCache;
  readonly bus: EventBus;
  readonly flags: FileFeatureFlags;
  readonly relay: OutboxRelay;
  // The users' events for subscribers (SSE, GraphQL subscriptions): read from the Redis stream
  // the relay fills when Redis is configured, from the outbox table otherwise.
  readonly feed: LogFanout;
  private readonly outboxLog?: OutboxLog;
  private readonly feedConnection?: Redis;

  constructor(
    readonly config: Config,
    loggers: LoggerProvider,
    sequelize: Sequelize,
  ) {
    const log = loggers.get('redis');
    const prefix = config.redis.keyPrefix;
    const settings = config.redis;
    if (redisConfigured(settings)) {
      const redis = createRedisConnection(settings, 'main', log);
      this.redis = redis;
      this.subscriber = createRedisConnection(settings, 'subscriber', log);
      // While the connection is down the breaker refuses at once (and opens), so a dead Redis
      // costs microseconds; the offline-queue guard bounds what waits for a reconnect.
      const available = () => {
        if (redis.status === 'ready') return true;
        guardOfflineQueue(redis, config.redis.offlineQueueMax);
        return false;
      };
      this.redisBreaker = this.breakers.create('redis', {
        timeoutMs: config.redis.commandTimeoutMs,
        resetTimeoutMs: 1000,
        isAvailable: available,
      });
      this.lock = new RedisLock(redis, prefix, this.redisBreaker);
      this.rateLimiters = new RedisRateLimiterFactory(redis, prefix, {
        insuranceDivisor: config.distributed.rateLimit.insuranceDivisor,
      });
      this.broadcaster = new RedisBroadcaster(redis, this.subscriber, log);
      // Consumers block in XREADGROUP: a connection each, with a command timeout above the block.
      this.bus = new RedisStreamBus(
        redis,
        (role) => {
          const c = createRedisConnection({ ...settings, commandTimeoutMs: 10_000 }, role, log);
          this.consumers.push(c);
          return c;
        },
        prefix,
        loggers.get('events'),
      );
      this.feedConnection = createRedisConnection({ ...settings, commandTimeoutMs: 10_000 }, 'feed', log);
      this.feed = new LogFanout(
        new RedisStreamLog(redis, this.feedConnection, `${prefix}events:${USER_EVENTS_STREAM}`),
        { log: loggers.get('events') },
      );
    } else {
      this.lock = new InProcessLock();
      this.rateLimiters = new MemoryRateLimiterFactory();
      this.broadcaster = new LocalBroadcaster();
      this.bus = new InProcessEventBus();
      this.outboxLog = new OutboxLog(sequelize, USER_EVENTS_STREAM);
      this.feed = new LogFanout(this.outboxLog, {
        waitMs: config.distributed.events.relayIntervalMs,
        log: loggers.get('events'),
      });
    }
    const c = config.distributed.cache;
    this.cache = new TieredCache({
      keyPrefix: prefix,
      redis: this.redis,
      breaker: this.redisBreaker,
      broadcaster: this.redis ? this.broadcaster : undefined,
      localTtlMs: c.localTtlMs,
      defaultTtlSeconds: c.ttlSeconds,
      negativeTtlSeconds: c.negativeTtlSeconds,
      log: loggers.get('cache'),
    });
    // loadConfig has made sure a watched ConfigMap comes with its namespace.
    const watched = config.featureFlagsConfigMap;
    const namespace = watched?.namespace;
    this.flags = new FileFeatureFlags({
      file: config.featureFlagsFile,
      defaults: { ...FLAG_DEFAULTS },
      log: loggers.get('flags'),
      feed:
        watched && namespace
          ? async () => {
              const { ConfigMapFlagsFeed } = await import('../infrastructure/flags/configmap-feed.js');
              return new ConfigMapFlagsFeed({ namespace, name: watched.name, log: loggers.get('flags') });
            }
          : undefined,
    });
    // Without Redis the events go to the in-process bus the same way.
    this.relay = new OutboxRelay(sequelize, this.bus, {
      intervalMs: config.distributed.events.relayIntervalMs,
      log: loggers.get('events'),
    });
  }

  get mode(): 'redis' | 'embedded' {
    return this.redis ? 'redis' : 'embedded';
  }

  get flagsChannel(): string {
    return `${this.config.redis.keyPrefix}flags:reload`;
  }

  // After migrations: the outbox table exists. Redis being down does not stop the start.
  async start(): Promise<void> {
    await Promise.all([this.cache.start(), this.flags.start(this.broadcaster, this.flagsChannel)]);
    this.relay.start();
    this.feed.start();
  }

  // A unit of work committed here: subscribers reading the outbox table look now.
  committed(): void {
    this.relay.poke();
    this.outboxLog?.poke();
  }

  async stop(): Promise<void> {
    const feedStopped = this.feed.stop();
    // Ends the reader's blocking XREAD now instead of at its timeout.
    this.feedConnection?.disconnect();
    await feedStopped;
    await this.relay.stop();
    await Promise.allSettled([this.cache.stop(), this.flags.stop()]);
    this.breakers.shutdown();
    await Promise.all(
      [this.redis, this.subscriber, this.feedConnection, ...this.consumers]
        .filter((c): c is Redis => !!c)
        .map(closeQuietly),
    );
  }

  status(): Promise<RedisStatus> {
    return probeRedisStatus(this.redis);
  }

  // Redis is not critical: without it the service answers from the database and the insurance limiter.
  async ping(): Promise<void> {
    if (!this.redis) return;
    if (this.redis.status !== 'ready') throw new Error(`redis is ${this.redis.status}`);
    await this.redis.ping();
  }
}
