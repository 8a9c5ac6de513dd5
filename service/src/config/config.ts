// The service's whole configuration, parsed once from the environment at start-up.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

// Repo-level git-ignored state folder: src/config (or dist/config) -> service -> repo root.
export const DEFAULT_STATE_DIR = path.resolve(fileURLToPath(new URL('../../../.local', import.meta.url)));

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const csv = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0),
);
/** Middleware that HTTP_DISABLED_MIDDLEWARE may switch off, to measure what each costs (make bench). */
export const SWITCHABLE_MIDDLEWARE = [
  'helmet',
  'request-id',
  'access-log',
  'rate-limit',
  'metrics',
  'tracing',
] as const;
export type SwitchableMiddleware = (typeof SWITCHABLE_MIDDLEWARE)[number];
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v));

// Express accepts boolean, hop count, or a list of trusted addresses/subnets/named ranges.
const trustProxy = z.string().transform((v): boolean | number | string[] => {
  if (v === 'true') return true;
  if (v === 'false' || v === '') return false;
  if (/^\d+$/.test(v)) return Number(v);
  return v.split(',').map((s) => s.trim());
});

// A duration like 900s, 15m, 12h or 7d, read as seconds.
const duration = (fallback: string) =>
  z
    .string()
    .regex(/^\d+[smhd]$/, 'a duration like 900s, 15m, 12h or 7d')
    .default(fallback)
    .transform(durationToSeconds);

// Redis on its own, so a connection can be configured from a URL alone (settingsFromUrl).
const redisEnv = {
  REDIS_URL: optionalString,
  REDIS_HOST: optionalString,
  REDIS_PORT: int(1, 65535).default(6379),
  REDIS_DB: int(0, 15).default(0),
  REDIS_PASSWORD: optionalString,
  REDIS_TLS: bool.default(false),
  REDIS_KEY_PREFIX: z.string().default('esp:'),
  REDIS_CONNECT_TIMEOUT_MS: int(100, 60_000).default(2000),
  REDIS_COMMAND_TIMEOUT_MS: int(10, 60_000).default(1000),
  REDIS_MAX_RETRY_DELAY_MS: int(50, 60_000).default(2000),
  REDIS_OFFLINE_QUEUE_MAX: int(0, 1_000_000).default(1000),
};
const redisSchema = z.object(redisEnv);

function toRedisConfig(e: z.output<typeof redisSchema>) {
  return {
    url: e.REDIS_URL,
    host: e.REDIS_HOST,
    port: e.REDIS_PORT,
    db: e.REDIS_DB,
    password: e.REDIS_PASSWORD,
    tls: e.REDIS_TLS,
    // Prepended by every adapter to its own keys and channels (not by ioredis: its keyPrefix would
    // miss SCAN patterns and pub/sub channel names, so prefixing is explicit everywhere).
    keyPrefix: e.REDIS_KEY_PREFIX,
    connectTimeoutMs: e.REDIS_CONNECT_TIMEOUT_MS,
    commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
    // Reconnect delay grows exponentially up to this cap (plus jitter).
    maxRetryDelayMs: e.REDIS_MAX_RETRY_DELAY_MS,
    // Commands queued while disconnected, at most (see guardOfflineQueue).
    offlineQueueMax: e.REDIS_OFFLINE_QUEUE_MAX,
  };
}

// The Redis settings of a URL, everything else at its default (benchmarks and tests).
export function redisSettingsFromEnv(env: Partial<Record<keyof typeof redisEnv, string>>) {
  return toRedisConfig(redisSchema.parse(env));
}

const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    PORT: int(0, 65535).default(3000),
    HOST: z.string().default('0.0.0.0'),
    SERVICE_NAME: z.string().min(1).default('express-sqlize'),
    REGION: z.string().default('local'),
    ZONE: z.string().default('local'),
    STATE_DIR: z.string().default(DEFAULT_STATE_DIR),

    LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),
    LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
    DEBUG: csv.default([]),

    DATABASE_URL: optionalString,
    DB_DIALECT: z.enum(['sqlite', 'postgres']).optional(),
    DB_HOST: z.string().default('127.0.0.1'),
    DB_PORT: int(1, 65535).default(5432),
    DB_NAME: z.string().default('express_sqlize'),
    DB_USER: z.string().default('postgres'),
    DB_PASSWORD: z.string().default(''),
    DB_SSL: bool.default(false),
    DB_STORAGE: optionalString,
    DB_POOL_MIN: int(0, 1000).default(0),
    DB_POOL_MAX: int(1, 1000).default(10),
    DB_POOL_ACQUIRE_MS: int(100, 600_000).default(5000),
    DB_POOL_IDLE_MS: int(100, 600_000).default(10_000),
    DB_CONNECT_TIMEOUT_MS: int(100, 600_000).default(3000),
    DB_STATEMENT_TIMEOUT_MS: int(0, 3_600_000).default(10_000),
    MIGRATE_ON_BOOT: bool.default(true),

    ...redisEnv,

    RATE_LIMIT_CLIENT_POINTS: int(0, 1_000_000).default(0),
    RATE_LIMIT_USER_POINTS: int(0, 1_000_000).default(0),
    RATE_LIMIT_WINDOW_S: int(1, 86_400).default(60),
    RATE_LIMIT_INSURANCE_DIVISOR: int(1, 1000).default(1),
    CACHE_TTL_S: int(1, 86_400).default(60),
    CACHE_NEGATIVE_TTL_S: int(1, 3600).default(5),
    CACHE_LOCAL_TTL_MS: int(0, 3_600_000).default(5000),
    CACHE_MAX_VALUE_BYTES: int(16, 10_485_760).default(65_536),
    CACHE_MAX_TTL_S: int(1, 30 * 86_400).default(86_400),
    LOCK_TTL_MS: int(100, 600_000).default(10_000),
    LOCK_RETRIES: int(0, 1000).default(10),
    LOCK_RETRY_DELAY_MS: int(1, 60_000).default(100),
    EVENTS_MAX_DELIVERIES: int(1, 100).default(5),
    OUTBOX_RELAY_INTERVAL_MS: int(10, 600_000).default(500),
    // Event streams to clients (SSE /api/v1/events, GraphQL subscriptions).
    EVENTS_HEARTBEAT_MS: int(100, 600_000).default(15_000),
    EVENTS_AUTH_RECHECK_MS: int(100, 600_000).default(5000),
    // At least Node's 16 KiB high-water mark, so a backlog read waits for the client before the bound.
    EVENTS_MAX_BUFFER_BYTES: int(65_536, 64 * 1_048_576).default(1_048_576),
    EVENTS_RETRY_MS: int(100, 600_000).default(3000),

    JWT_SECRET: optionalString,
    JWT_EXPIRES_IN: duration('15m'),
    JWT_REFRESH_EXPIRES_IN: duration('7d'),
    JWT_ISSUER: z.string().min(1).default('express-sqlize'),
    JWT_AUDIENCE: z.string().min(1).default('express-sqlize-api'),
    JWT_REFRESH_REUSE_GRACE_S: int(0, 60).default(10),

    METRICS_ENABLED: bool.default(true),
    METRICS_PORT: int(1, 65535).optional(),
    METRICS_PATH: z.string().startsWith('/').default('/metrics'),
    METRICS_PREFIX: z.string().default('esp_'),

    HEALTH_CHECK_TIMEOUT_MS: int(10, 60_000).default(2000),
    HEALTH_CHECK_INTERVAL_MS: int(0, 600_000).default(0),
    // Redis decides readiness when it is configured; false keeps replicas in rotation without it.
    HEALTH_REDIS_CRITICAL: bool.default(false),
    HEALTH_EVENT_LOOP_MAX_MS: int(1, 600_000).default(1000),
    HEALTH_HEAP_MAX_RATIO: z.coerce.number().gt(0).max(1).default(0.95),
    HEALTH_RSS_MAX_MB: int(0, 1_048_576).default(0),
    HEALTH_DISK_MIN_FREE_MB: int(0, 1_048_576).default(100),

    // /distributed/info: set by the image build and the Kubernetes downward API.
    GIT_SHA: optionalString,
    APP_VERSION: optionalString,
    POD_NAME: optionalString,
    POD_NAMESPACE: optionalString,
    HOSTNAME: optionalString,

    TRUST_PROXY: trustProxy.default(false),
    CORS_ORIGINS: csv.default([]),
    BODY_LIMIT: z
      .string()
      .regex(/^\d+(b|kb|mb)$/i, 'a size like 100kb or 1mb')
      .default('100kb'),
    HTTPS_REDIRECT: bool.default(false),
    PUBLIC_ORIGIN: z
      .url({ protocol: /^https$/ })
      .transform((u) => new URL(u).origin)
      .optional(),
    HTTP_HEADERS_TIMEOUT_MS: int(1000, 600_000).default(10_000),
    HTTP_REQUEST_TIMEOUT_MS: int(1000, 3_600_000).default(30_000),
    HTTP_KEEP_ALIVE_TIMEOUT_MS: int(1000, 600_000).default(65_000),
    HTTP_MAX_CONNECTIONS: int(1, 1_000_000).default(10_000),
    HTTP_DISABLED_MIDDLEWARE: csv.pipe(z.array(z.enum(SWITCHABLE_MIDDLEWARE))).default([]),
    BCRYPT_COST: int(4, 15).default(12),
    AUTH_COOKIE: bool.default(true),
    COOKIE_SECURE: bool.optional(),

    ADMIN_EMAIL: z.email().default('admin@example.com'),
    ADMIN_PASSWORD: optionalString,
    ADMIN_NAME: z.string().min(1).default('Administrator'),

    PASSWORD_MIN_LENGTH: int(8, 128).default(12),
    EMAIL_DOMAIN_ALLOWLIST: csv.default([]),
    RULES_FILE: optionalString,

    LOGIN_MAX_CONSECUTIVE_FAILS: int(1, 1000).default(5),
    LOGIN_CONSECUTIVE_BLOCK_S: int(1, 86_400).default(900),
    LOGIN_MAX_FAILS_PER_IP_DAY: int(1, 100_000).default(100),
    LOGIN_MAX_CONCURRENT_VERIFICATIONS: int(1, 1000).default(2),
    LOGIN_DEVICE_EXPIRES_IN: duration('30d'),

    SHUTDOWN_DELAY_MS: int(0, 600_000).default(5000),
    SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(20_000),

    FEATURE_FLAGS_FILE: optionalString,
    // The flags ConfigMap to watch through the Kubernetes API (in namespace POD_NAMESPACE); unset: the file only.
    FEATURE_FLAGS_CONFIGMAP: z
      .string()
      .regex(/^[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$/, 'a ConfigMap name (lower-case DNS subdomain)')
      .optional()
      .or(z.literal('').transform(() => undefined)),
  })
  // Unknown variables are the rest of the environment: ignore them.
  .loose();

export type Env = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

// A secret shorter than this (or a well-known placeholder) is refused in production.
const MIN_SECRET_LENGTH = 32;
const PLACEHOLDER_SECRETS = /^(secret|changeme|change-me|jwt_secret|your-secret.*|default)$/i;

export function weakSecretReason(secret: string | undefined): string | undefined {
  if (secret === undefined) return 'is required in production';
  if (secret.length < MIN_SECRET_LENGTH) return `must be at least ${MIN_SECRET_LENGTH} characters`;
  if (PLACEHOLDER_SECRETS.test(secret)) return 'is a well-known placeholder';
  if (new Set(secret).size < 8) return 'has too few distinct characters';
  return undefined;
}

// The configuration as the service reads it: grouped by concern, defaults applied, units converted.
function toConfig(e: Env) {
  const isProduction = e.NODE_ENV === 'production';
  const dialect = e.DB_DIALECT ?? (e.DATABASE_URL ? 'postgres' : 'sqlite');
  return {
    env: e.NODE_ENV,
    isProduction,
    port: e.PORT,
    host: e.HOST,
    service: { name: e.SERVICE_NAME, region: e.REGION, zone: e.ZONE },
    stateDir: e.STATE_DIR,
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT, debug: e.DEBUG },
    db: {
      dialect,
      url: e.DATABASE_URL,
      host: e.DB_HOST,
      port: e.DB_PORT,
      name: e.DB_NAME,
      user: e.DB_USER,
      password: e.DB_PASSWORD,
      ssl: e.DB_SSL,
      storage: e.DB_STORAGE ?? path.join(e.STATE_DIR, 'express-sqlize.sqlite'),
      pool: {
        min: e.DB_POOL_MIN,
        max: e.DB_POOL_MAX,
        acquireMs: e.DB_POOL_ACQUIRE_MS,
        idleMs: e.DB_POOL_IDLE_MS,
      },
      connectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
      migrateOnBoot: e.MIGRATE_ON_BOOT,
    },
    redis: toRedisConfig(e),
    // Rate limits, cache, locks and events: the parts shared between replicas (runtime/distributed.ts).
    distributed: {
      rateLimit: {
        clientPoints: e.RATE_LIMIT_CLIENT_POINTS,
        userPoints: e.RATE_LIMIT_USER_POINTS,
        windowSeconds: e.RATE_LIMIT_WINDOW_S,
        insuranceDivisor: e.RATE_LIMIT_INSURANCE_DIVISOR,
      },
      cache: {
        ttlSeconds: e.CACHE_TTL_S,
        negativeTtlSeconds: e.CACHE_NEGATIVE_TTL_S,
        localTtlMs: e.CACHE_LOCAL_TTL_MS,
        maxValueBytes: e.CACHE_MAX_VALUE_BYTES,
        maxTtlSeconds: e.CACHE_MAX_TTL_S,
      },
      lock: { ttlMs: e.LOCK_TTL_MS, retries: e.LOCK_RETRIES, retryDelayMs: e.LOCK_RETRY_DELAY_MS },
      events: { maxDeliveries: e.EVENTS_MAX_DELIVERIES, relayIntervalMs: e.OUTBOX_RELAY_INTERVAL_MS },
    },
    // Long-lived event streams: a comment line every heartbeatMs keeps proxies from closing an idle
    // connection; the token is checked again every authRecheckMs; a client whose unsent output
    // passes maxBufferBytes is disconnected; retryMs is the reconnect delay a client is told.
    eventStreams: {
      heartbeatMs: e.EVENTS_HEARTBEAT_MS,
      authRecheckMs: e.EVENTS_AUTH_RECHECK_MS,
      maxBufferBytes: e.EVENTS_MAX_BUFFER_BYTES,
      retryMs: e.EVENTS_RETRY_MS,
    },
    jwt: {
      secret: e.JWT_SECRET,
      accessTtlSeconds: e.JWT_EXPIRES_IN,
      refreshTtlSeconds: e.JWT_REFRESH_EXPIRES_IN,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      refreshReuseGraceSeconds: e.JWT_REFRESH_REUSE_GRACE_S,
    },
    metrics: {
      enabled: e.METRICS_ENABLED,
      port: e.METRICS_PORT,
      path: e.METRICS_PATH,
      prefix: e.METRICS_PREFIX,
    },
    health: {
      timeoutMs: e.HEALTH_CHECK_TIMEOUT_MS,
      intervalMs: e.HEALTH_CHECK_INTERVAL_MS,
      redisCritical: e.HEALTH_REDIS_CRITICAL,
      eventLoopMaxMs: e.HEALTH_EVENT_LOOP_MAX_MS,
      heapMaxRatio: e.HEALTH_HEAP_MAX_RATIO,
      rssMaxMb: e.HEALTH_RSS_MAX_MB,
      diskMinFreeMb: e.HEALTH_DISK_MIN_FREE_MB,
    },
    build: { gitSha: e.GIT_SHA, version: e.APP_VERSION, podName: e.POD_NAME ?? e.HOSTNAME },
    http: {
      trustProxy: e.TRUST_PROXY,
      corsOrigins: e.CORS_ORIGINS,
      bodyLimit: e.BODY_LIMIT,
      httpsRedirect: e.HTTPS_REDIRECT,
      // Where redirects point (never the request's own Host, which a client controls).
      publicOrigin: e.PUBLIC_ORIGIN,
      // A client has this long for its headers, and for its whole request; an idle keep-alive
      // socket is closed after keepAliveTimeoutMs (above the Ingress's own, so the proxy closes
      // first); connections beyond maxConnections are refused.
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: Math.max(e.HTTP_REQUEST_TIMEOUT_MS, e.HTTP_HEADERS_TIMEOUT_MS),
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      maxConnections: e.HTTP_MAX_CONNECTIONS,
      /** Diagnostics only: middleware switched off by HTTP_DISABLED_MIDDLEWARE. */
      disabledMiddleware: new Set(e.HTTP_DISABLED_MIDDLEWARE) as ReadonlySet<SwitchableMiddleware>,
      authCookie: e.AUTH_COOKIE,
      cookieSecure: e.COOKIE_SECURE ?? isProduction,
    },
    security: { bcryptCost: e.BCRYPT_COST },
    admin: { email: e.ADMIN_EMAIL, password: e.ADMIN_PASSWORD, name: e.ADMIN_NAME },
    rules: {
      passwordMinLength: e.PASSWORD_MIN_LENGTH,
      emailDomainAllowlist: e.EMAIL_DOMAIN_ALLOWLIST.map((d) => d.toLowerCase()),
      file: e.RULES_FILE,
    },
    loginLimits: {
      maxConsecutiveFails: e.LOGIN_MAX_CONSECUTIVE_FAILS,
      consecutiveBlockS: e.LOGIN_CONSECUTIVE_BLOCK_S,
      maxFailsPerIpDay: e.LOGIN_MAX_FAILS_PER_IP_DAY,
      maxConcurrentVerifications: e.LOGIN_MAX_CONCURRENT_VERIFICATIONS,
      deviceTtlSeconds: e.LOGIN_DEVICE_EXPIRES_IN,
    },
    shutdown: { delayMs: e.SHUTDOWN_DELAY_MS, timeoutMs: e.SHUTDOWN_TIMEOUT_MS },
    featureFlagsFile: e.FEATURE_FLAGS_FILE,
    featureFlagsConfigMap: e.FEATURE_FLAGS_CONFIGMAP
      ? { name: e.FEATURE_FLAGS_CONFIGMAP, namespace: e.POD_NAMESPACE }
      : undefined,
  };
}

const configSchema = envSchema.transform(toConfig);
export type Config = z.infer<typeof configSchema>;

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const name = i.path.join('.') || '(environment)';
      const value = source[name];
      const shown =
        value === undefined || /SECRET|PASSWORD/.test(name) ? '' : ` (got ${JSON.stringify(value)})`;
      return `${name}: ${i.message}${shown}`;
    });
    throw new ConfigError(problems);
  }
  const config = parsed.data;
  // Rules across variables, checked once each variable is valid on its own.
  const problems: string[] = [];
  if (config.isProduction) {
    const reason = weakSecretReason(config.jwt.secret);
    if (reason) problems.push(`JWT_SECRET: ${reason}`);
  }
  const { db } = config;
  if (db.url && db.dialect === 'postgres' && !/^postgres(ql)?:\/\//.test(db.url)) {
    problems.push('DATABASE_URL: must start with postgres:// or postgresql://');
  }
  if (db.pool.min > db.pool.max) problems.push('DB_POOL_MIN: must not exceed DB_POOL_MAX');
  if (config.featureFlagsConfigMap && !config.featureFlagsConfigMap.namespace)
    problems.push('FEATURE_FLAGS_CONFIGMAP: needs POD_NAMESPACE, the namespace of the ConfigMap');
  const { http } = config;
  if (http.httpsRedirect && http.trustProxy === false) {
    problems.push(
      'HTTPS_REDIRECT: needs TRUST_PROXY (the proxy that terminates TLS); without it every request looks like plain HTTP and is redirected forever',
    );
  }
  if (http.httpsRedirect && !http.publicOrigin) {
    problems.push(
      'HTTPS_REDIRECT: needs PUBLIC_ORIGIN (like https://api.example.com), the origin redirects point to',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

export function durationToSeconds(d: string): number {
  const m = /^(\d+)([smhd])$/.exec(d);
  if (!m) throw new Error(`not a duration: ${d}`);
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}
