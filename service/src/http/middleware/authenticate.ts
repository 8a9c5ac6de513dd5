// Bearer authentication: verifies the access token and puts the principal on res.locals.
import type { Request, RequestHandler, Response } from 'express';
import type { AuthService, Principal } from '../../domain/auth/auth.service.js';
import { ForbiddenError, UnauthorizedError } from '../../domain/shared/errors.js';
import { requestContext } from '../../infrastructure/logging/request-context.js';

export function bearerToken(req: Request): string | undefined {
  const header = req.get('authorization');
  // Auth schemes are case-insensitive (RFC 9110, section 11.1).
  return header ? /^bearer +([\w-]+\.[\w-]+\.[\w-]*)$/i.exec(header)?.[1] : undefined;
}

export function authenticate(auth: AuthService): RequestHandler {
  return async (req, res, next) => {
    const token = bearerToken(req);
    if (!token) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new UnauthorizedError('send an access token as "Authorization: Bearer <token>"');
    }
    const principal = await auth.authenticate(token);
    res.locals.principal = principal;
    const ctx = requestContext.getStore();
    if (ctx) ctx.userId = principal.id;
    next();
  };
}

export function principalOf(_req: Request, res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new UnauthorizedError('not authenticated');
  return principal;
}

export function requireAdmin(req: Request, res: Response): void {
  if (principalOf(req, res).role !== 'admin') throw new ForbiddenError('missing permission operations:admin');
}

// Operations endpoints: an administrator's access token, nothing less.
export function adminOnly(auth: AuthService): RequestHandler[] {
  return [
    authenticate(auth),
    (req, res, next) => {
      requireAdmin(req, res);
      next();
    },
  ];
}

// For endpoints that stay anonymous but show more to an administrator: true only for a valid
// admin token; any other credential (or none) is treated as anonymous, never as an error.
export async function isAdminRequest(auth: AuthService, req: Request): Promise<boolean> {
  const token = bearerToken(req);
  if (!token) return false;
  try {
    return (await auth.authenticate(token)).role === 'admin';
  } catch {
    return false;
  }
}
