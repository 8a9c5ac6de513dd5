// The OpenAPI 3.1 document of every route the app mounts, generated from the same zod schemas that
// validate requests (the config-dependent ones are the very objects the routes use); /docs renders
// it (api-docs.ts). Each operation lists every status it can answer: the ones its handler sends,
// plus those that follow from what it takes and who may call it (see `operation` below).
import {
  OpenAPIRegistry,
  OpenApiGeneratorV31,
  type ResponseConfig,
  type RouteConfig,
} from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import type { Config } from '../config/config.js';
import { LoginBody, RefreshBody, SessionIdParams, SessionSchema, TokenResponse } from './schemas/auth.js';
import {
  HealthSchema,
  IdParams,
  LiveSchema,
  ProblemSchema,
  ReadySchema,
  StartupSchema,
} from './schemas/common.js';
import {
  CacheEntrySchema,
  CacheStoredSchema,
  ChannelParams,
  DemoLimitSchema,
  type DistributedBodies,
  FlagsSchema,
  KeyParams,
  LockGrantSchema,
  MetricsJsonSchema,
  PublishedSchema,
  RedisStatusSchema,
  SanitizedConfigSchema,
  ServiceInfoSchema,
} from './schemas/distributed.js';
import {
  IfMatchHeaders,
  ListUsersQuery,
  type UserBodies,
  UserListSchema,
  UserSchema,
} from './schemas/users.js';

export interface OpenApiInput {
  title: string;
  version: string;
  config: Pick<Config, 'metrics'>;
  users: UserBodies;
  distributed: DistributedBodies;
}

const json = (schema: z.ZodType, description: string): ResponseConfig => ({
  description,
  content: { 'application/json': { schema } },
});
const problem = (description: string): ResponseConfig => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});
const text = (type: string, description: string): ResponseConfig => ({
  description,
  content: { [type]: { schema: z.string() } },
});
// required: false where the handler reads a missing body as {}.
const body = (schema: z.ZodType, description: string, required = true) => ({
  description,
  required,
  content: { 'application/json': { schema } },
});
const retryAfter = z.object({
  'Retry-After': z.string().regex(/^\d+$/).meta({ description: 'seconds to wait' }),
});
const etagHeader = z.object({ ETag: z.string().meta({ description: 'the version, for If-Match' }) });

// Who may call an operation: anyone; anyone, an admin token showing more; an authenticated user;
// an admin only.
type Access = 'anyone' | 'optional' | 'user' | 'admin';

interface Operation extends Omit<RouteConfig, 'tags'> {
  tag: string;
  access: Access;
  // Behind the per-client rate limit (everything but the probes and the scrape endpoints).
  limited: boolean;
  // Reads the database or Redis, which can be unreachable (an authenticated call reads the
  // revoked-token list).
  dependency?: boolean;
}

export function buildOpenApiDocument({ title, version, config, users, distributed }: OpenApiInput) {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'the accessToken of POST /api/v1/auth/login or /refresh',
  });
  const refreshCookie = registry.registerComponent('securitySchemes', 'refreshCookie', {
    type: 'apiKey',
    in: 'cookie',
    name: 'esp_refresh',
    description: 'the httpOnly cookie set by login; with it, X-CSRF-Token must echo the esp_csrf cookie',
  });
  const { CreateUserBody: CreateUser, ReplaceUserBody: ReplaceUser, PatchUserBody: PatchUser } = users;

  const operation = ({ tag, access, limited, dependency, ...route }: Operation) => {
    const r = route.request;
    const validated = Boolean(r?.body || r?.params || r?.query || r?.headers);
    const implied: Record<string, ResponseConfig | undefined> = {
      ...(validated ? { 400: problem('the request is not valid (validation-error, malformed-json)') } : {}),
      ...(r?.body ? { 413: problem('the body is larger than BODY_LIMIT') } : {}),
      // requireJsonBody refuses a body of another type on POST, PUT and PATCH; on a DELETE such a
      // body is not read, so it answers the 400 of a missing one.
      ...(r?.body && route.method !== 'delete' ? { 415: problem('the body is not application/json') } : {}),
      ...(access === 'user' || access === 'admin'
        ? { 401: problem('no token, or an invalid, expired or revoked one') }
        : {}),
      ...(access === 'admin' ? { 403: problem('the token is not an administrator’s') } : {}),
      ...(limited
        ? { 429: { ...problem('rate limited (RATE_LIMIT_*): retry after Retry-After'), headers: retryAfter } }
        : {}),
      ...(dependency || access === 'user' || access === 'admin'
        ? { 503: problem('the database (or Redis, where needed) is not reachable') }
        : {}),
    };
    const security =
      route.security ??
      (access === 'user' || access === 'admin'
        ? [{ [bearer.name]: [] }]
        : access === 'optional'
          ? [{}, { [bearer.name]: [] }]
          : undefined);
    registry.registerPath({
      ...route,
      tags: [tag],
      ...(security ? { security } : {}),
      responses: Object.fromEntries(
        Object.entries({ ...implied, ...route.responses }).filter(
          (e): e is [string, ResponseConfig] => e[1] !== undefined,
        ),
      ),
    });
  };

  // Probes: never rate limited, and /live touches nothing.
  operation({
    method: 'get',
    path: '/startup',
    tag: 'health',
    summary: 'startup probe: 200 once boot (migrations, bootstrap) is done',
    access: 'anyone',
    limited: false,
    responses: { 200: json(StartupSchema, 'started'), 503: json(StartupSchema, 'still starting') },
  });
  for (const prefix of ['', '/distributed']) {
    operation({
      method: 'get',
      path: `${prefix}/live`,
      tag: 'health',
      summary: 'liveness probe: the event loop answers; dependencies never fail it',
      access: 'anyone',
      limited: false,
      responses: { 200: json(LiveSchema, 'alive') },
    });
    operation({
      method: 'get',
      path: `${prefix}/ready`,
      tag: 'health',
      summary: 'readiness probe: 503 while draining or when a critical check fails; checks for admins',
      access: 'optional',
      limited: false,
      responses: { 200: json(ReadySchema, 'ready'), 503: json(ReadySchema, 'not ready') },
    });
    operation({
      method: 'get',
      path: `${prefix}/health`,
      tag: 'health',
      summary: 'aggregate health; service, region, zone and checks for admins',
      access: 'optional',
      limited: false,
      responses: { 200: json(HealthSchema, 'up or degraded'), 503: json(HealthSchema, 'down') },
    });
  }
  operation({
    method: 'get',
    path: '/api/test',
    tag: 'health',
    summary: 'smoke test: answers without touching a dependency',
    access: 'anyone',
    limited: false,
    responses: {
      200: json(z.object({ message: z.string() }).loose(), 'ok'),
      503: problem('still starting'),
    },
  });

  // Scrape and operations endpoints (observabilityRoutes), in front of the rate limit.
  const m = config.metrics;
  if (m.enabled && m.port === undefined) {
    for (const path of new Set([m.path, '/distributed/metrics'])) {
      operation({
        method: 'get',
        path,
        tag: 'operations',
        summary: 'Prometheus metrics (text exposition format)',
        access: 'anyone',
        limited: false,
        responses: { 200: text('text/plain', 'the metrics') },
      });
    }
  }
  if (m.enabled) {
    operation({
      method: 'get',
      path: '/distributed/metrics/json',
      tag: 'operations',
      summary: 'the metrics as JSON',
      access: 'admin',
      limited: false,
      responses: { 200: json(MetricsJsonSchema, 'the metrics') },
    });
  }
  operation({
    method: 'get',
    path: '/distributed/config',
    tag: 'operations',
    summary: 'the running configuration, secrets masked',
    access: 'admin',
    limited: false,
    responses: { 200: json(SanitizedConfigSchema, 'the configuration') },
  });
  operation({
    method: 'get',
    path: '/distributed/info',
    tag: 'operations',
    summary: 'build and instance information',
    access: 'admin',
    limited: false,
    responses: { 200: json(ServiceInfoSchema, 'the build and instance') },
  });

  operation({
    method: 'get',
    path: '/openapi.json',
    tag: 'docs',
    summary: 'this document',
    access: 'anyone',
    limited: true,
    responses: { 200: json(z.record(z.string(), z.unknown()), 'the OpenAPI 3.1 document') },
  });
  for (const [path, type, summary] of [
    ['/docs', 'text/html', 'Swagger UI rendering this document'],
    ['/docs/init.js', 'text/javascript', "Swagger UI's initializer"],
    ['/docs/swagger-ui.css', 'text/css', "Swagger UI's stylesheet"],
    ['/docs/swagger-ui-bundle.js', 'text/javascript', 'Swagger UI'],
    ['/docs/favicon-32x32.png', 'image/png', "Swagger UI's icon"],
  ] as const) {
    operation({
      method: 'get',
      path,
      tag: 'docs',
      summary,
      access: 'anyone',
      limited: true,
      responses: { 200: text(type, 'the file') },
    });
  }

  operation({
    method: 'post',
    path: '/api/v1/auth/login',
    tag: 'auth',
    summary: 'log in: access + refresh token, and the refresh cookie',
    access: 'anyone',
    limited: true,
    dependency: true,
    request: { body: body(LoginBody, 'credentials') },
    responses: {
      200: json(TokenResponse, 'tokens'),
      401: problem('wrong e-mail or password, or a disabled user'),
      429: {
        ...problem('too many failed logins (docs/security.md): retry after Retry-After'),
        headers: retryAfter,
      },
      503: {
        ...problem('too many logins being checked, or the database is down'),
        headers: retryAfter.partial(),
      },
    },
  });
  operation({
    method: 'post',
    path: '/api/v1/auth/refresh',
    tag: 'auth',
    summary: 'rotate the refresh token; reuse of an old one revokes the session',
    access: 'anyone',
    limited: true,
    dependency: true,
    security: [{}, { [refreshCookie.name]: [] }],
    request: {
      body: body(RefreshBody, 'the refresh token, or none to use the cookie', false),
      headers: z.object({ 'X-CSRF-Token': z.string().optional().meta({ description: 'with the cookie' }) }),
    },
    responses: {
      200: json(TokenResponse, 'new tokens'),
      401: problem('no refresh token, or an invalid, expired or revoked one'),
      403: problem('cookie refresh without the matching X-CSRF-Token (csrf-failed)'),
    },
  });
  operation({
    method: 'post',
    path: '/api/v1/auth/logout',
    tag: 'auth',
    summary: 'revoke the access token and end its session',
    access: 'user',
    limited: true,
    responses: { 204: { description: 'logged out' } },
  });
  operation({
    method: 'get',
    path: '/api/v1/auth/me',
    tag: 'auth',
    summary: 'the authenticated user',
    access: 'user',
    limited: true,
    responses: { 200: json(UserSchema, 'me') },
  });
  operation({
    method: 'get',
    path: '/api/v1/auth/sessions',
    tag: 'auth',
    summary: 'my live sessions',
    access: 'user',
    limited: true,
    responses: { 200: json(z.object({ items: z.array(SessionSchema) }), 'sessions') },
  });
  operation({
    method: 'delete',
    path: '/api/v1/auth/sessions/{id}',
    tag: 'auth',
    summary: 'end one of my sessions',
    access: 'user',
    limited: true,
    request: { params: SessionIdParams },
    responses: { 204: { description: 'revoked' }, 404: problem('no such session of mine') },
  });

  // Users: authenticated, then a per-user limit as well as the per-client one.
  const userPath = '/api/v1/users/{id}';
  operation({
    method: 'get',
    path: '/api/v1/users',
    tag: 'users',
    summary: 'list users (admin): pagination, filters, sorting',
    access: 'admin',
    limited: true,
    request: { query: ListUsersQuery },
    responses: { 200: json(UserListSchema, 'a page of users') },
  });
  operation({
    method: 'post',
    path: '/api/v1/users',
    tag: 'users',
    summary: 'create a user (admin)',
    access: 'admin',
    limited: true,
    request: { body: body(CreateUser, 'the new user') },
    responses: {
      201: {
        ...json(UserSchema, 'created'),
        headers: etagHeader.extend({ Location: z.string().meta({ description: 'the new user' }) }),
      },
      409: problem('e-mail taken (case-insensitive)'),
      422: problem(
        'a business rule was violated (rule-violation naming it: password-policy, password-bytes, email-domain-allowlist)',
      ),
    },
  });
  operation({
    method: 'get',
    path: userPath,
    tag: 'users',
    summary: 'get a user (admin, or oneself)',
    access: 'user',
    limited: true,
    request: { params: IdParams },
    responses: {
      200: { ...json(UserSchema, 'the user'), headers: etagHeader },
      403: problem('another user, and not an administrator'),
      404: problem('no such user'),
    },
  });
  for (const [method, schema, summary] of [
    ['put', ReplaceUser, 'replace a user'],
    ['patch', PatchUser, 'change some fields of a user'],
  ] as const) {
    operation({
      method,
      path: userPath,
      tag: 'users',
      summary: `${summary} (admin, or oneself without role/status)`,
      access: 'user',
      limited: true,
      request: { params: IdParams, headers: IfMatchHeaders, body: body(schema, 'the changes') },
      responses: {
        200: { ...json(UserSchema, 'updated'), headers: etagHeader },
        403: problem(
          'another user without being an administrator, or an own password change without currentPassword',
        ),
        404: problem('no such user'),
        409: problem('e-mail taken'),
        412: problem('stale version'),
        422: problem(
          'a business rule was violated (password-policy, password-bytes, last-admin, role-change-by-admin-only, email-domain-allowlist)',
        ),
        428: problem('no version given: send If-Match or version'),
      },
    });
  }
  operation({
    method: 'delete',
    path: userPath,
    tag: 'users',
    summary: 'delete a user (admin)',
    access: 'admin',
    limited: true,
    request: { params: IdParams, headers: IfMatchHeaders },
    responses: {
      204: { description: 'deleted' },
      404: problem('no such user'),
      412: problem('stale version'),
      422: problem('the last active admin cannot be deleted (last-admin)'),
    },
  });

  operation({
    method: 'get',
    path: '/api/v1/events',
    tag: 'events',
    summary: 'the users’ domain events as Server-Sent Events: an admin every user’s, a user their own',
    description: [
      'A stream that stays open. Each event is `id: <cursor>`, `event: user.created|user.updated|user.deleted`',
      'and `data: {"id","type","payload":{"id","version"},"occurredAt"}`; `: heartbeat` comment lines come every',
      'EVENTS_HEARTBEAT_MS. Reconnect with `Last-Event-ID` set to the last id received (EventSource does) to get',
      'exactly the events after it. The service ends the stream with `event: close`, data `{"reason","detail"}`:',
      '`unauthorized` (token revoked or expired, session ended, account disabled or deleted; checked every',
      'EVENTS_AUTH_RECHECK_MS and at once on an event about the caller), `slow-consumer` (more than',
      'EVENTS_MAX_BUFFER_BYTES waiting unread), `shutdown` (with a `retry:` hint) or `error` (the feed is unreachable).',
    ].join(' '),
    access: 'user',
    limited: true,
    request: {
      headers: z.object({
        'Last-Event-ID': z
          .string()
          .regex(/^\d{1,20}(-\d{1,20})?$/)
          .optional()
          .meta({ description: 'the id of the last event received; 400 when it is not an id of this feed' }),
      }),
    },
    responses: { 200: text('text/event-stream', 'the event stream') },
  });
  operation({
    method: 'get',
    path: '/api/v1/flags',
    tag: 'operations',
    summary: "this replica's live feature flags and where they came from",
    access: 'anyone',
    limited: true,
    responses: { 200: json(FlagsSchema, 'the flags') },
  });

  // /distributed: the parts shared between replicas (Redis, or their in-process twins).
  operation({
    method: 'get',
    path: '/distributed/rate-limit/test',
    tag: 'distributed',
    summary: 'a demo rate limit of its own: 10 per minute per client',
    access: 'anyone',
    limited: true,
    responses: { 200: json(DemoLimitSchema, 'allowed') },
  });
  operation({
    method: 'get',
    path: '/distributed/redis/status',
    tag: 'distributed',
    summary: 'Redis connection, server facts and circuit breakers',
    access: 'admin',
    limited: true,
    responses: { 200: json(RedisStatusSchema, 'the status') },
  });
  const cachePath = '/distributed/cache/{key}';
  operation({
    method: 'get',
    path: cachePath,
    tag: 'distributed',
    summary: 'read a cache entry',
    access: 'admin',
    limited: true,
    request: { params: KeyParams },
    responses: { 200: json(CacheEntrySchema, 'the entry'), 404: problem('no such entry') },
  });
  operation({
    method: 'post',
    path: cachePath,
    tag: 'distributed',
    summary: 'store a cache entry, readable for its TTL',
    access: 'admin',
    limited: true,
    request: { params: KeyParams, body: body(distributed.CacheBody, 'the value') },
    responses: {
      201: json(CacheStoredSchema, 'stored'),
      413: problem('the body, or the value, is larger than allowed (CACHE_MAX_VALUE_BYTES)'),
    },
  });
  operation({
    method: 'delete',
    path: cachePath,
    tag: 'distributed',
    summary: 'delete a cache entry (whether or not it exists)',
    access: 'admin',
    limited: true,
    request: { params: KeyParams },
    responses: { 204: { description: 'deleted' } },
  });
  const lockPath = '/distributed/lock/{key}';
  operation({
    method: 'post',
    path: lockPath,
    tag: 'distributed',
    summary: 'acquire a fenced lock',
    access: 'admin',
    limited: true,
    request: {
      params: KeyParams,
      body: body(distributed.LockBody, 'ttl and retries, or none for the defaults', false),
    },
    responses: { 201: json(LockGrantSchema, 'granted'), 409: problem('held by someone else') },
  });
  operation({
    method: 'delete',
    path: lockPath,
    tag: 'distributed',
    summary: 'release a lock with the token of its grant',
    access: 'admin',
    limited: true,
    request: { params: KeyParams, body: body(distributed.UnlockBody, 'the grant token') },
    responses: { 204: { description: 'released' }, 409: problem('not held with this token') },
  });
  operation({
    method: 'post',
    path: '/distributed/events/{channel}',
    tag: 'distributed',
    summary: 'publish an event to the stream published.<channel>',
    access: 'admin',
    limited: true,
    request: { params: ChannelParams, body: body(distributed.EventBody, 'the event') },
    responses: { 202: json(PublishedSchema, 'published') },
  });

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title,
      version,
      description:
        'Users, JWT auth with refresh rotation, RBAC and business rules, and the operations endpoints. Errors are application/problem+json (RFC 9457); a known path asked with a method it does not have answers 405 with Allow.',
    },
    servers: [{ url: '/' }],
  });
}
