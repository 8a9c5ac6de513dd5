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
  issuedAt: Date;
  expiresAt: Date;
}

// Given the same id and issue time (whole seconds), a token is signed again byte for byte.
export interface TokenIdentity {
  jti: string;
  issuedAt: Date;
}

export interface TokenService {
  signAccess(claims: { sub: string; sid: string; role: Role }, identity?: TokenIdentity): SignedToken;
  signRefresh(claims: { sub: string; sid: string }, identity?: TokenIdentity): SignedToken;
  // Marks a browser or client that logged in as `sub` (the lower-cased e-mail) before.
  signDevice(claims: { sub: string }): SignedToken;
  // All three throw UnauthorizedError for any token that is not valid for that purpose.
  verifyAccess(token: string): AccessClaims;
  verifyRefresh(token: string): RefreshClaims;
  verifyDevice(token: string): { sub: string; jti: string };
  accessTtlSeconds: number;
}

// Brute-force protection for login. An attempt is reserved before the password is verified, so
// N parallel guesses never verify more than the limit allows; a failure keeps its reservation.
export interface LoginThrottle {
  // Throws TooManyRequestsError while blocked. `trustedDevice` is the id of a device this username
  // logged in from before (a valid device token): it is limited on its own, not by the address.
  reserve(username: string, ip: string, trustedDevice?: string): Promise<LoginAttempt>;
}

export interface LoginAttempt {
  // The password matched: the consecutive-failure count restarts and the attempt is given back.
  succeeded(): Promise<void>;
  // The password was never verified (no capacity): the attempt is given back.
  cancelled(): Promise<void>;
}

// The account behind a token, read on every authenticated request: the adapter may serve it from a
// cache, provided a deactivation or a role change reaches every replica before the next request.
export interface AccountLookup {
  findAccount(id: string): Promise<Pick<User, 'id' | 'role' | 'status'> | null>;
}
