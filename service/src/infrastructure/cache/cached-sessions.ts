// The session and revoked-token lookups that authentication makes on every request, read through the
// two-tier cache. Every write goes to the database first, then drops the cached entry on every
// replica (TieredCache.delete broadcasts), so a logout, a session revocation or a refresh rotation
// takes effect on the next request everywhere. The `authCache` flag turns this off at run time.
import type {
  RevocationStore,
  NewSession,
  Session,
  SessionRepository,
} from '../../domain/sessions/session.js';
import type { Clock, FeatureFlags } from '../../domain/shared/ports.js';
import type { TieredCache } from '../redis/cache.js';

const sessionKey = (id: string) => `session:${id}`;
const revokedKey = (jti: string) => `revoked:${jti}`;

// Dates come back from Redis as ISO strings.
function revive(s: Session): Session {
  return {
    ...s,
    createdAt: new Date(s.createdAt),
    lastUsedAt: new Date(s.lastUsedAt),
    expiresAt: new Date(s.expiresAt),
    revokedAt: s.revokedAt === null ? null : new Date(s.revokedAt),
    rotatedAt: s.rotatedAt ? new Date(s.rotatedAt) : null,
  };
}

export class CachedSessionRepository implements SessionRepository {
  constructor(
    private readonly inner: SessionRepository,
    private readonly cache: TieredCache,
    private readonly flags: FeatureFlags,
  ) {}

  private get cacheOn(): boolean {
    return this.flags.isEnabled('authCache');
  }

  create(session: NewSession): Promise<Session> {
    return this.inner.create(session);
  }

  async findById(id: string): Promise<Session | null> {
    if (!this.cacheOn) return this.inner.findById(id);
    const session = await this.cache.getOrLoad<Session>(
      sessionKey(id),
      async () => (await this.inner.findById(id)) ?? undefined,
    );
    return session ? revive(session) : null;
  }

  findStored(id: string): Promise<Session | null> {
    return this.inner.findStored(id);
  }

  async rotate(
    id: string,
    expectedJti: string,
    next: { jti: string; rotatedAt: Date; expiresAt: Date },
  ): Promise<boolean> {
    const rotated = await this.inner.rotate(id, expectedJti, next);
    if (rotated) await this.cache.delete(sessionKey(id));
    return rotated;
  }

  async revokeAllOfUser(userId: string, reason: string, exceptId?: string): Promise<string[]> {
    const ids = await this.inner.revokeAllOfUser(userId, reason, exceptId);
    for (const id of ids) await this.cache.delete(sessionKey(id));
    return ids;
  }

  async revoke(id: string, reason: string): Promise<boolean> {
    const revoked = await this.inner.revoke(id, reason);
    // Dropped even when nothing changed: a stale copy must not outlive a revocation attempt.
    await this.cache.delete(sessionKey(id));
    return revoked;
  }

  listActive(userId: string, now: Date): Promise<Session[]> {
    return this.inner.listActive(userId, now);
  }
}

// Revoked access-token ids: a positive entry lives until the token would have expired anyway; a
// "not revoked" answer is cached only for the negative TTL and dropped on every replica by revoke().
export class CachedRevocationStore implements RevocationStore {
  constructor(
    private readonly inner: RevocationStore,
    private readonly cache: TieredCache,
    private readonly flags: FeatureFlags,
    private readonly clock: Clock,
  ) {}

  async revoke(jti: string, expiresAt: Date): Promise<void> {
    await this.inner.revoke(jti, expiresAt);
    const key = revokedKey(jti);
    // delete broadcasts, so other replicas drop a cached "not revoked"; then the shared tier says yes.
    await this.cache.delete(key);
    const ttlSeconds = Math.ceil((expiresAt.getTime() - this.clock.now().getTime()) / 1000);
    if (ttlSeconds > 0) await this.cache.set(key, true, ttlSeconds);
  }

  async isRevoked(jti: string): Promise<boolean> {
    if (!this.flags.isEnabled('authCache')) return this.inner.isRevoked(jti);
    const revoked = await this.cache.getOrLoad<boolean>(revokedKey(jti), async () =>
      (await this.inner.isRevoked(jti)) ? true : undefined,
    );
    return revoked === true;
  }
}
