// /api/v1/users: list, get, create, replace, patch, delete with ETag/If-Match concurrency.
import { Router, type Request, type Response } from 'express';
import { PreconditionFailedError, PreconditionRequiredError } from '../../domain/shared/errors.js';
import type { SortField, User, UserListQuery } from '../../domain/users/user.js';
import type { UsersService } from '../../domain/users/users.service.js';
import { HttpProblem } from '../problem.js';
import { IdParams } from '../schemas/common.js';
import { IF_MATCH_PATTERN, ListUsersQuery, type UserBodies } from '../schemas/users.js';
import { parse } from '../validation.js';
import { principalOf } from '../middleware/authenticate.js';

export const etagOf = (user: Pick<User, 'version'>) => `"${user.version}"`;

// The version a write is based on: If-Match ("3" or W/"3") or the body's version field.
function expectedVersion(req: Request, bodyVersion: number | undefined): number | undefined {
  const header = req.get('if-match');
  if (header === undefined) return bodyVersion;
  const m = IF_MATCH_PATTERN.exec(header.trim());
  if (!m) throw new HttpProblem('validation-error', 'If-Match must be an ETag of this API, like "3"');
  const version = Number(m[1] ?? m[2]);
  if (bodyVersion !== undefined && bodyVersion !== version) {
    // At most one of the two can be the current version, so the write's precondition fails.
    throw new PreconditionFailedError(
      `If-Match names version ${version} and the body version ${bodyVersion}: at least one is stale`,
    );
  }
  return version;
}

function requireVersion(version: number | undefined): number {
  if (version === undefined) {
    throw new PreconditionRequiredError('send If-Match with the ETag from GET, or the version field');
  }
  return version;
}

function serialize(user: User) {
  return { ...user, createdAt: user.createdAt.toISOString(), updatedAt: user.updatedAt.toISOString() };
}

function sendUser(res: Response, user: User, status = 200) {
  res.status(status).setHeader('ETag', etagOf(user)).json(serialize(user));
}

function listLinks(
  base: string,
  query: Record<string, unknown>,
  limit: number,
  offset: number,
  total: number,
) {
  const link = (o: number) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query))
      if (v !== undefined && k !== 'offset' && k !== 'limit') params.set(k, String(v));
    params.set('limit', String(limit));
    params.set('offset', String(o));
    return `${base}?${params.toString()}`;
  };
  const lastOffset = total === 0 ? 0 : Math.floor((total - 1) / limit) * limit;
  return {
    self: link(offset),
    first: link(0),
    last: link(lastOffset),
    ...(offset + limit < total ? { next: link(offset + limit) } : {}),
    ...(offset > 0 ? { prev: link(Math.max(0, offset - limit)) } : {}),
  };
}

export function userRoutes(
  users: UsersService,
  { CreateUserBody, ReplaceUserBody, PatchUserBody }: UserBodies,
): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const q = parse(ListUsersQuery, req.query, 'query');
    const sort = q.sort.split(',').map((s) => ({
      field: s.replace(/^-/, '') as SortField,
      direction: s.startsWith('-') ? ('desc' as const) : ('asc' as const),
    }));
    const query: UserListQuery = {
      limit: q.limit,
      offset: q.offset,
      sort,
      filter: { role: q.role, status: q.status, email: q.email, nameContains: q.name },
    };
    const { items, total } = await users.list(principalOf(req, res), query);
    res.json({
      items: items.map(serialize),
      total,
      limit: q.limit,
      offset: q.offset,
      links: listLinks(req.baseUrl, q, q.limit, q.offset, total),
    });
  });

  router.post('/', async (req, res) => {
    const body = parse(CreateUserBody, req.body, 'body');
    const user = await users.create(principalOf(req, res), body);
    res.setHeader('Location', `${req.baseUrl}/${user.id}`);
    sendUser(res, user, 201);
  });

  router.get('/:id', async (req, res) => {
    const { id } = parse(IdParams, req.params, 'params');
    sendUser(res, await users.get(principalOf(req, res), id));
  });

  router.put('/:id', async (req, res) => {
    const { id } = parse(IdParams, req.params, 'params');
    const { version, ...body } = parse(ReplaceUserBody, req.body, 'body');
    const expected = requireVersion(expectedVersion(req, version));
    sendUser(res, await users.update(principalOf(req, res), id, expected, body));
  });

  router.patch('/:id', async (req, res) => {
    const { id } = parse(IdParams, req.params, 'params');
    const { version, ...body } = parse(PatchUserBody, req.body, 'body');
    const expected = requireVersion(expectedVersion(req, version));
    sendUser(res, await users.update(principalOf(req, res), id, expected, body));
  });

  router.delete('/:id', async (req, res) => {
    const { id } = parse(IdParams, req.params, 'params');
    await users.delete(principalOf(req, res), id, expectedVersion(req, undefined));
    res.status(204).end();
  });

  return router;
}
