// /distributed/*: operator-facing endpoints for the parts shared between replicas (Redis-backed,
// or their in-process twins).
// Every endpoint but the demo rate limit needs the admin role: they reveal or change shared state.
import { Router, type RequestHandler } from 'express';
import type { AuthService } from '../../domain/auth/auth.service.js';
import { ConflictError, NotFoundError, ServiceUnavailableError } from '../../domain/shared/errors.js';
import type { Logger } from '../../domain/shared/ports.js';
import { newEvent } from '../../infrastructure/redis/event-bus.js';
import { LockBusyError } from '../../infrastructure/redis/lock.js';
import type { DistributedRuntime } from '../../runtime/distributed.js';
import { adminOnly, authenticate, requireAdmin } from '../middleware/authenticate.js';
import { clientKey, rateLimit } from '../middleware/rate-limit.js';
import { HttpProblem } from '../problem.js';
import { ChannelParams, type DistributedBodies, KeyParams } from '../schemas/distributed.js';
import { parse } from '../validation.js';

// What administrators publish goes to streams of its own, never to a domain stream (users, ...):
// a hand-made user.deleted must not be indistinguishable from the real one.
export const PUBLISHED_STREAM_PREFIX = 'published.';
const publishedStream = (channel: string) => `${PUBLISHED_STREAM_PREFIX}${channel}`;

// Serialising, caching and logging recurse into a value: a deep one would exhaust the stack.
const MAX_VALUE_DEPTH = 64;

function depthExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

// Any failure to reach Redis on a path that cannot degrade becomes a clear 503.
async function needsRedis<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof LockBusyError || err instanceof HttpProblem) throw err;
    throw new ServiceUnavailableError(
      `${what} is unavailable: Redis is not reachable (${(err as Error).message})`,
    );
  }
}

export function distributedRoutes(
  d: DistributedRuntime,
  auth: AuthService,
  log: Logger,
  bodies: DistributedBodies,
): Router {
  const router = Router();
  const limits = d.config.distributed;
  const cacheKey = (key: string) => `kv:${key}`;
  const { CacheBody, LockBody, UnlockBody, EventBody } = bodies;

  // A demo limiter of its own (10 per minute per client), so trying it never eats the real budget.
  const demo = { points: 10, durationSeconds: 60 };
  router.get(
    '/rate-limit/test',
    rateLimit({
      name: 'demo',
      limiter: d.rateLimiters.create({ keyPrefix: 'demo', ...demo }),
      ...demo,
      key: clientKey,
      enabled: () => true,
      log,
    }),
    (req, res) => {
      res.json({ allowed: true, client: clientKey(req), limit: demo, store: d.mode });
    },
  );

  const authed: RequestHandler = authenticate(auth);
  router.get('/redis/status', ...adminOnly(auth), async (_req, res) => {
    res
      .set('Cache-Control', 'no-store')
      .json({ ...(await d.status()), mode: d.mode, breakers: d.breakers.snapshot() });
  });

  router.get('/cache/:key', authed, async (req, res) => {
    requireAdmin(req, res);
    const { key } = parse(KeyParams, req.params, 'params');
    const value = await d.cache.get(cacheKey(key));
    if (value === undefined) throw new NotFoundError(`no cache entry ${key}`);
    res.json({ key, value });
  });

  router.post('/cache/:key', authed, async (req, res) => {
    requireAdmin(req, res);
    const { key } = parse(KeyParams, req.params, 'params');
    const body = parse(CacheBody, req.body, 'body');
    if (depthExceeds(body.value, MAX_VALUE_DEPTH)) {
      throw new HttpProblem('validation-error', `the value is nested deeper than ${MAX_VALUE_DEPTH} levels`);
    }
    const size = Buffer.byteLength(JSON.stringify(body.value ?? null));
    if (size > limits.cache.maxValueBytes) {
      throw new HttpProblem(
        'payload-too-large',
        `the value has ${size} bytes; the limit is ${limits.cache.maxValueBytes}`,
      );
    }
    // 201 means readable for the TTL: a write that cannot be stored is a 503, not a silent loss.
    await needsRedis('caching', () => d.cache.store(cacheKey(key), body.value ?? null, body.ttlSeconds));
    res.status(201).json({ key, ttlSeconds: body.ttlSeconds, bytes: size });
  });

  router.delete('/cache/:key', authed, async (req, res) => {
    requireAdmin(req, res);
    const { key } = parse(KeyParams, req.params, 'params');
    await d.cache.delete(cacheKey(key));
    res.status(204).end();
  });

  router.post('/lock/:key', authed, async (req, res) => {
    requireAdmin(req, res);
    const { key } = parse(KeyParams, req.params, 'params');
    const body = parse(LockBody, req.body ?? {}, 'body');
    const grant = await needsRedis('locking', () =>
      d.lock.acquire(key, {
        ttlMs: body.ttlMs,
        retries: body.retries,
        retryDelayMs: limits.lock.retryDelayMs,
        retryJitterMs: limits.lock.retryDelayMs,
      }),
    );
    if (!grant) throw new ConflictError(`lock ${key} is held by someone else`);
    res.status(201).json({
      resource: key,
      token: grant.token,
      fence: grant.fence,
      ttlMs: grant.ttlMs,
      expiresAt: new Date(grant.expiresAt).toISOString(),
    });
  });

  router.delete('/lock/:key', authed, async (req, res) => {
    requireAdmin(req, res);
    const { key } = parse(KeyParams, req.params, 'params');
    const { token } = parse(UnlockBody, req.body, 'body');
    const released = await needsRedis('locking', () => d.lock.release({ resource: key, token }));
    if (!released)
      throw new ConflictError(
        `lock ${key} is not held with this token (expired or taken over); nothing was deleted`,
      );
    res.status(204).end();
  });

  router.post('/events/:channel', authed, async (req, res) => {
    requireAdmin(req, res);
    const { channel } = parse(ChannelParams, req.params, 'params');
    const body = parse(EventBody, req.body, 'body');
    const event = newEvent(body.type, body.payload);
    const stream = publishedStream(channel);
    const streamId = await needsRedis('publishing', () => d.bus.publish(stream, event));
    res.status(202).json({ id: event.id, streamId, channel, stream });
  });

  return router;
}
