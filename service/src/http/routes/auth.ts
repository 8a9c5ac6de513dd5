// /api/v1/auth: login, refresh (body or httpOnly cookie + CSRF header), logout, me, sessions.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import type { AuthService, TokenPair } from '../../domain/auth/auth.service.js';
import type { SessionsService } from '../../domain/sessions/sessions.service.js';
import type { UsersService } from '../../domain/users/users.service.js';
import type { User } from '../../domain/users/user.js';
import { authenticate, principalOf } from '../middleware/authenticate.js';
import { HttpProblem } from '../problem.js';
import { LoginBody, RefreshBody, SessionIdParams } from '../schemas/auth.js';
import { parse } from '../validation.js';

export const REFRESH_COOKIE = 'esp_refresh';
export const CSRF_COOKIE = 'esp_csrf';
export const CSRF_HEADER = 'x-csrf-token';
// Marks a client that logged in before (the login limits of docs/security.md); sent to login only.
export const DEVICE_COOKIE = 'esp_device';
const AUTH_PATH = '/api/v1/auth';

export interface AuthRouteDeps {
  auth: AuthService;
  sessions: SessionsService;
  users: UsersService;
  cookies: { enabled: boolean; secure: boolean };
  deviceTtlSeconds: number;
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function authRoutes({ auth, sessions, users, cookies, deviceTtlSeconds }: AuthRouteDeps): Router {
  const router = Router();

  // Double-submit CSRF protection: the refresh cookie is httpOnly and SameSite=Strict, and a
  // cookie-based refresh must also echo the readable CSRF cookie in a header.
  function sendTokens(res: Response, tokens: TokenPair, user?: User, deviceToken?: string) {
    let csrfToken: string | undefined;
    if (cookies.enabled) {
      csrfToken = randomBytes(24).toString('base64url');
      const common = {
        secure: cookies.secure,
        sameSite: 'strict' as const,
        expires: tokens.refreshExpiresAt,
      };
      res.cookie(REFRESH_COOKIE, tokens.refreshToken, { ...common, httpOnly: true, path: AUTH_PATH });
      res.cookie(CSRF_COOKIE, csrfToken, { ...common, httpOnly: false, path: '/' });
      if (deviceToken) {
        res.cookie(DEVICE_COOKIE, deviceToken, {
          ...common,
          expires: new Date(Date.now() + deviceTtlSeconds * 1000),
          httpOnly: true,
          path: `${AUTH_PATH}/login`,
        });
      }
    }
    res.setHeader('Cache-Control', 'no-store');
    res.status(200).json({
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      tokenType: tokens.tokenType,
      expiresIn: tokens.expiresIn,
      sessionId: tokens.sessionId,
      ...(csrfToken ? { csrfToken } : {}),
      ...(deviceToken ? { deviceToken } : {}),
      ...(user
        ? {
            user: {
              ...user,
              createdAt: user.createdAt.toISOString(),
              updatedAt: user.updatedAt.toISOString(),
            },
          }
        : {}),
    });
  }

  function refreshTokenFrom(req: Request): string {
    const body = parse(RefreshBody, req.body ?? {}, 'body');
    if (body.refreshToken) return body.refreshToken;
    const fromCookie = (req.cookies as Record<string, string | undefined>)[REFRESH_COOKIE];
    if (!cookies.enabled || !fromCookie) {
      throw new HttpProblem('unauthorized', 'send refreshToken in the body or the refresh cookie');
    }
    const header = req.get(CSRF_HEADER);
    const expected = (req.cookies as Record<string, string | undefined>)[CSRF_COOKIE];
    if (!header || !expected || !sameToken(header, expected)) {
      throw new HttpProblem(
        'csrf-failed',
        `a cookie-authenticated refresh needs the ${CSRF_COOKIE} cookie value in ${CSRF_HEADER}`,
      );
    }
    return fromCookie;
  }

  router.post('/login', async (req, res) => {
    const body = parse(LoginBody, req.body, 'body');
    const { tokens, user, deviceToken } = await auth.login(body.email, body.password, {
      ip: req.ip ?? 'unknown',
      userAgent: req.get('user-agent'),
      deviceToken: body.deviceToken ?? (req.cookies as Record<string, string | undefined>)[DEVICE_COOKIE],
    });
    sendTokens(res, tokens, user, deviceToken);
  });

  router.post('/refresh', async (req, res) => {
    sendTokens(res, await auth.refresh(refreshTokenFrom(req)));
  });

  const requireAuth = authenticate(auth);

  router.post('/logout', requireAuth, async (req, res) => {
    await auth.logout(principalOf(req, res));
    if (cookies.enabled) {
      res.clearCookie(REFRESH_COOKIE, { path: AUTH_PATH });
      res.clearCookie(CSRF_COOKIE, { path: '/' });
    }
    res.status(204).end();
  });

  router.get('/me', requireAuth, async (req, res) => {
    const principal = principalOf(req, res);
    const user = await users.get(principal, principal.id);
    res.json({ ...user, createdAt: user.createdAt.toISOString(), updatedAt: user.updatedAt.toISOString() });
  });

  router.get('/sessions', requireAuth, async (req, res) => {
    const list = await sessions.list(principalOf(req, res));
    res.json({
      items: list.map((s) => ({
        ...s,
        createdAt: s.createdAt.toISOString(),
        lastUsedAt: s.lastUsedAt.toISOString(),
        expiresAt: s.expiresAt.toISOString(),
      })),
    });
  });

  router.delete('/sessions/:id', requireAuth, async (req, res) => {
    const { id } = parse(SessionIdParams, req.params, 'params');
    await sessions.revoke(principalOf(req, res), id);
    res.status(204).end();
  });

  return router;
}
