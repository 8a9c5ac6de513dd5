// /distributed/* and /api/v1/flags schemas: request validation and the OpenAPI document come from
// these. Answers that mirror internal state (Redis INFO, metrics, the configuration) are described
// by their stable fields and stay open to more.
import { z } from 'zod';
import type { Config } from '../../config/config.js';

export const KeyParams = z
  .object({
    key: z
      .string()
      .regex(/^[A-Za-z0-9:_.-]{1,200}$/, 'letters, digits and :_.- only, at most 200')
      .meta({ description: 'cache or lock key' }),
  })
  .strict();
export const ChannelParams = z
  .object({
    channel: z
      .string()
      .regex(/^[a-z][a-z0-9_.-]{0,62}$/, 'a lower-case stream name')
      .meta({ description: 'published to the stream published.<channel>' }),
  })
  .strict();

// A request waits for a held lock at most about this long (each retry waits the delay plus up to as
// much jitter), well inside a client's or a proxy's timeout; LOCK_RETRIES, the default, may be more.
const LOCK_WAIT_BUDGET_MS = 5000;
const maxLockRetries = (lock: Config['distributed']['lock']) =>
  Math.max(lock.retries, Math.floor(LOCK_WAIT_BUDGET_MS / (2 * lock.retryDelayMs)));

// The bounds and defaults are the configured ones, so each app builds these once and hands the same
// objects to its routes and its document.
export function distributedBodies(limits: Config['distributed']) {
  return {
    CacheBody: z.strictObject({
      value: z.unknown().default(null).meta({ description: 'any JSON value, nested at most 64 levels' }),
      ttlSeconds: z.number().int().min(1).max(limits.cache.maxTtlSeconds).default(limits.cache.ttlSeconds),
    }),
    LockBody: z.strictObject({
      ttlMs: z.number().int().min(100).max(600_000).default(limits.lock.ttlMs),
      retries: z
        .number()
        .int()
        .min(0)
        .max(maxLockRetries(limits.lock))
        .default(limits.lock.retries)
        .meta({ description: `tries after the first, about ${limits.lock.retryDelayMs * 1.5} ms apart` }),
    }),
    UnlockBody: z.strictObject({
      token: z
        .string()
        .regex(/^[0-9a-f]{32}$/, 'the token from the grant')
        .meta({ description: 'the token from the grant' }),
    }),
    EventBody: z.strictObject({
      type: z.string().regex(/^[a-z][a-zA-Z0-9_.-]{0,99}$/),
      payload: z.unknown().default(null),
    }),
  };
}
export type DistributedBodies = ReturnType<typeof distributedBodies>;

export const CacheEntrySchema = z.object({ key: z.string(), value: z.unknown() });
export const CacheStoredSchema = z.object({
  key: z.string(),
  ttlSeconds: z.number().int(),
  bytes: z.number().int(),
});
export const LockGrantSchema = z.object({
  resource: z.string(),
  token: z.string(),
  fence: z.number().int(),
  ttlMs: z.number().int(),
  expiresAt: z.iso.datetime(),
});
export const PublishedSchema = z.object({
  id: z.string(),
  streamId: z.string(),
  channel: z.string(),
  stream: z.string(),
});
export const DemoLimitSchema = z.object({
  allowed: z.literal(true),
  client: z.string(),
  limit: z.object({ points: z.number().int(), durationSeconds: z.number().int() }),
  store: z.string(),
});
export const RedisStatusSchema = z
  .object({ configured: z.boolean(), state: z.string(), mode: z.string(), breakers: z.unknown() })
  .loose();
export const ServiceInfoSchema = z
  .object({
    name: z.string(),
    version: z.string(),
    gitSha: z.string(),
    region: z.string(),
    zone: z.string(),
    pod: z.string(),
    node: z.string(),
    startedAt: z.iso.datetime(),
    uptimeSeconds: z.number(),
  })
  .meta({ id: 'ServiceInfo' });
export const SanitizedConfigSchema = z
  .record(z.string(), z.unknown())
  .meta({ description: 'the configuration, with every secret masked as ***' });
export const MetricsJsonSchema = z
  .array(
    z.object({ name: z.string(), help: z.string(), type: z.string(), values: z.array(z.unknown()) }).loose(),
  )
  .meta({ description: "prom-client's JSON form of the metrics" });

export const FlagsSchema = z
  .object({
    flags: z.record(z.string(), z.boolean()),
    revision: z
      .string()
      .meta({ description: "a short hash of the content the flags came from ('' for none)" }),
    loadedAt: z.iso.datetime().nullable(),
    source: z.string().nullable().meta({ description: 'FEATURE_FLAGS_FILE' }),
    appliedFrom: z.enum(['file', 'feed', 'defaults']),
    watch: z.object({ from: z.string(), live: z.boolean(), restarts: z.number().int() }).nullable(),
  })
  .meta({ id: 'Flags' });
