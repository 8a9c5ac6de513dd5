// Login, refresh-token rotation with reuse detection, logout and authentication of requests.
import { randomUUID } from 'node:crypto';
import { type RevocationStore, type SessionRepository, isLive } from '../sessions/session.js';
import { UnauthorizedError } from '../shared/errors.js';
import type { Clock, Logger, LoggerProvider, PasswordHasher } from '../shared/ports.js';
import { type User, type UserRepository, toPublicUser } from '../users/user.js';
import type { AccountLookup, LoginThrottle, TokenService } from './ports.js';

export interface Principal {
  id: string;
  role: User['role'];
  sessionId: string;
  jti: string;
  expiresAt: Date;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshExpiresAt: Date;
  sessionId: string;
}

export interface ClientInfo {
  ip: string;
  userAgent?: string;
}

const INVALID_CREDENTIALS = 'invalid e-mail or password';

export class AuthService {
  private readonly log: Logger;
  // Compared against when the e-mail is unknown, so both paths cost one bcrypt verification.
  private dummyHash?: Promise<string>;

  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly revocations: RevocationStore,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenService,
    private readonly throttle: LoginThrottle,
    private readonly clock: Clock,
    loggers: LoggerProvider,
    // The account behind a token, read on every authenticated request (the adapter may cache it).
    private readonly accounts: AccountLookup,
  ) {
    this.log = loggers.get('auth');
  }

  async login(
    email: string,
    password: string,
    client: ClientInfo,
  ): Promise<{ tokens: TokenPair; user: User }> {
    const username = email.toLowerCase();
    await this.throttle.check(username, client.ip);
    const user = await this.users.findByEmail(email);
    this.dummyHash ??= this.hasher.hash(randomUUID());
    const matches = await this.hasher.verify(password, user?.passwordHash ?? (await this.dummyHash));
    if (!user || !matches || user.status !== 'active') {
      await this.throttle.failed(username, client.ip);
      this.log.warn('login failed', { email: username, ip: client.ip });
      throw new UnauthorizedError(INVALID_CREDENTIALS);
    }
    await this.throttle.succeeded(username, client.ip);
    const sessionId = randomUUID();
    const refresh = this.tokens.signRefresh({ sub: user.id, sid: sessionId });
    await this.sessions.create({
      id: sessionId,
      userId: user.id,
      currentJti: refresh.jti,
      userAgent: client.userAgent?.slice(0, 512) ?? null,
      ip: client.ip,
      expiresAt: refresh.expiresAt,
    });
    this.log.info('login', { userId: user.id, sessionId });
    return { tokens: this.pair(user, sessionId, refresh), user: toPublicUser(user) };
  }

  async refresh(refreshToken: string): Promise<TokenPair> {
    const claims = this.tokens.verifyRefresh(refreshToken);
    const session = await this.sessions.findById(claims.sid);
    if (!session || session.userId !== claims.sub || !isLive(session, this.clock.now())) {
      throw new UnauthorizedError('the session has ended; log in again');
    }
    const next = this.tokens.signRefresh({ sub: claims.sub, sid: session.id });
    // The compare-and-set decides, not the session read above: that read may come from a cache a
    // rotation on another replica has not reached yet.
    const rotated = await this.sessions.rotate(session.id, claims.jti, next.jti, next.expiresAt);
    if (!rotated) {
      // An already-rotated token came back: someone holds a copy. End the whole session.
      await this.sessions.revoke(session.id, 'refresh-token-reuse');
      this.log.warn('refresh token reuse detected; session revoked', {
        sessionId: session.id,
        userId: session.userId,
      });
      throw new UnauthorizedError('refresh token reuse detected; the session has been revoked');
    }
    const user = await this.users.findById(claims.sub);
    if (!user || user.status !== 'active') {
      await this.sessions.revoke(session.id, 'user-inactive');
      throw new UnauthorizedError('the account is not active');
    }
    return this.pair(user, session.id, next);
  }

  async authenticate(accessToken: string): Promise<Principal> {
    const claims = this.tokens.verifyAccess(accessToken);
    const [revoked, session, user] = await Promise.all([
      this.revocations.isRevoked(claims.jti),
      this.sessions.findById(claims.sid),
      this.accounts.findAccount(claims.sub),
    ]);
    if (revoked) throw new UnauthorizedError('the token has been revoked');
    if (!session || !isLive(session, this.clock.now())) throw new UnauthorizedError('the session has ended');
    if (!user || user.status !== 'active') throw new UnauthorizedError('the account is not active');
    // The role comes from the database, so a demotion takes effect on the next request.
    return {
      id: user.id,
      role: user.role,
      sessionId: session.id,
      jti: claims.jti,
      expiresAt: new Date(claims.exp * 1000),
    };
  }

  async logout(principal: Principal): Promise<void> {
    await this.revocations.revoke(principal.jti, principal.expiresAt);
    await this.sessions.revoke(principal.sessionId, 'logout');
    this.log.info('logout', { userId: principal.id, sessionId: principal.sessionId });
  }

  private pair(user: User, sessionId: string, refresh: { token: string; expiresAt: Date }): TokenPair {
    const access = this.tokens.signAccess({ sub: user.id, sid: sessionId, role: user.role });
    return {
      accessToken: access.token,
      refreshToken: refresh.token,
      tokenType: 'Bearer',
      expiresIn: this.tokens.accessTtlSeconds,
      refreshExpiresAt: refresh.expiresAt,
      sessionId,
    };
  }
}
