// What authentication needs from infrastructure: token signing and login throttling.
import type { Role, User } from '../users/user.js';

export interface AccessClaims {
  sub: string;
  sid: string;
  jti: string;
  role: Role;
  exp: number;
}

export interface RefreshClaims {
  sub: string;
  sid: string;
  jti: string;
  exp: number;
}

export interface SignedToken {
  token: string;
  jti: string;
  expiresAt: Date;
}

export interface TokenService {
  signAccess(claims: { sub: string; sid: string; role: Role }): SignedToken;
  signRefresh(claims: { sub: string; sid: string }): SignedToken;
  // Both throw UnauthorizedError for any token that is not valid for that purpose.
  verifyAccess(token: string): AccessClaims;
  verifyRefresh(token: string): RefreshClaims;
  accessTtlSeconds: number;
}

// Brute-force protection for login (consecutive failures per user+IP, and per IP per day).
export interface LoginThrottle {
  // Throws TooManyRequestsError while blocked.
  check(username: string, ip: string): Promise<void>;
  failed(username: string, ip: string): Promise<void>;
  succeeded(username: string, ip: string): Promise<void>;
}

// The account behind a token, read on every authenticated request: the adapter may serve it from a
// cache, provided a deactivation or a role change reaches every replica before the next request.
export interface AccountLookup {
  findAccount(id: string): Promise<Pick<User, 'id' | 'role' | 'status'> | null>;
}
