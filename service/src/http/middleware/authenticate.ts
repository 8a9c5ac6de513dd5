// Bearer authentication: verifies the access token and puts the principal on res.locals.
import type { Request, RequestHandler, Response } from 'express';
import type { AuthService, Principal } from '../../domain/auth/auth.service.js';
import { UnauthorizedError } from '../../domain/shared/errors.js';
import { requestContext } from '../../infrastructure/logging/request-context.js';

export function authenticate(auth: AuthService): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    // Auth schemes are case-insensitive (RFC 9110, section 11.1).
    const match = header ? /^bearer +([\w-]+\.[\w-]+\.[\w-]*)$/i.exec(header) : null;
    if (!match?.[1]) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new UnauthorizedError('send an access token as "Authorization: Bearer <token>"');
    }
    const principal = await auth.authenticate(match[1]);
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
