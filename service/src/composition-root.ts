// The composition root: the one module that knows the tsyringe container. It builds every adapter
// and service (factories registered here, nothing decorated elsewhere) and hands the HTTP layer and
// the runtime finished objects.
import type { Express } from 'express';
import fs from 'node:fs';
import {
  type DependencyContainer,
  type InjectionToken,
  instanceCachingFactory,
  container as rootContainer,
} from 'tsyringe';
import type { Config } from './config/config.js';
import { resolveJwtSecret } from './config/jwt-secret.js';
import { AuthService } from './domain/auth/auth.service.js';
import { EventsService } from './domain/events/events.service.js';
import { RulesEngine, loadRules } from './domain/rules/rules.js';
import { SessionsService } from './domain/sessions/sessions.service.js';
import { systemClock, type Clock, type LoggerProvider } from './domain/shared/ports.js';
import { ensureBootstrapAdmin } from './domain/users/bootstrap-admin.js';
import { UsersService } from './domain/users/users.service.js';
import { createApp } from './http/app.js';
import { CachedRevocationStore, CachedSessionRepository } from './infrastructure/cache/cached-sessions.js';
import { CachedUserRepository } from './infrastructure/cache/cached-users.js';
import { Database } from './infrastructure/db/database.js';
import { Migrator } from './infrastructure/db/migrator.js';
import {
  SequelizeRevocationStore,
  SequelizeSessionRepository,
} from './infrastructure/db/repositories/session.repository.js';
import { SequelizeUserRepository } from './infrastructure/db/repositories/user.repository.js';
import { createSequelize } from './infrastructure/db/sequelize.js';
import { SequelizeUnitOfWork } from './infrastructure/db/unit-of-work.js';
import { LoggerFactory } from './infrastructure/logging/logger.js';
import { Metrics, type PoolStats } from './infrastructure/metrics/metrics.js';
import { RateLimiterLoginThrottle } from './infrastructure/rate-limit/login-throttle.js';
import { BcryptPasswordHasher } from './infrastructure/security/bcrypt-hasher.js';
import { JwtTokenService } from './infrastructure/security/jwt-token-service.js';
import { DistributedRuntime } from './runtime/distributed.js';
import { distributedMetrics } from './runtime/distributed-metrics.js';
import { EventLoopMonitor, diskCheck, eventLoopCheck, memoryCheck } from './runtime/health-checks.js';
import { HealthRegistry } from './runtime/health-registry.js';
import { Lifecycle } from './runtime/lifecycle.js';
import { MetricsServer } from './runtime/metrics-server.js';
import { Service } from './runtime/service.js';

export interface BuildOptions {
  // Where log lines go; stdout by default (tests read them from a stream).
  logStream?: NodeJS.WritableStream;
  clock?: Clock;
}

export interface Composition {
  service: Service;
  // The Express app the service serves (tests read its routes).
  app: Express;
  database: Database;
  migrator: Migrator;
  loggers: LoggerProvider;
  lifecycle: Lifecycle;
  health: HealthRegistry;
  metrics: Metrics;
  metricsServer?: MetricsServer;
  distributed: DistributedRuntime;
}

function serviceVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

// GIT_SHA from the environment, else service/build-info.json ({"gitSha": ...}) written by an image build.
function gitSha(config: Config): string | undefined {
  if (config.build.gitSha) return config.build.gitSha;
  try {
    const info = JSON.parse(fs.readFileSync(new URL('../build-info.json', import.meta.url), 'utf8')) as {
      gitSha?: string;
    };
    return info.gitSha;
  } catch {
    return undefined;
  }
}

// sequelize-pool's counters; SQLite's connection manager has no pool.
function poolStats(database: Database): PoolStats | undefined {
  const pool = (database.sequelize.connectionManager as unknown as { pool?: Partial<PoolStats> }).pool;
  return typeof pool?.size === 'number' ? (pool as PoolStats) : undefined;
}

export function buildLoggers(config: Config, stream?: NodeJS.WritableStream): LoggerFactory {
  return new LoggerFactory({
    level: config.log.level,
    format: config.log.format,
    debugCategories: config.log.debug,
    service: config.service.name,
    stream,
  });
}

export function compose(config: Config, options: BuildOptions = {}): Composition {
  const loggers = buildLoggers(config, options.logStream);
  const log = loggers.get('app');
  const clock = options.clock ?? systemClock;

  const jwt = resolveJwtSecret(config);
  if (jwt.generatedAt) {
    log.warn('JWT_SECRET is not set: using a generated development secret (refused in production)', {
      file: jwt.generatedAt,
    });
  }

  const metrics = new Metrics({ prefix: config.metrics.prefix });
  const database = new Database(createSequelize(config.db, loggers.get('db'), metrics));
  metrics.watchPool(() => poolStats(database));
  const migrator = new Migrator(database.sequelize, loggers.get('db'), config.db.storage);
  const health = new HealthRegistry(config.health.timeoutMs, config.health.intervalMs);
  health.onResult((name, r) => metrics.healthChecked(name, r.critical, r.status === 'up'));
  health.register({ name: 'database', critical: true, check: () => database.ping() });
  const loop = new EventLoopMonitor();
  health.register(eventLoopCheck(loop, config.health.eventLoopMaxMs));
  health.register(memoryCheck(config.health.heapMaxRatio, config.health.rssMaxMb));
  health.register(diskCheck(config.stateDir, config.health.diskMinFreeMb));
  const metricsServer =
    config.metrics.enabled && config.metrics.port !== undefined
      ? new MetricsServer(metrics, config.metrics.path, config.host, config.metrics.port, loggers.get('app'))
      : undefined;
  const lifecycle = new Lifecycle();
  // Redis-backed when REDIS_URL/REDIS_HOST is set, in-process otherwise (runtime/distributed.ts).
  const distributed = new DistributedRuntime(config, loggers, database.sequelize);
  // Not critical by default (HEALTH_REDIS_CRITICAL=false): Redis is shared by every replica, so a
  // critical check would take them all out of rotation at once during a Redis outage, although
  // each keeps serving reads from the database. Embedded mode reports it up: nothing to reach.
  health.register({
    name: 'redis',
    critical: distributed.mode === 'redis' && config.health.redisCritical,
    check: () => distributed.ping(),
  });
  // Cache, lock, rate-limit, breaker and outbox counters live in the distributed parts; their
  // registry is served with the service's at /metrics and /distributed/metrics. Its database reads
  // are bounded like the health checks', so a scrape answers while the database does not.
  metrics.include(distributedMetrics(distributed, config.metrics.prefix, config.health.timeoutMs));

  // The domain's object graph: each part is built once, on first resolution, from its factory. A
  // child container per composition, so tests can run several services in one process.
  const c = rootContainer.createChildContainer();
  const single = <T>(token: InjectionToken<T>, build: (r: DependencyContainer) => T) =>
    c.register(token, { useFactory: instanceCachingFactory(build) });
  const { flags, cache } = distributed;
  single(SequelizeUserRepository, () => new SequelizeUserRepository(database));
  // Reads of users and of the account behind a token come through the cache (dropped on every
  // replica after each committed change); the Sequelize adapters stay the source of truth.
  single(
    CachedUserRepository,
    (r) =>
      new CachedUserRepository(r.resolve(SequelizeUserRepository), cache, flags, {
        listTtlSeconds: Math.min(30, config.distributed.cache.ttlSeconds),
      }),
  );
  single(
    CachedSessionRepository,
    () => new CachedSessionRepository(new SequelizeSessionRepository(database, clock), cache, flags),
  );
  single(
    CachedRevocationStore,
    () => new CachedRevocationStore(new SequelizeRevocationStore(database, clock), cache, flags, clock),
  );
  single(
    BcryptPasswordHasher,
    () => new BcryptPasswordHasher(config.security.bcryptCost, config.loginLimits.maxConcurrentVerifications),
  );
  single(
    SequelizeUnitOfWork,
    (r) =>
      new SequelizeUnitOfWork(
        database,
        async (events) => {
          await r.resolve(CachedUserRepository).forgetChanged(events);
          // Relay the events now instead of at the next tick; subscribers reading the outbox look now.
          if (events.length > 0) distributed.committed();
        },
        distributed.mode !== 'redis',
      ),
  );
  single(
    UsersService,
    (r) =>
      new UsersService(
        r.resolve(CachedUserRepository),
        r.resolve(SequelizeUnitOfWork),
        r.resolve(BcryptPasswordHasher),
        new RulesEngine(loadRules(config.rules)),
        r.resolve(CachedSessionRepository),
        loggers.get('audit'),
      ),
  );
  single(
    AuthService,
    (r) =>
      new AuthService(
        r.resolve(SequelizeUserRepository),
        r.resolve(CachedSessionRepository),
        r.resolve(CachedRevocationStore),
        r.resolve(BcryptPasswordHasher),
        new JwtTokenService(
          {
            secret: jwt.secret,
            issuer: config.jwt.issuer,
            audience: config.jwt.audience,
            accessTtlSeconds: config.jwt.accessTtlSeconds,
            refreshTtlSeconds: config.jwt.refreshTtlSeconds,
            deviceTtlSeconds: config.loginLimits.deviceTtlSeconds,
          },
          clock,
        ),
        new RateLimiterLoginThrottle(distributed.rateLimiters, {
          maxConsecutiveFails: config.loginLimits.maxConsecutiveFails,
          consecutiveBlockSeconds: config.loginLimits.consecutiveBlockS,
          maxFailsPerIpDay: config.loginLimits.maxFailsPerIpDay,
        }),
        clock,
        loggers,
        r.resolve(CachedUserRepository),
        { refreshReuseGraceMs: config.jwt.refreshReuseGraceSeconds * 1000 },
      ),
  );
  single(SessionsService, (r) => new SessionsService(r.resolve(CachedSessionRepository), clock));
  single(
    EventsService,
    (r) =>
      new EventsService(
        distributed.feed,
        r.resolve(AuthService),
        { recheckMs: config.eventStreams.authRecheckMs },
        loggers.get('events'),
      ),
  );

  const users = c.resolve(UsersService);
  const app = createApp({
    config,
    loggers,
    lifecycle,
    health,
    auth: c.resolve(AuthService),
    users,
    sessions: c.resolve(SessionsService),
    events: c.resolve(EventsService),
    // The image sets APP_VERSION from its build argument; package.json otherwise.
    version: config.build.version ?? serviceVersion(),
    metrics,
    gitSha: gitSha(config),
    distributed,
  });
  const service = new Service({
    config,
    app,
    database,
    migrator,
    lifecycle,
    log,
    extraStarters: [
      () => distributed.start(),
      ...(metricsServer ? [() => metricsServer.start()] : []),
      async () => loop.reset(),
    ],
    extraClosers: [
      () => distributed.stop(),
      async () => loop.stop(),
      ...(metricsServer ? [() => metricsServer.stop()] : []),
    ],
    bootstrapAdmin: () => ensureBootstrapAdmin(c.resolve(SequelizeUserRepository), users, config.admin),
  });
  return {
    service,
    app,
    database,
    migrator,
    loggers,
    lifecycle,
    health,
    distributed,
    metrics,
    metricsServer,
  };
}
