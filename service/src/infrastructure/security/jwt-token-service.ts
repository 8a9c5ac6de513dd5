// TokenService on jsonwebtoken: HS256 only, issuer and audience set and checked, and a typ claim
// so an access token is never accepted as a refresh token or the other way round.
import { type KeyObject, createSecretKey, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type {
  AccessClaims,
  RefreshClaims,
  SignedToken,
  TokenIdentity,
  TokenService,
} from '../../domain/auth/ports.js';
import { UnauthorizedError } from '../../domain/shared/errors.js';
import type { Clock } from '../../domain/shared/ports.js';
import { ROLES, type Role } from '../../domain/users/user.js';

const ALGORITHM = 'HS256';

export interface JwtOptions {
  secret: string;
  issuer: string;
  audience: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  deviceTtlSeconds: number;
}

type Purpose = 'access' | 'refresh' | 'device';

export class JwtTokenService implements TokenService {
  readonly accessTtlSeconds: number;
  private readonly refreshTtlSeconds: number;
  // Built once: given a string, jsonwebtoken first tries (and fails) to parse it as a PEM public key
  // on every call, which cost a few percent of an authenticated request.
  private readonly key: KeyObject;

  constructor(
    private readonly options: JwtOptions,
    private readonly clock: Clock,
  ) {
    this.accessTtlSeconds = options.accessTtlSeconds;
    this.refreshTtlSeconds = options.refreshTtlSeconds;
    this.key = createSecretKey(Buffer.from(options.secret, 'utf8'));
  }

  signAccess(claims: { sub: string; sid: string; role: Role }, identity?: TokenIdentity): SignedToken {
    return this.sign(
      { typ: 'access', sid: claims.sid, role: claims.role },
      claims.sub,
      this.accessTtlSeconds,
      identity,
    );
  }

  signRefresh(claims: { sub: string; sid: string }, identity?: TokenIdentity): SignedToken {
    return this.sign({ typ: 'refresh', sid: claims.sid }, claims.sub, this.refreshTtlSeconds, identity);
  }

  signDevice(claims: { sub: string }): SignedToken {
    return this.sign({ typ: 'device' }, claims.sub, this.options.deviceTtlSeconds);
  }

  verifyDevice(token: string): { sub: string; jti: string } {
    const p = this.verify(token, 'device');
    return { sub: p.sub, jti: p.jti };
  }

  verifyAccess(token: string): AccessClaims {
    const p = this.verify(token, 'access');
    if (typeof p.role !== 'string' || !(ROLES as readonly string[]).includes(p.role)) {
      throw new UnauthorizedError('the token is invalid');
    }
    return { sub: p.sub, sid: p.sid, jti: p.jti, exp: p.exp, role: p.role as Role };
  }

  verifyRefresh(token: string): RefreshClaims {
    const p = this.verify(token, 'refresh');
    return { sub: p.sub, sid: p.sid, jti: p.jti, exp: p.exp };
  }

  private sign(
    payload: Record<string, unknown>,
    subject: string,
    ttlSeconds: number,
    identity?: TokenIdentity,
  ): SignedToken {
    const jti = identity?.jti ?? randomUUID();
    const iat = Math.floor((identity?.issuedAt ?? this.clock.now()).getTime() / 1000);
    const token = jwt.sign({ ...payload, iat }, this.key, {
      algorithm: ALGORITHM,
      expiresIn: ttlSeconds,
      issuer: this.options.issuer,
      audience: this.options.audience,
      subject,
      jwtid: jti,
    });
    return { token, jti, issuedAt: new Date(iat * 1000), expiresAt: new Date((iat + ttlSeconds) * 1000) };
  }

  private verify(token: string, typ: Purpose) {
    let payload: jwt.JwtPayload;
    try {
      const decoded = jwt.verify(token, this.key, {
        algorithms: [ALGORITHM],
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTimestamp: Math.floor(this.clock.now().getTime() / 1000),
      });
      if (typeof decoded === 'string') throw new UnauthorizedError('the token is invalid');
      payload = decoded;
    } catch (err) {
      if (err instanceof UnauthorizedError) throw err;
      if (err instanceof jwt.TokenExpiredError) throw new UnauthorizedError('the token has expired');
      throw new UnauthorizedError('the token is invalid');
    }
    const { sub, sid, jti, exp } = payload;
    if (
      payload.typ !== typ ||
      typeof sub !== 'string' ||
      (typ !== 'device' && typeof sid !== 'string') ||
      typeof jti !== 'string' ||
      typeof exp !== 'number'
    ) {
      throw new UnauthorizedError(`not a valid ${typ} token`);
    }
    return {
      ...payload,
      sub,
      sid: typeof sid === 'string' ? sid : '',
      jti,
      exp,
      role: payload.role as unknown,
    };
  }
}
