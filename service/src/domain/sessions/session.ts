// A login session: the chain of refresh tokens issued from one login.
export interface Session {
  id: string;
  userId: string;
  // jti of the one refresh token of this session that may still be used.
  currentJti: string;
  // The token currentJti replaced, and when: presented again within the grace window, it gets
  // the pair that rotation issued (two tabs refreshing at once), after it, it ends the session.
  previousJti: string | null;
  rotatedAt: Date | null;
  userAgent: string | null;
  ip: string | null;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
}

export type NewSession = Pick<Session, 'id' | 'userId' | 'currentJti' | 'userAgent' | 'ip' | 'expiresAt'>;

export interface SessionRepository {
  create(session: NewSession): Promise<Session>;
  findById(id: string): Promise<Session | null>;
  // The stored session, never a cached copy (to decide what a lost compare-and-set means).
  findStored(id: string): Promise<Session | null>;
  // Compare-and-set: moves the session to next.jti only if it still holds expectedJti and is live.
  rotate(
    id: string,
    expectedJti: string,
    next: { jti: string; rotatedAt: Date; expiresAt: Date },
  ): Promise<boolean>;
  revoke(id: string, reason: string): Promise<boolean>;
  // Ends every live session of the user but `exceptId`; answers the ids it ended.
  revokeAllOfUser(userId: string, reason: string, exceptId?: string): Promise<string[]>;
  listActive(userId: string, now: Date): Promise<Session[]>;
}

// Access-token ids revoked before they expire (logout).
export interface RevocationStore {
  revoke(jti: string, expiresAt: Date): Promise<void>;
  isRevoked(jti: string): Promise<boolean>;
}

export function isLive(session: Session, now: Date): boolean {
  return session.revokedAt === null && session.expiresAt.getTime() > now.getTime();
}
