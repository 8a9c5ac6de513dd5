// The OpenAPI 3.1 document, generated from the same zod schemas that validate requests; /docs
// renders it (api-docs.ts).
import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { LoginBody, RefreshBody, SessionIdParams, SessionSchema, TokenResponse } from './schemas/auth.js';
import { HealthSchema, IdParams, ProblemSchema } from './schemas/common.js';
import {
  CreateUserBody,
  ListUsersQuery,
  PatchUserBody,
  ReplaceUserBody,
  UserListSchema,
  UserSchema,
} from './schemas/users.js';

const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});
const etagHeader = z.object({ ETag: z.string().meta({ description: 'the version, for If-Match' }) });
const ifMatch = z.object({
  'If-Match': z.string().optional().meta({ description: 'ETag from GET, e.g. "3"' }),
});

export function buildOpenApiDocument(info: { title: string; version: string }) {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
  });
  const secured = [{ [bearer.name]: [] }];
  const common = {
    400: problem('invalid request'),
    401: problem('missing or invalid token'),
    403: problem('not allowed'),
    429: problem('rate limited'),
    503: problem('a dependency is down'),
  };
  const route = (r: RouteConfig) => registry.registerPath(r);

  for (const [path, summary] of [
    ['/startup', 'startup probe: 200 once boot is done'],
    ['/live', 'liveness probe'],
    ['/ready', 'readiness probe: 503 while draining or when a critical dependency is down'],
    ['/health', 'aggregate health with service, region and zone'],
  ] as const) {
    route({
      method: 'get',
      path,
      tags: ['health'],
      summary,
      responses: { 200: json(HealthSchema.partial(), 'ok'), 503: json(HealthSchema.partial(), 'not ok') },
    });
  }
  route({
    method: 'get',
    path: '/api/test',
    tags: ['health'],
    summary: 'smoke test',
    responses: { 200: json(z.object({ message: z.string() }).loose(), 'ok') },
  });

  route({
    method: 'post',
    path: '/api/v1/auth/login',
    tags: ['auth'],
    summary: 'log in: access + refresh token, and the refresh cookie',
    request: { body: json(LoginBody, 'credentials') },
    responses: { 200: json(TokenResponse, 'tokens'), 400: common[400], 401: common[401], 429: common[429] },
  });
  route({
    method: 'post',
    path: '/api/v1/auth/refresh',
    tags: ['auth'],
    summary: 'rotate the refresh token; reuse of an old one revokes the session',
    request: {
      body: json(RefreshBody, 'the refresh token, or empty to use the cookie'),
      headers: z.object({ 'X-CSRF-Token': z.string().optional() }),
    },
    responses: {
      200: json(TokenResponse, 'new tokens'),
      401: common[401],
      403: problem('CSRF check failed'),
    },
  });
  route({
    method: 'post',
    path: '/api/v1/auth/logout',
    tags: ['auth'],
    summary: 'revoke the access token and end its session',
    security: secured,
    responses: { 204: { description: 'logged out' }, 401: common[401] },
  });
  route({
    method: 'get',
    path: '/api/v1/auth/me',
    tags: ['auth'],
    summary: 'the authenticated user',
    security: secured,
    responses: { 200: json(UserSchema, 'me'), 401: common[401] },
  });
  route({
    method: 'get',
    path: '/api/v1/auth/sessions',
    tags: ['auth'],
    summary: 'my live sessions',
    security: secured,
    responses: { 200: json(z.object({ items: z.array(SessionSchema) }), 'sessions'), 401: common[401] },
  });
  route({
    method: 'delete',
    path: '/api/v1/auth/sessions/{id}',
    tags: ['auth'],
    summary: 'end one of my sessions',
    security: secured,
    request: { params: SessionIdParams },
    responses: { 204: { description: 'revoked' }, 404: problem('no such session') },
  });

  route({
    method: 'get',
    path: '/api/v1/users',
    tags: ['users'],
    summary: 'list users (admin): pagination, filters, sorting',
    security: secured,
    request: { query: ListUsersQuery },
    responses: {
      200: json(UserListSchema, 'a page of users'),
      400: common[400],
      401: common[401],
      403: common[403],
    },
  });
  route({
    method: 'post',
    path: '/api/v1/users',
    tags: ['users'],
    summary: 'create a user (admin)',
    security: secured,
    request: { body: json(CreateUserBody, 'the new user') },
    responses: {
      201: { ...json(UserSchema, 'created'), headers: etagHeader },
      400: common[400],
      403: common[403],
      409: problem('e-mail taken'),
      422: problem('a business rule was violated'),
    },
  });
  route({
    method: 'get',
    path: '/api/v1/users/{id}',
    tags: ['users'],
    summary: 'get a user (admin, or oneself)',
    security: secured,
    request: { params: IdParams },
    responses: {
      200: { ...json(UserSchema, 'the user'), headers: etagHeader },
      403: common[403],
      404: problem('no such user'),
    },
  });
  for (const [method, body, summary] of [
    ['put', ReplaceUserBody, 'replace a user'],
    ['patch', PatchUserBody, 'change some fields of a user'],
  ] as const) {
    route({
      method,
      path: '/api/v1/users/{id}',
      tags: ['users'],
      summary: `${summary} (admin, or oneself without role/status)`,
      security: secured,
      request: { params: IdParams, headers: ifMatch, body: json(body, 'the changes') },
      responses: {
        200: { ...json(UserSchema, 'updated'), headers: etagHeader },
        400: common[400],
        403: common[403],
        404: problem('no such user'),
        409: problem('e-mail taken'),
        412: problem('stale version'),
        422: problem('a business rule was violated'),
        428: problem('no version given'),
      },
    });
  }
  route({
    method: 'delete',
    path: '/api/v1/users/{id}',
    tags: ['users'],
    summary: 'delete a user (admin)',
    security: secured,
    request: { params: IdParams, headers: ifMatch },
    responses: {
      204: { description: 'deleted' },
      403: common[403],
      404: problem('no such user'),
      412: problem('stale version'),
      422: problem('last admin'),
    },
  });

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      ...info,
      description:
        'Users, JWT auth with refresh rotation, RBAC and business rules. Errors are application/problem+json (RFC 9457).',
    },
    servers: [{ url: '/' }],
  });
}
