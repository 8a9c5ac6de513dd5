// Login, refresh-token rotation with reuse detection, logout and authentication of requests.
import { createHash, randomUUID } from 'node:crypto';
import { type RevocationStore, type Session, type SessionRepository, isLive } from '../sessions/session.js';
import { UnauthorizedError } from '../shared/errors.js';
import type { Clock, Logger, LoggerProvider, PasswordHasher } from '../shared/ports.js';
import { type User, type UserRepository, toPublicUser } from '../users/user.js';
import type { AccountLookup, LoginThrottle, SignedToken, TokenService } from './ports.js';

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
  // The device token a previous login of this client handed out, if it sent one.
  deviceToken?: string;
}

export interface AuthOptions {
  // How long a just-rotated refresh token still gets the pair its rotation issued, in ms.
  refreshReuseGraceMs: number;
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
    private readonly options: AuthOptions,
  ) {
    this.log = loggers.get('auth');
  }

  async login(
    email: string,
    password: string,
    client: ClientInfo,
  ): Promise<{ tokens: TokenPair; user: User; deviceToken: string }> {
    const username = email.toLowerCase();
    const device = this.trustedDevice(username, client);
    const lane = device ? 'known-device' : 'anyone';
    this.hasher.assertCapacity(lane);
    const attempt = await this.throttle.reserve(username, client.ip, device);
    const user = await this.users.findByEmail(email);
    this.dummyHash ??= this.hasher.hash(randomUUID());
    let matches: boolean;
    try {
      matches = await this.hasher.verify(password, user?.passwordHash ?? (await this.dummyHash), lane);
    } catch (err) {
      await attempt.cancelled();
      throw err;
    }
    if (!user || !matches || user.status !== 'active') {
      this.log.warn('login failed', { email: username, ip: client.ip });
      throw new UnauthorizedError(INVALID_CREDENTIALS);
    }
    await attempt.succeeded();
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
    return {
      tokens: this.pair(user, sessionId, refresh),
      user: toPublicUser(user),
      deviceToken: this.tokens.signDevice({ sub: username }).token,
    };
  }

  // The device id of a valid device token issued to this username; anything else counts as none.
  private trustedDevice(username: string, client: ClientInfo): string | undefined {
    if (!client.deviceToken) return undefined;
    try {
      const device = this.tokens.verifyDevice(client.deviceToken);
      return device.sub === username ? device.jti : undefined;
    } catch {
      return undefined;
    }
  }

  async refresh(refreshToken: string): Promise<TokenPair> {
    const claims = this.tokens.verifyRefresh(refreshToken);
    const session = await this.sessions.findById(claims.sid);
    if (!session || session.userId !== claims.sub || !isLive(session, this.clock.now())) {
      throw new UnauthorizedError('the session has ended; log in again');
    }
    // One instant for the token and the stored rotation time, so the pair can be signed again.
    const rotatedAt = this.clock.now();
    const next = this.tokens.signRefresh(
      { sub: claims.sub, sid: session.id },
      { jti: randomUUID(), issuedAt: rotatedAt },
    );
    // The compare-and-set decides, not the session read above: that read may come from a cache a
    // rotation on another replica has not reached yet.
    if (
      await this.sessions.rotate(session.id, claims.jti, {
        jti: next.jti,
        rotatedAt,
        expiresAt: next.expiresAt,
      })
    ) {
      return this.pair(await this.activeUser(claims.sub, session.id), session.id, next);
    }
    const stored = await this.sessions.findStored(session.id);
    if (stored && this.withinGrace(stored, claims.jti)) {
      // Another request rotated this very token a moment ago (two tabs): the same pair again.
      const again = this.tokens.signRefresh(
        { sub: claims.sub, sid: stored.id },
        { jti: stored.currentJti, issuedAt: stored.rotatedAt ?? this.clock.now() },
      );
      return this.pair(await this.activeUser(claims.sub, stored.id), stored.id, again);
    }
    // An already-rotated token came back: someone holds a copy. End the whole session.
    await this.sessions.revoke(session.id, 'refresh-token-reuse');
    this.log.warn('refresh token reuse detected; session revoked', {
      sessionId: session.id,
      userId: session.userId,
    });
    throw new UnauthorizedError('refresh token reuse detected; the session has been revoked');
  }

  private withinGrace(session: Session, jti: string): boolean {
    const now = this.clock.now();
    return (
      isLive(session, now) &&
      session.previousJti === jti &&
      session.rotatedAt !== null &&
      now.getTime() - session.rotatedAt.getTime() <= this.options.refreshReuseGraceMs
    );
  }

  private async activeUser(id: string, sessionId: string): Promise<User> {
    const user = await this.users.findById(id);
    if (!user || user.status !== 'active') {
      await this.sessions.revoke(sessionId, 'user-inactive');
      throw new UnauthorizedError('the account is not active');
    }
    return user;
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

  // The access token's id and issue time follow from the refresh token's, so a pair can be
  // issued again identically (the refresh grace window).
  private pair(user: User, sessionId: string, refresh: SignedToken): TokenPair {
    const access = this.tokens.signAccess(
      { sub: user.id, sid: sessionId, role: user.role },
      { jti: accessJtiOf(refresh.jti), issuedAt: refresh.issuedAt },
    );
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

function accessJtiOf(refreshJti: string): string {
  const h = createHash('sha256').update(`access:${refreshJti}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
